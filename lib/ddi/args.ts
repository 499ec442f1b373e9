/**
 * Argument predicates shared by the ddi_* entry points. C takes ints; from JavaScript anything can
 * arrive, so a numeric argument that is not an integer (NaN, 1.5, '1', 1n, undefined) is treated like
 * an out-of-range value: DDI_EINVAL, never a throw.
 */

/** A C `int`: a safe integer. */
export function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** A C `Out<T>` (pointer): a non-null object with a writable `value`. null stands for a NULL pointer. */
export interface Out<T> {
  value: T;
}

export function isOut(value: unknown): value is Out<unknown> {
  return typeof value === 'object' && value !== null;
}

/** Exactly one of the three interrupt type bits (B.3 get_nintrs / alloc rule). */
export function isOneType(type: unknown): type is number {
  return type === 0x1 || type === 0x2 || type === 0x4;
}
