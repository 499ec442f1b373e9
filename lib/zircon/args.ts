/**
 * Argument checks shared by every syscall. The rule (also stated at the top of index.ts):
 * a value C's compiler would reject — a string where a number goes, a number where a bigint goes,
 * a non-integer, a non-object out-pointer — throws TypeError; any value of the right JS type, however
 * out of range, gets the status C would return. Numbers are C's uint32 (accepted in [-2^31, 2^32),
 * normalised with `>>> 0`, so bit-31 values work signed or unsigned).
 */
import type { Out } from './types.ts';

const U32_MIN = -0x80000000;
const U32_LIMIT = 0x100000000;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** A uint32 argument (handle, rights, options, signals, ids), normalised to unsigned. */
export function u32(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < U32_MIN || value >= U32_LIMIT) {
    throw new TypeError(`${name} must be an integer in [-2^31, 2^32) (a C uint32_t), got ${describe(value)}`);
  }
  return value >>> 0;
}

/** A uint64/int64 argument that the contract types as bigint. */
export function big(name: string, value: unknown): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${name} must be a bigint, got ${describe(value)}`);
  return value;
}

/**
 * A bigint that C passes as uint64_t: negative values wrap like C's conversion would. A value already
 * in range is returned as is — BigInt.asUintN makes a new bigint in V8's unoptimized tiers, and these
 * checks run on every wait.
 */
export function u64(name: string, value: unknown): bigint {
  const v = big(name, value);
  return v >= 0n && v <= UINT64_MAX ? v : BigInt.asUintN(64, v);
}

/** An int64 (zx_time_t): values outside int64 wrap as C's conversion would (in range: as is, as u64). */
export function i64(name: string, value: unknown): bigint {
  const v = big(name, value);
  return v >= INT64_MIN && v <= INT64_MAX ? v : BigInt.asIntN(64, v);
}

/**
 * A size_t offset the contract lets callers pass as a number or a bigint (zx_msi_create's vmo_offset):
 * a number must be a non-negative safe integer; a bigint wraps like C's conversion to uint64_t.
 */
export function sizeT(name: string, value: unknown): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer or a bigint (a C size_t), got ${describe(value)}`);
  }
  return BigInt(value);
}

/** An out-pointer: null (NULL) or an object. Returns it typed. */
export function out<T>(name: string, value: unknown): Out<T> | null {
  if (value === null) return null;
  if (typeof value !== 'object' || value === undefined) {
    throw new TypeError(`${name} must be an Out object ({ value }) or null for a NULL pointer, got ${describe(value)}`);
  }
  return value as Out<T>;
}

export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
