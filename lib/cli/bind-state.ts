/**
 * What `bind` remembers so `unbind` can give a device back to its previous driver: one JSON file,
 * <stateDir>/bindings.json (default /run/vfio-ddk: tmpfs, so it is forgotten on reboot, as the bindings
 * are). The directory is created 0700 and the file 0600: only root, who can bind, reads it. Writes go
 * to a temporary file renamed over the old one, so a crash never leaves half a file.
 *
 * Concurrent binds (issue 15 row 8): every read-modify-write runs under `withBindState`, which holds
 * <stateDir>/bindings.lock — created O_EXCL with the holder's pid — so two `vfio-ddk bind`s never
 * lose each other's entries. A lock whose pid is gone (a crashed bind) is taken over. The location is
 * checked (`checkBindStateDir`) before any sysfs write, so a bad VFIO_DDK_STATE_DIR fails first.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DdkError, errnoCode } from '../errors.ts';
import { isBdf, normalizeBdf } from '../vfio/bdf.ts';

export interface BindRecord {
  /** Driver before `bind` (null: it was unbound). */
  readonly previousDriver: string | null;
  readonly iommuGroup: number | null;
  /** ISO time of the bind. */
  readonly boundAt: string;
}

export type BindState = Record<string, BindRecord>;

const STATE_FILE = 'bindings.json';
const LOCK_FILE = 'bindings.lock';
/** How long a bind waits for another one to finish (they take milliseconds). */
const LOCK_WAIT_MS = 10_000;
const LOCK_POLL_MS = 10;

function isRecord(v: unknown): v is BindRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (r['previousDriver'] === null || typeof r['previousDriver'] === 'string')
    && (r['iommuGroup'] === null || typeof r['iommuGroup'] === 'number')
    && typeof r['boundAt'] === 'string';
}

/**
 * Makes sure the state can be written: `stateDir` is (or is created as) a directory and
 * bindings.json is absent or a regular file. Throws DdkError 'ENOTDIR' / 'EISDIR' / the errno,
 * naming VFIO_DDK_STATE_DIR — before any sysfs write, so nothing is left half done.
 */
export function checkBindStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = errnoCode(err, 'EIO');
    throw new DdkError(code === 'EEXIST' ? 'ENOTDIR' : code,
      `cannot use ${stateDir} for bind state (${code}): it must be a directory; set VFIO_DDK_STATE_DIR to one (default /run/vfio-ddk)`, { cause: err });
  }
  if (!statSync(stateDir).isDirectory()) {
    throw new DdkError('ENOTDIR', `cannot use ${stateDir} for bind state: it is not a directory; set VFIO_DDK_STATE_DIR to one (default /run/vfio-ddk)`);
  }
  const file = join(stateDir, STATE_FILE);
  let isFile = true;
  try {
    isFile = lstatSync(file).isFile();
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw new DdkError(errnoCode(err, 'EIO'), `cannot read ${file}: ${errnoCode(err, 'EIO')}`, { cause: err });
  }
  if (!isFile) throw new DdkError('EISDIR', `${file} is not a regular file: remove it (it holds vfio-ddk's remembered drivers) and retry`);
}

/** The remembered bindings; entries that do not parse are dropped (never trusted as paths). */
export function loadBindState(stateDir: string): BindState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(stateDir, STATE_FILE), 'utf8'));
  } catch {
    return {};
  }
  const state: BindState = {};
  if (typeof raw !== 'object' || raw === null) return state;
  for (const [bdf, record] of Object.entries(raw)) {
    if (isBdf(bdf) && isRecord(record)) state[normalizeBdf(bdf)] = record;
  }
  return state;
}

export function saveBindState(stateDir: string, state: BindState): void {
  checkBindStateDir(stateDir);
  const path = join(stateDir, STATE_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM'; // exists, owned by someone else
  }
}

/** Takes <stateDir>/bindings.lock; returns its path. EBUSY after LOCK_WAIT_MS. */
function acquireLock(stateDir: string, waitMs: number): string {
  const lock = join(stateDir, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      try { writeSync(fd, `${process.pid}\n`); } finally { closeSync(fd); }
      return lock;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw new DdkError(errnoCode(err, 'EIO'), `cannot create ${lock}: ${errnoCode(err, 'EIO')}`, { cause: err });
    }
    let holder = NaN;
    try { holder = parseInt(readFileSync(lock, 'utf8'), 10); } catch { /* released meanwhile, or half written */ }
    if (Number.isSafeInteger(holder) && holder > 0 && !pidAlive(holder)) {
      // A crashed holder: take the lock over. (Two waiters that both see it stale may both unlink;
      // only the one whose O_EXCL create then wins goes on.)
      try { unlinkSync(lock); } catch { /* another waiter took it over first */ }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new DdkError('EBUSY', `another vfio-ddk bind/unbind (pid ${Number.isNaN(holder) ? '?' : holder}) holds ${lock}; wait for it to finish, or remove the file if no such process runs`);
    }
    sleepSync(LOCK_POLL_MS);
  }
}

/**
 * Runs `fn` with the remembered bindings under the state lock; `save()` writes `state` as it is then
 * (atomically). The lock is released when `fn` returns or throws. Throws what `checkBindStateDir`
 * throws, or EBUSY when another bind holds the lock longer than `waitMs`.
 */
export function withBindState<T>(stateDir: string, fn: (state: BindState, save: () => void) => T, waitMs = LOCK_WAIT_MS): T {
  checkBindStateDir(stateDir);
  const lock = acquireLock(stateDir, waitMs);
  try {
    const state = loadBindState(stateDir);
    return fn(state, () => saveBindState(stateDir, state));
  } finally {
    try { unlinkSync(lock); } catch { /* already gone: nothing to release */ }
  }
}
