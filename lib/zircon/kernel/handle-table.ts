/**
 * The current process's handle table (spec/zircon.md A.3). Handle values have the two low bits set
 * (ZX_HANDLE_FIXED_BITS_MASK) and come from a counter that walks the whole 30-bit space before it
 * wraps, skipping live values: a value is never reused while live and not soon after it was closed.
 *
 * Lookup precedence is the kernel's GetDispatcherWithRights: unknown → BAD_HANDLE; wrong object type →
 * WRONG_TYPE (before rights); missing rights → ACCESS_DENIED.
 */
import { ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_HANDLE, ZX_ERR_WRONG_TYPE } from '../constants/status.ts';
import { ZX_HANDLE_FIXED_BITS_MASK } from '../constants/options.ts';
import type { KernelObject } from './kernel-object.ts';

export interface HandleEntry {
  readonly value: number;
  readonly object: KernelObject;
  readonly rights: number;
}

const table = new Map<number, HandleEntry>();
/** 30-bit counter; the value is (counter << 2) | 3. Starts off 1 so the first handle is not 0x3-ish. */
let counter = 0x1234;
const COUNTER_LIMIT = 0x40000000;

function nextValue(): number {
  for (;;) {
    counter = (counter + 1) % COUNTER_LIMIT;
    if (counter === 0) continue;
    const value = ((counter << 2) | ZX_HANDLE_FIXED_BITS_MASK) >>> 0;
    if (!table.has(value)) return value;
  }
}

/** Puts a new handle to `object` with `rights` into the table and returns its value. */
export function addHandle(object: KernelObject, rights: number): number {
  const value = nextValue();
  table.set(value, { value, object, rights: rights >>> 0 });
  object.handleCount++;
  return value;
}

/** The entry for `value`, or undefined. */
export function getHandle(value: number): HandleEntry | undefined {
  return table.get(value);
}

/**
 * Looks `value` up as an object of `type` (or any type when null) carrying every bit of `rights`.
 * Returns the entry or a status (BAD_HANDLE / WRONG_TYPE / ACCESS_DENIED). No allocation.
 */
export function lookup(value: number, type: number | null, rights: number): HandleEntry | number {
  const entry = table.get(value);
  if (entry === undefined) return ZX_ERR_BAD_HANDLE;
  if (type !== null && entry.object.type !== type) return ZX_ERR_WRONG_TYPE;
  if ((entry.rights & rights) >>> 0 !== rights >>> 0) return ZX_ERR_ACCESS_DENIED;
  return entry;
}

/** Removes a handle; runs the object's zero-handles hook when it was the last one. */
export function removeHandle(entry: HandleEntry): void {
  if (!table.delete(entry.value)) return;
  entry.object.handleClosed(entry.value);
  entry.object.handleCount--;
  if (entry.object.handleCount === 0) entry.object.onZeroHandles();
}

/** Replaces a handle by a new one to the same object (duplicate keeps the old one, replace does not). */
export function swapHandle(entry: HandleEntry, rights: number): number {
  const value = addHandle(entry.object, rights);
  removeHandle(entry);
  return value;
}

/** Live handle count (tests and diagnostics). */
export function liveHandleCount(): number {
  return table.size;
}
