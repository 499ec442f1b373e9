/**
 * The few file operations sysfs discovery needs, each turning the expected "absent" cases into null
 * and every other failure into a DdkError carrying the errno name and the path. Kept apart from
 * `Sysfs` so the policy there reads as policy.
 */
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DdkError } from '../errors.ts';

function errnoOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'EIO';
}

/** Absent: the attribute does not exist on this kernel/device. */
function isAbsent(code: string): boolean {
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Wraps a filesystem error in a DdkError that names the path and says what to do. */
export function fsError(err: unknown, action: string, path: string): DdkError {
  const code = errnoOf(err);
  const hint = code === 'EACCES' || code === 'EPERM'
    ? ' (permission denied: run as root, e.g. with sudo)'
    : code === 'ENODEV' || code === 'EINVAL' ? ' (the kernel refused: see dmesg)' : '';
  return new DdkError(code, `cannot ${action} ${path}: ${code}${hint}`, { cause: err });
}

/** Trimmed text of a file, or null when it does not exist. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1').trim();
  } catch (err) {
    if (isAbsent(errnoOf(err))) return null;
    throw fsError(err, 'read', path);
  }
}

/** A sysfs number such as "0x8086" or "-1", or null when absent or unparsable. */
export function readNumber(path: string): number | null {
  const text = readText(path);
  if (text === null || text === '') return null;
  const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^-?\d+$/.test(text) ? parseInt(text, 10) : NaN;
  return Number.isFinite(value) ? value : null;
}

/** Last path element of a symlink's target (e.g. the driver name), or null when there is no link. */
export function readLinkName(path: string): string | null {
  try {
    return basename(readlinkSync(path));
  } catch (err) {
    const code = errnoOf(err);
    if (isAbsent(code) || code === 'EINVAL') return null;
    throw fsError(err, 'read link', path);
  }
}

/** Sorted entries of a directory, or null when it does not exist. */
export function listDir(path: string): string[] | null {
  try {
    return readdirSync(path).sort();
  } catch (err) {
    if (isAbsent(errnoOf(err))) return null;
    throw fsError(err, 'list', path);
  }
}

/** Raw bytes of a file (as many as this user may read), or null when it does not exist. */
export function readBytes(path: string): Uint8Array | null {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    if (isAbsent(errnoOf(err))) return null;
    throw fsError(err, 'read', path);
  }
}

/** One write(2) of `value` to a sysfs attribute (the kernel acts on each write as a whole). */
export function writeAttr(path: string, value: string): void {
  try {
    writeFileSync(path, value, { encoding: 'latin1' });
  } catch (err) {
    throw fsError(err, 'write', path);
  }
}
