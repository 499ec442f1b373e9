import type { Stats } from 'node:fs';

/**
 * The idiomatic tier's error: an `Error` with a stable `code` (a POSIX-style name such as 'EBUSY',
 * or a project code such as 'ERR_BAD_BDF') and a message that says what to do next.
 */
export class DdkError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DdkError';
    this.code = code;
  }
}

/** The `code` of a Node system error (or any error with a string code), else `fallback`. */
export function errnoCode(error: unknown, fallback = ''): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
    ? (error as { code: string }).code
    : fallback;
}

/** What a file that should be a regular file is instead, for messages ("a FIFO", "a directory"). */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** Throws a RangeError naming the access when `[offset, offset+width)` is not inside `[0, size)`
 *  or `offset` is not a non-negative integer aligned to `width`. The one bounds check every region uses. */
export function checkAccess(what: string, offset: number, width: number, size: number | bigint): void {
  const limit = typeof size === 'bigint' ? Number(size) : size;
  if (!Number.isInteger(offset) || offset < 0 || offset + width > limit) {
    throw new RangeError(`${what}: access of ${width} byte(s) at offset ${String(offset)} is outside [0, ${limit})`);
  }
  if (offset % width !== 0) {
    throw new RangeError(`${what}: ${width}-byte access at offset 0x${offset.toString(16)} is not ${width}-byte aligned`);
  }
}
