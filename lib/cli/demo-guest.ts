/**
 * The bridge from the CLI to the hardware-in-the-loop runner, scripts/guest/guest.mjs (`runInGuest`):
 * boots a QEMU guest with a virtual IOMMU and real QEMU devices bound to vfio-pci, runs one shell
 * command there at the same path (the host root is the guest's root), streams its console, returns
 * its exit status. Used by `vfio-ddk guest` and `vfio-ddk demo --guest`.
 *
 * The runner is plain JavaScript next to the package (scripts/guest), loaded on demand, so the other
 * verbs never touch it; it ships in the package (package.json "files") and in a checkout. Before it
 * runs, its cache folder (setup.mjs CACHE_ROOT) is checked: from an installed package it must be
 * writable by this user, or the run is refused with the reason (`guestCacheProblem`).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DdkError } from '../errors.ts';

/** The devices the guest can have (scripts/guest/qemu.mjs GUEST_DEVICES). */
export const GUEST_DEVICE_NAMES = ['edu', 'nvme'] as const;
export type GuestDeviceName = (typeof GUEST_DEVICE_NAMES)[number];

export interface GuestRunOptions {
  command?: string;
  shell?: boolean;
  devices: GuestDeviceName[];
  /** QEMU -device strings, each on its own root port and bound to vfio-pci (scripts/guest/qemu.mjs). */
  extraDevices?: string[];
  /** Passed to QEMU as-is (-object, -drive, -netdev an extra device needs). */
  qemuArgs?: string[];
  /** A QEMU binary to run instead of /usr/bin/qemu-system-x86_64. */
  qemu?: string;
  /** 'debian' (default), 'iommufd' or the path of a vmlinux/bzImage (scripts/guest/setup.mjs). */
  kernel?: string;
  timeoutMs?: number;
  cwd?: string;
  onOutput?: (line: string) => void;
  log?: (message: string) => void;
}

export interface GuestRunResult {
  status: number;
  bootSeconds: number | null;
  seconds: number;
  accel: string;
  /** The kernel booted ("debian 6.1.0-57-amd64", "iommufd 6.12.118"), when the runner says. */
  kernel?: string;
  devices: { id: string; bdf: string; group: string }[];
  timedOut: boolean;
}

export type GuestRunner = (options: GuestRunOptions) => Promise<GuestRunResult>;
/** `log` receives notes about the installation (e.g. where the guest cache lives). */
export type GuestRunnerLoader = (log?: (message: string) => void) => Promise<GuestRunner>;

/** The package root: lib/cli/ and dist/cli/ are both two levels down. */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The nearest folder at or above `path` that exists. */
function existingAncestor(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * Where the guest runner would keep its cache (`cacheRoot`) for the package at `root`: an error
 * message when this user cannot write there (e.g. a global install by root), a note when it works
 * but lives inside an installed package (npm replaces that folder on every install, so the guest
 * image is rebuilt after each one), or null when all is well (a checkout, or the user's cache folder).
 */
export function guestCacheProblem(root: string, cacheRoot: string): { error: string } | { note: string } | null {
  const existing = existingAncestor(cacheRoot);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    return { error: `the QEMU guest runner keeps its cache in ${cacheRoot}, and ${existing} is not writable by this user`
      + `${root.split(sep).includes('node_modules') ? ' (an installed package, e.g. installed by root)' : ''}: `
      + 'run `vfio-ddk guest` as the user who installed vfio-ddk, or from a checkout of the vfio-ddk repository' };
  }
  const inside = !relative(root, cacheRoot).startsWith('..');
  if (inside && root.split(sep).includes('node_modules')) {
    return { note: `the guest cache is ${cacheRoot}, inside the installed package: npm replaces it on every install, so the first run after one prepares the guest again` };
  }
  return null;
}

/** Loads runInGuest from scripts/guest/guest.mjs, or DdkError 'ENOENT' / 'EACCES' saying why not. */
export const loadGuestRunner: GuestRunnerLoader = async (log) => {
  const root = packageRoot();
  const path = join(root, 'scripts', 'guest', 'guest.mjs');
  if (!existsSync(path)) {
    throw new DdkError('ENOENT', `the QEMU guest runner ${path} is not in this installation: reinstall vfio-ddk, or use a checkout of the vfio-ddk repository`);
  }
  const setup = (await import(pathToFileURL(join(root, 'scripts', 'guest', 'setup.mjs')).href)) as { CACHE_ROOT?: unknown };
  if (typeof setup.CACHE_ROOT === 'string') {
    const problem = guestCacheProblem(root, setup.CACHE_ROOT);
    if (problem !== null && 'error' in problem) throw new DdkError('EACCES', problem.error);
    if (problem !== null) log?.(problem.note);
  }
  const mod = (await import(pathToFileURL(path).href)) as { runInGuest?: unknown };
  if (typeof mod.runInGuest !== 'function') throw new DdkError('ENOTSUP', `${path} does not export runInGuest: update the checkout`);
  return mod.runInGuest as GuestRunner;
};

/** POSIX shell single-quoting: the word reaches the command unchanged, whatever it contains. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The runner's setup refuses without root only when Debian packages are missing (it throws an error
 * with code 'EPERM' whose message is the exact `sudo apt-get …` command): keep that message, and
 * map it to "not permitted".
 */
export function guestSetupError(err: unknown): DdkError | null {
  if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'EPERM' && err instanceof Error) {
    return new DdkError('EPERM', `${err.message}\n(the first run needs root to install them; later runs work as any user)`);
  }
  return null;
}
