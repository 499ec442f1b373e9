/**
 * ddi_intr_alloc and ddi_intr_free (spec/ddi.md B.3), checks in the order given there.
 *
 * Differences from illumos, on purpose:
 * * `h_array` is filled from index 0 (`h_array[0 … actual-1]`), as the manual page says; illumos'
 *   implementation stores at `h_array[inum + k]` (API.md).
 * * After rule 6, the vectors themselves are checked (illumos leaves this to the platform): inum +
 *   count must fit in nintrs, none of those inums may be allocated or used by a dup, and MSI vectors
 *   are one block from 0 (inum must equal the number already allocated, so MME = log2(allocated)
 *   covers them) — each → DDI_EINVAL.
 * * The navail policy is DevInfo.limits (dev-info.ts); nothing here can run out (no IRM, no vector
 *   exhaustion), so rule 11's nexus failure does not occur.
 */
import {
  DDI_EAGAIN, DDI_EINVAL, DDI_FAILURE, DDI_IHDL_STATE_ADDED, DDI_IHDL_STATE_ALLOC, DDI_INTR_ALLOC_NORMAL,
  DDI_INTR_ALLOC_STRICT, DDI_INTR_NOTFOUND, DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI, DDI_SUCCESS,
} from './constants.ts';
import { isDevInfo, type DevInfo, type dev_info_t } from './dev-info.ts';
import { isInt, isOneType, isOut, type Out } from './args.ts';
import { IntrHandle, lookupHandle, type ddi_intr_handle_t } from './intr-handle.ts';
import { nintrsOf, supportedTypesOf } from './intr-info.ts';
import { classToPil, navailFor, probeCaps } from './nexus-probe.ts';
import { undupVector } from './nexus-program.ts';
import { PCI_CLASS_REVISION } from '../pci/regs.ts';

/** Where the k-th handle goes: the array, or the out-object of a count-1 allocation; null: neither. */
function handleSlots(h_array: unknown, count: unknown): { set(k: number, h: IntrHandle): void } | null {
  if (Array.isArray(h_array)) return { set: (k, h) => { h_array[k] = h; } };
  if (count === 1 && isOut(h_array) && 'value' in h_array) return { set: (_k, h) => { (h_array as Out<unknown>).value = h; } };
  return null;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Rule 6′: the vectors inum … inum+count−1 exist and are free (see the file comment). */
function vectorsFree(dip: DevInfo, type: number, inum: number, count: number, nintrs: number, already: number): boolean {
  if (inum + count > nintrs) return false;
  if (type === DDI_INTR_TYPE_MSI && inum !== already) return false;
  if (dip.currentType !== type) return true;
  for (let k = inum; k < inum + count; k++) if (dip.byInum[k] || dip.dups.has(k)) return false;
  return true;
}

/**
 * `h_array` is an array, or — for the common single-handle idiom `ddi_intr_alloc(dip, &sc->intr_handle,
 * type, 0, 1, &actual, …)` — an out-object `{ value }` when count is 1 (then `h_array.value` gets the
 * handle).
 */
export function ddi_intr_alloc(
  dip: dev_info_t | null, h_array: (ddi_intr_handle_t | null)[] | Out<ddi_intr_handle_t | null> | null, type: number, inum: number,
  count: number, actual: Out<number> | null, behavior: number,
): number {
  const handles = handleSlots(h_array, count);
  // 1. Arguments.
  if (!isDevInfo(dip) || handles === null || !isOut(actual) || !isInt(inum) || inum < 0
    || !isInt(count) || count < 1 || (behavior !== DDI_INTR_ALLOC_NORMAL && behavior !== DDI_INTR_ALLOC_STRICT)) {
    return DDI_EINVAL;
  }
  // 2. Type valid and supported.
  if (!isOneType(type) || (supportedTypesOf(dip) & type) === 0) return DDI_EINVAL;
  // 3. FIXED: a handle already exists for inum.
  if (type === DDI_INTR_TYPE_FIXED && dip.currentType === type && dip.byInum[inum]) return DDI_EINVAL;
  // 4. Supported count.
  const nintrs = nintrsOf(dip, type);
  if (nintrs === 0) return DDI_INTR_NOTFOUND;
  // 5. One interrupt type per device at a time.
  if (dip.currentType !== 0 && dip.currentType !== type) return DDI_EINVAL;
  const already = dip.allocated;
  // 6. Counts against nintrs (and 6′, the vectors themselves).
  if (count > nintrs || count + already > nintrs) return DDI_EINVAL;
  if (!vectorsFree(dip, type, inum, count, nintrs, already)) return DDI_EINVAL;
  // 7. MSI blocks are powers of two.
  if (type === DDI_INTR_TYPE_MSI && !isPowerOfTwo(already + count)) return DDI_EINVAL;
  // 9. navail.
  const navail = navailFor(dip, type, nintrs);
  if (already >= navail) return DDI_EAGAIN;
  // 10. STRICT fails, NORMAL gets what is left.
  let granted = count;
  if (count + already > navail) {
    if (behavior === DDI_INTR_ALLOC_STRICT) return DDI_EAGAIN;
    granted = navail - already;
  }
  // 12. GETPRI and GETCAP (nothing recorded yet, so a failure leaves no trace).
  let pri: number;
  let cap: number;
  try {
    pri = classToPil(dip.device.config.read32(PCI_CLASS_REVISION) >>> 8);
    cap = probeCaps(dip.device.config, type);
  } catch {
    return DDI_FAILURE;
  }
  // 13. Record the type and create the handles in ALLOC.
  if (dip.currentType === 0) {
    dip.currentType = type;
    dip.currentNintrs = nintrs;
    dip.byInum = new Array<IntrHandle | null>(nintrs).fill(null);
  }
  for (let k = 0; k < granted; k++) {
    const h = new IntrHandle(dip, type, inum + k, DDI_IHDL_STATE_ALLOC, cap, pri);
    dip.byInum[inum + k] = h;
    handles.set(k, h);
  }
  dip.allocated += granted;
  actual.value = granted;
  return DDI_SUCCESS;
}

/** Frees a handle in ALLOC (a dup: in ADDED); ADDED/ENABLE → DDI_EINVAL (B.3). */
export function ddi_intr_free(h: ddi_intr_handle_t | null): number {
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  const dip = handle.dip;
  if (handle.isDup) {
    if (handle.state !== DDI_IHDL_STATE_ADDED) return DDI_EINVAL;
    if (!dip.closed) {
      try {
        undupVector(handle);
      } catch {
        return DDI_FAILURE;
      }
    }
    const main = handle.main as IntrHandle;
    main.dupCount--;
    dip.dups.delete(handle.inum);
  } else {
    if (handle.state !== DDI_IHDL_STATE_ALLOC) return DDI_EINVAL;
    dip.byInum[handle.inum] = null;
    dip.allocated--;
    if (dip.allocated === 0) dip.resetType();
  }
  handle.release();
  return DDI_SUCCESS;
}
