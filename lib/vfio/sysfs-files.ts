/**
 * The few file operations sysfs discovery needs, each turning the expected "absent" cases into null
 * and every other failure into a DdkError carrying the errno name and the path. Kept apart from
 * `Sysfs` so the policy there reads as policy.
 */
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, readlinkSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename } from 'node:path';
import { DdkError, errnoCode, fileKind } from '../errors.ts';

/**
 * Hostile trees (issue 15 row 6): every file is opened O_NONBLOCK (a FIFO in place of an attribute
 * must not block the process forever, where not even Ctrl-C is handled), must be a regular file as
 * every sysfs/procfs attribute is (no /dev/zero behind a `config` symlink), and is read only up to a
 * bound, so a huge file is an error instead of an unbounded read.
 */
/** A sysfs text attribute is at most one page: show() fills a PAGE_SIZE buffer (Documentation/filesystems/sysfs.rst). */
export const SYSFS_ATTR_MAX = 4096;
/** Bound for procfs text (/proc/interrupts, /proc/cpuinfo grow with the CPU count). */
export const PROC_TEXT_MAX = 16 * 1024 * 1024;

/** Absent: the attribute does not exist on this kernel/device. */
function isAbsent(code: string): boolean {
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Wraps a filesystem error in a DdkError that names the path and says what to do. */
export function fsError(err: unknown, action: string, path: string): DdkError {
  const code = errnoCode(err, 'EIO');
  const hint = code === 'EACCES' || code === 'EPERM'
    ? ' (permission denied: run as root, e.g. with sudo)'
    : code === 'ENODEV' || code === 'EINVAL' ? ' (the kernel refused: see dmesg)' : '';
  return new DdkError(code, `cannot ${action} ${path}: ${code}${hint}`, { cause: err });
}

/** Opens `path` O_NONBLOCK and checks it is a regular file; null when absent. */
function openAttr(path: string, flags: number, action: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NONBLOCK);
  } catch (err) {
    if (action === 'read' && isAbsent(errnoCode(err, 'EIO'))) return null;
    throw fsError(err, action, path);
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw fsError(err, action, path);
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new DdkError('ERR_NOT_ATTRIBUTE', `cannot ${action} ${path}: it is ${fileKind(st)}, not a sysfs/procfs attribute (a regular file); is this a real /sys and /proc?`);
  }
  return fd;
}

/** At most `maxBytes` of a regular file (EFBIG when it holds more), or null when it does not exist. */
function readBounded(path: string, maxBytes: number): Buffer | null {
  const fd = openAttr(path, constants.O_RDONLY, 'read');
  if (fd === null) return null;
  try {
    const buf = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, maxBytes + 1 - total), null);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      if (total > maxBytes) {
        throw new DdkError('EFBIG', `cannot read ${path}: it holds more than ${maxBytes} bytes, more than this attribute can (is this a real /sys and /proc?)`);
      }
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof DdkError) throw err;
    throw fsError(err, 'read', path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Trimmed text of a file, or null when it does not exist. At most `maxBytes` (default: a procfs
 * bound; sysfs attributes pass SYSFS_ATTR_MAX). Throws ERR_NOT_ATTRIBUTE for a FIFO/device/…, EFBIG
 * when longer.
 */
export function readText(path: string, maxBytes = PROC_TEXT_MAX): string | null {
  return readBounded(path, maxBytes)?.toString('latin1').trim() ?? null;
}

/** A sysfs number such as "0x8086" or "-1", or null when absent or unparsable. */
export function readNumber(path: string): number | null {
  const text = readText(path, SYSFS_ATTR_MAX);
  if (text === null || text === '') return null;
  const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^-?\d+$/.test(text) ? parseInt(text, 10) : NaN;
  return Number.isFinite(value) ? value : null;
}

/** Last path element of a symlink's target (e.g. the driver name), or null when there is no link. */
export function readLinkName(path: string): string | null {
  try {
    return basename(readlinkSync(path));
  } catch (err) {
    const code = errnoCode(err, 'EIO');
    if (isAbsent(code) || code === 'EINVAL') return null;
    throw fsError(err, 'read link', path);
  }
}

/** Sorted entries of a directory, or null when it does not exist. */
export function listDir(path: string): string[] | null {
  try {
    return readdirSync(path).sort();
  } catch (err) {
    if (isAbsent(errnoCode(err, 'EIO'))) return null;
    throw fsError(err, 'list', path);
  }
}

/** Raw bytes of a file (as many as this user may read, at most `maxBytes`), or null when it does not exist. */
export function readBytes(path: string, maxBytes: number): Uint8Array | null {
  const bytes = readBounded(path, maxBytes);
  return bytes === null ? null : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One write(2) of `value` to a sysfs attribute (the kernel acts on each write as a whole). The file
 * must exist and be a regular file (ENOENT / ERR_NOT_ATTRIBUTE), so nothing blocks on a FIFO.
 */
export function writeAttr(path: string, value: string): void {
  const fd = openAttr(path, constants.O_WRONLY | constants.O_TRUNC, 'write');
  if (fd === null) throw new DdkError('ENOENT', `cannot write ${path}: ENOENT`);
  try {
    const bytes = Buffer.from(value, 'latin1');
    const n = writeSync(fd, bytes, 0, bytes.length, null);
    if (n !== bytes.length) throw new DdkError('EIO', `cannot write ${path}: short write (${n} of ${bytes.length} bytes)`);
  } catch (err) {
    if (err instanceof DdkError) throw err;
    throw fsError(err, 'write', path);
  } finally {
    closeSync(fd);
  }
}
