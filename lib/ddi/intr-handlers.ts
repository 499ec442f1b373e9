/**
 * ddi_intr_add_handler, ddi_intr_remove_handler, ddi_intr_dup_handler (spec/ddi.md B.3).
 *
 * A dup (MSI-X only) is a second table entry, `dup_inum`, that carries the original entry's address
 * and data (pci_msix_dup), so the device signalling either entry runs the original handler. The dup
 * handle is born ADDED with the original's handler and args; like any handle it is then enabled with
 * ddi_intr_enable (which routes entry dup_inum and clears its mask), disabled, and freed from ADDED.
 * dup_inum must be an entry of the table that is neither allocated nor already a dup → else DDI_EINVAL.
 */
import {
  DDI_EINVAL, DDI_FAILURE, DDI_IHDL_STATE_ADDED, DDI_IHDL_STATE_ALLOC, DDI_INTR_MSIX_DUP, DDI_INTR_TYPE_MSIX,
  DDI_SUCCESS,
} from './constants.ts';
import { isInt, isOut, type Out } from './args.ts';
import { IntrHandle, lookupHandle, type ddi_intr_handle_t, type ddi_intr_handler_t } from './intr-handle.ts';
import { dupVector } from './nexus-program.ts';

export function ddi_intr_add_handler(
  h: ddi_intr_handle_t | null, handler: ddi_intr_handler_t | null, arg1: unknown, arg2: unknown,
): number {
  const handle = lookupHandle(h);
  if (handle === null || typeof handler !== 'function') return DDI_EINVAL;
  if (handle.state !== DDI_IHDL_STATE_ALLOC) return DDI_EINVAL;
  // Nexus ADDISR: nothing to program until enable (the line is routed then).
  handle.handler = handler;
  handle.arg1 = arg1;
  handle.arg2 = arg2;
  handle.state = DDI_IHDL_STATE_ADDED;
  return DDI_SUCCESS;
}

export function ddi_intr_remove_handler(h: ddi_intr_handle_t | null): number {
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  if (handle.state !== DDI_IHDL_STATE_ADDED) return DDI_EINVAL;
  if (handle.isDup) return DDI_SUCCESS;
  if (handle.dupCount > 0) return DDI_FAILURE;
  handle.handler = null;
  handle.arg1 = null;
  handle.arg2 = null;
  handle.state = DDI_IHDL_STATE_ALLOC;
  return DDI_SUCCESS;
}

export function ddi_intr_dup_handler(
  org: ddi_intr_handle_t | null, dup_inum: number, dup: Out<ddi_intr_handle_t | null> | null,
): number {
  const handle = lookupHandle(org);
  // "dup handle is not allocated": *dup must be NULL (ddi_intr.c).
  if (handle === null || !isOut(dup) || (dup.value !== null && dup.value !== undefined)) return DDI_EINVAL;
  if (!isInt(dup_inum) || dup_inum < 0) return DDI_EINVAL;
  if (handle.state === DDI_IHDL_STATE_ALLOC || handle.type !== DDI_INTR_TYPE_MSIX || handle.isDup) return DDI_EINVAL;
  const dip = handle.dip;
  if (dup_inum >= dip.currentNintrs || dip.byInum[dup_inum] || dip.dups.has(dup_inum)) return DDI_EINVAL;
  try {
    dupVector(handle, dup_inum);
  } catch {
    return DDI_FAILURE;
  }
  const copy = new IntrHandle(dip, handle.type, dup_inum, DDI_IHDL_STATE_ADDED, handle.cap, handle.pri);
  copy.handler = handle.handler;
  copy.arg1 = handle.arg1;
  copy.arg2 = handle.arg2;
  copy.flags = handle.flags | DDI_INTR_MSIX_DUP;
  copy.main = handle;
  handle.dupCount++;
  dip.dups.set(dup_inum, copy);
  dup.value = copy;
  return DDI_SUCCESS;
}
