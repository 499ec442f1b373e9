/**
 * pci_config_setup, pci_config_teardown, pci_config_get8/16/32/64, pci_config_put8/16/32/64
 * (pci_config_setup(9F), pci_config_get8(9F); usr/src/uts/common/os/sunpci.c). As in sunpci.c, the
 * config handle is a register mapping of reg entry 0 (config space, little-endian, strict order),
 * so ddi_get and ddi_put and ddi_check_acc_handle work on it too, and the 64-bit accessors are two
 * 32-bit accesses, low dword first. `offset` is a byte offset into config space; a bad one is an
 * access error recorded on the handle (see regs/access.ts), never a throw.
 */
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import { DDI_DEVICE_ATTR_V0, DDI_STRICTORDER_ACC, DDI_STRUCTURE_LE_ACC } from '../constants-services.ts';
import { isOut, type Out } from '../args.ts';
import type { dev_info_t } from '../dev-info.ts';
import { lookupAcc, type ddi_acc_handle_t, type ddi_device_acc_attr_t } from '../regs/acc-handle.ts';
import { handleOf, readBig, readNumber, writeBig, writeNumber } from '../regs/access.ts';
import { ddi_regs_map_free, ddi_regs_map_setup } from '../regs/regs-map.ts';

/** The attributes sunpci.c's pci_config_setup maps config space with. */
const configAttr: ddi_device_acc_attr_t = {
  devacc_attr_version: DDI_DEVICE_ATTR_V0,
  devacc_attr_endian_flags: DDI_STRUCTURE_LE_ACC,
  devacc_attr_dataorder: DDI_STRICTORDER_ACC,
};

/** pci_config_setup(9F): `handle.value` gets a config-space handle; DDI_FAILURE for a bad dip/out-pointer or a closed device. */
export function pci_config_setup(dip: dev_info_t | null, handle: Out<ddi_acc_handle_t | null> | null): number {
  if (!isOut(handle)) return DDI_FAILURE;
  const addr = { value: 0n };
  const out: Out<ddi_acc_handle_t | null> = { value: null };
  if (ddi_regs_map_setup(dip, 0, addr, 0, 0, configAttr, out) !== DDI_SUCCESS) return DDI_FAILURE;
  handle.value = out.value;
  return DDI_SUCCESS;
}

/** pci_config_teardown(9F): frees the handle and sets `*handle` to NULL (a foreign handle: nothing). */
export function pci_config_teardown(handle: Out<ddi_acc_handle_t | null> | null): void {
  if (isOut(handle) && lookupAcc(handle.value)?.target.kind === 'config') ddi_regs_map_free(handle);
}

/** The address of config offset `offset` in the handle's mapping (an invalid one faults in access). */
function at(h: unknown, offset: unknown): unknown {
  const handle = handleOf(h);
  if (handle === null || typeof offset !== 'number' || !Number.isSafeInteger(offset)) return offset;
  return handle.base + BigInt(offset);
}

export function pci_config_get8(handle: ddi_acc_handle_t | null, offset: number): number {
  return readNumber(handle, at(handle, offset), 1);
}
export function pci_config_get16(handle: ddi_acc_handle_t | null, offset: number): number {
  return readNumber(handle, at(handle, offset), 2);
}
export function pci_config_get32(handle: ddi_acc_handle_t | null, offset: number): number {
  return readNumber(handle, at(handle, offset), 4);
}
/** Two 32-bit reads, low dword first: a bigint. */
export function pci_config_get64(handle: ddi_acc_handle_t | null, offset: number): bigint {
  return readBig(handle, at(handle, offset));
}
export function pci_config_put8(handle: ddi_acc_handle_t | null, offset: number, value: number): void {
  writeNumber(handle, at(handle, offset), 1, value);
}
export function pci_config_put16(handle: ddi_acc_handle_t | null, offset: number, value: number): void {
  writeNumber(handle, at(handle, offset), 2, value);
}
export function pci_config_put32(handle: ddi_acc_handle_t | null, offset: number, value: number): void {
  writeNumber(handle, at(handle, offset), 4, value);
}
/** Two 32-bit writes, low dword first. */
export function pci_config_put64(handle: ddi_acc_handle_t | null, offset: number, value: bigint): void {
  writeBig(handle, at(handle, offset), value);
}
