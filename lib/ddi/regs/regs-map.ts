/**
 * ddi_regs_map_setup, ddi_regs_map_free, ddi_dev_nregs, ddi_dev_regsize, ddi_check_acc_handle
 * (9F; usr/src/uts/common/os/sunddi.c, the x86 PCI nexus npe.c for the reg property and bounds).
 *
 * Statuses, as ddi_regs_map_setup(9F) lists them: DDI_ME_RNUMBER_RANGE for an rnumber with no reg
 * entry; DDI_FAILURE for an offset or length outside the register set (len 0 = to its end); and,
 * for what C cannot pass, DDI_ME_INVAL: a dip that is not one, a NULL out-pointer, an acc_attr that
 * is not a valid ddi_device_acc_attr_t. DDI_REGS_ACC_CONFLICT is never returned: nothing here makes
 * mappings exclusive (illumos x86 also maps a BAR as often as it is asked).
 */
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import { DDI_ME_INVAL, DDI_ME_RNUMBER_RANGE } from '../constants-services.ts';
import { isDevInfo, type dev_info_t } from '../dev-info.ts';
import { isInt, isOut, type Out } from '../args.ts';
import { AccHandle, lookupAcc, registerAcc, releaseAcc, validAccAttr, type ddi_acc_handle_t, type ddi_device_acc_attr_t } from './acc-handle.ts';
import { regEntries, regSize, type RegEntry } from './reg-set.ts';

/** Maps [offset, offset+len) of register set `rnumber`; `addrp.value` gets its bigint address. */
export function ddi_regs_map_setup(
  dip: dev_info_t | null, rnumber: number, addrp: Out<bigint> | null, offset: number, len: number,
  accattrp: ddi_device_acc_attr_t | null, handle: Out<ddi_acc_handle_t | null> | null,
): number {
  if (!isDevInfo(dip) || !isOut(addrp) || !isOut(handle) || !validAccAttr(accattrp)) return DDI_ME_INVAL;
  if (dip.closed || dip.device.closed) return DDI_FAILURE;
  const entries = regEntries(dip);
  if (!isInt(rnumber) || rnumber < 0 || rnumber >= entries.length) return DDI_ME_RNUMBER_RANGE;
  const entry = entries[rnumber] as RegEntry;
  const size = entry.kind === 'config' ? dip.device.config.size : regSize(entry);
  if (!isInt(offset) || !isInt(len) || offset < 0 || len < 0 || offset >= size) return DDI_FAILURE;
  const length = len === 0 ? size - offset : len;
  if (offset + length > size) return DDI_FAILURE;
  const target = entry.kind === 'config'
    ? { kind: 'config' as const, config: dip.device.config }
    : { kind: 'bar' as const, region: entry.region };
  const h = registerAcc(new AccHandle(dip, target, rnumber, offset, length, accattrp));
  addrp.value = h.base;
  handle.value = h;
  return DDI_SUCCESS;
}

/** ddi_regs_map_free(9F): releases the mapping and sets `*handle` to NULL. A foreign handle: nothing. */
export function ddi_regs_map_free(handle: Out<ddi_acc_handle_t | null> | null): void {
  if (!isOut(handle)) return;
  const h = lookupAcc(handle.value);
  if (h === null || h.target.kind === 'dma') return;
  releaseAcc(h);
  handle.value = null;
}

/** ddi_dev_nregs(9F): the number of reg entries (config space + implemented BARs). */
export function ddi_dev_nregs(dip: dev_info_t | null, resultp: Out<number> | null): number {
  if (!isDevInfo(dip) || !isOut(resultp)) return DDI_FAILURE;
  const entries = regEntries(dip);
  if (entries.length === 0) return DDI_FAILURE;
  resultp.value = entries.length;
  return DDI_SUCCESS;
}

/**
 * ddi_dev_regsize(9F): the size the reg property gives rnumber — 0 for entry 0 (config space), as
 * the PCI nexus reports it (npe.c DDI_CTLOPS_REGSIZE: pci_size_low of the entry); out of range →
 * DDI_FAILURE.
 */
export function ddi_dev_regsize(dip: dev_info_t | null, rnumber: number, resultp: Out<number> | null): number {
  if (!isDevInfo(dip) || !isOut(resultp)) return DDI_FAILURE;
  const entries = regEntries(dip);
  if (!isInt(rnumber) || rnumber < 0 || rnumber >= entries.length) return DDI_FAILURE;
  resultp.value = regSize(entries[rnumber] as RegEntry);
  return DDI_SUCCESS;
}

/**
 * ddi_check_acc_handle(9F): DDI_SUCCESS while every access through the handle has succeeded;
 * DDI_FAILURE once one has not (out of the mapping, misaligned, a bad value, the device closed — the
 * state is sticky, as the FMA error status is) and for a handle that is freed or not one.
 */
export function ddi_check_acc_handle(handle: ddi_acc_handle_t | null): number {
  const h = lookupAcc(handle);
  if (h === null || h.faults > 0 || h.dip.closed || h.dip.device.closed) return DDI_FAILURE;
  return DDI_SUCCESS;
}

