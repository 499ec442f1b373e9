/**
 * ddi_intr_enable, ddi_intr_disable, ddi_intr_block_enable, ddi_intr_block_disable (spec/ddi.md B.3).
 * The hardware side is nexus-program.ts. A nexus failure (backend refusal, device closed) →
 * DDI_FAILURE with the handle states unchanged. On a closed device disable/block_disable still
 * succeed (there is nothing left to unprogram), so a driver can always tear down.
 *
 * block_enable / block_disable also refuse (DDI_EINVAL) what C would read past or corrupt: `count`
 * not an integer in [1, h_array.length], an entry that is not a live handle, handles of different
 * devices, or the same handle twice.
 */
import {
  DDI_EINVAL, DDI_FAILURE, DDI_IHDL_STATE_ADDED, DDI_IHDL_STATE_ENABLE, DDI_INTR_FLAG_BLOCK, DDI_INTR_TYPE_MSI,
  DDI_SUCCESS,
} from './constants.ts';
import { isInt } from './args.ts';
import { lookupHandle, type IntrHandle, type ddi_intr_handle_t } from './intr-handle.ts';
import { blockDisable, blockEnable, disableVector, enableVector } from './nexus-program.ts';

function isBlockMsi(h: IntrHandle): boolean {
  return h.type === DDI_INTR_TYPE_MSI && (h.cap & DDI_INTR_FLAG_BLOCK) !== 0;
}

export function ddi_intr_enable(h: ddi_intr_handle_t | null): number {
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  if (handle.state !== DDI_IHDL_STATE_ADDED || isBlockMsi(handle)) return DDI_EINVAL;
  if (handle.dip.closed) return DDI_FAILURE;
  // State first: a fire the routing itself triggers is delivered on the loop, after this returns.
  handle.state = DDI_IHDL_STATE_ENABLE;
  try {
    enableVector(handle); // undoes its own routing when it fails: nothing else is touched
  } catch {
    handle.state = DDI_IHDL_STATE_ADDED;
    return DDI_FAILURE;
  }
  handle.dip.enabled++;
  return DDI_SUCCESS;
}

export function ddi_intr_disable(h: ddi_intr_handle_t | null): number {
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  if (handle.state !== DDI_IHDL_STATE_ENABLE || isBlockMsi(handle)) return DDI_EINVAL;
  if (!handle.dip.closed) {
    try {
      disableVector(handle, handle.dip.enabled === 1);
    } catch {
      return DDI_FAILURE;
    }
  }
  handle.state = DDI_IHDL_STATE_ADDED;
  handle.dip.enabled--;
  return DDI_SUCCESS;
}

/** The live handles of h_array[0 … count-1] when each passes `ok`, all of one device, no repeats. */
function blockHandles(h_array: unknown, count: unknown, ok: (h: IntrHandle) => boolean): IntrHandle[] | null {
  // `ddi_intr_block_enable(&h[i], 1)` in C: `[h[i]]` (or `h.slice(i)`), or the `{ value }` of a count-1 alloc.
  if (count === 1 && !Array.isArray(h_array) && typeof h_array === 'object' && h_array !== null && 'value' in h_array) {
    h_array = [(h_array as { value: unknown }).value];
  }
  if (!Array.isArray(h_array) || !isInt(count) || count < 1 || count > h_array.length) return null;
  const handles: IntrHandle[] = [];
  for (let i = 0; i < count; i++) {
    const handle = lookupHandle(h_array[i]);
    if (handle === null || !ok(handle)) return null;
    if (handles.includes(handle) || (handles.length > 0 && handle.dip !== handles[0]?.dip)) return null;
    handles.push(handle);
  }
  return handles;
}

export function ddi_intr_block_enable(h_array: (ddi_intr_handle_t | null)[] | { value: ddi_intr_handle_t | null } | null, count: number): number {
  if (h_array === null) return DDI_EINVAL;
  const handles = blockHandles(h_array, count, (h) => h.state === DDI_IHDL_STATE_ADDED && isBlockMsi(h));
  if (handles === null) return DDI_EINVAL;
  const dip = (handles[0] as IntrHandle).dip;
  if (dip.closed) return DDI_FAILURE;
  for (const h of handles) h.state = DDI_IHDL_STATE_ENABLE;
  try {
    blockEnable(handles);
  } catch {
    for (const h of handles) h.state = DDI_IHDL_STATE_ADDED;
    return DDI_FAILURE;
  }
  dip.enabled = 1;
  return DDI_SUCCESS;
}

export function ddi_intr_block_disable(h_array: (ddi_intr_handle_t | null)[] | { value: ddi_intr_handle_t | null } | null, count: number): number {
  if (h_array === null) return DDI_EINVAL;
  const handles = blockHandles(h_array, count, (h) => h.state === DDI_IHDL_STATE_ENABLE && isBlockMsi(h));
  if (handles === null) return DDI_EINVAL;
  const dip = (handles[0] as IntrHandle).dip;
  if (!dip.closed) {
    try {
      blockDisable(handles);
    } catch {
      return DDI_FAILURE;
    }
  }
  for (const h of handles) h.state = DDI_IHDL_STATE_ADDED;
  dip.enabled = 0;
  return DDI_SUCCESS;
}
