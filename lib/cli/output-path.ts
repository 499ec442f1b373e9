/**
 * Checking a file a verb will write (bench --plot, trace -o / --plot) before the long work starts:
 * its folder exists and is writable, and the file, if it exists, is a regular file we may overwrite.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errnoCode } from '../errors.ts';
import { UsageError } from './exit-codes.ts';

export interface OutputPathProblem {
  /** ENOENT / ENOTDIR / EACCES / EISDIR … (the errno name behind it). */
  readonly code: string;
  /** What is wrong, without the file name (the caller names the option and the file). */
  readonly message: string;
}

/** Why `path` cannot be written, or null when it can. */
export function outputPathProblem(path: string): OutputPathProblem | null {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) return { code: 'ENOTDIR', message: `${dir} is not a directory` };
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return { code: errnoCode(err, 'EIO'), message: `cannot write into ${dir} (${errnoCode(err, 'EIO')}); pick a writable folder` };
  }
  if (existsSync(path)) {
    if (!statSync(path).isFile()) return { code: 'EISDIR', message: 'it exists and is not a regular file' };
    try { accessSync(path, constants.W_OK); } catch (err) {
      return { code: errnoCode(err, 'EIO'), message: `the file is not writable (${errnoCode(err, 'EIO')})` };
    }
  }
  return null;
}

/** `--plot`'s value: a file name ending in .svg (UsageError otherwise). */
export function svgPlotName(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '' || !raw.endsWith('.svg')) throw new UsageError(`--plot needs a file name ending in .svg, got ${JSON.stringify(raw)}`);
  return raw;
}
