/** zx_handle_close / duplicate / replace (spec/zircon.md A.3). */
import { u32, out } from '../args.ts';
import { ZX_HANDLE_INVALID } from '../constants/options.ts';
import { ZX_RIGHT_DUPLICATE, ZX_RIGHT_NONE, ZX_RIGHT_SAME_RIGHTS } from '../constants/rights.ts';
import { ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS, ZX_OK } from '../constants/status.ts';
import { addHandle, getHandle, lookup, removeHandle } from '../kernel/handle-table.ts';
import type { Out } from '../types.ts';

/** Closes a handle; ZX_HANDLE_INVALID is a no-op success (as in C). */
export function zx_handle_close(handle: number): number {
  const h = u32('handle', handle);
  if (h === ZX_HANDLE_INVALID) return ZX_OK;
  const entry = getHandle(h);
  if (entry === undefined) return ZX_ERR_BAD_HANDLE;
  removeHandle(entry);
  return ZX_OK;
}

/** New handle with `rights` (SAME_RIGHTS or a subset); needs DUPLICATE. */
export function zx_handle_duplicate(handle: number, rights: number, outHandle: Out<number> | null): number {
  const h = u32('handle', handle);
  const r = u32('rights', rights);
  const o = out<number>('out', outHandle);
  const entry = lookup(h, null, ZX_RIGHT_DUPLICATE);
  if (typeof entry === 'number') return entry;
  const newRights = r === ZX_RIGHT_SAME_RIGHTS ? entry.rights : r;
  if ((newRights & ~entry.rights) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  o.value = addHandle(entry.object, newRights);
  return ZX_OK;
}

/** Replaces a handle by one with `rights`; the old handle is invalidated whatever the outcome. */
export function zx_handle_replace(handle: number, rights: number, outHandle: Out<number> | null): number {
  const h = u32('handle', handle);
  const r = u32('rights', rights);
  const o = out<number>('out', outHandle);
  const entry = lookup(h, null, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  const newRights = r === ZX_RIGHT_SAME_RIGHTS ? entry.rights : r;
  if ((newRights & ~entry.rights) >>> 0 !== 0 || o === null) {
    removeHandle(entry);
    return ZX_ERR_INVALID_ARGS;
  }
  const value = addHandle(entry.object, newRights);
  removeHandle(entry);
  o.value = value;
  return ZX_OK;
}
