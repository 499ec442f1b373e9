/**
 * The bridge from the CLI to the hardware-in-the-loop runner, scripts/guest/guest.mjs (`runInGuest`):
 * boots a QEMU guest with a virtual IOMMU and real QEMU devices bound to vfio-pci, runs one shell
 * command there at the same path (the host root is the guest's root), streams its console, returns
 * its exit status. Used by `vfio-ddk guest` and `vfio-ddk demo --guest`.
 *
 * The runner is plain JavaScript next to the package (scripts/guest), loaded on demand, so the other
 * verbs never touch it; it ships with a checkout of vfio-ddk.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DdkError } from '../errors.ts';

/** The devices the guest can have (scripts/guest/qemu.mjs GUEST_DEVICES). */
export const GUEST_DEVICE_NAMES = ['edu', 'nvme'] as const;
export type GuestDeviceName = (typeof GUEST_DEVICE_NAMES)[number];

export interface GuestRunOptions {
  command?: string;
  shell?: boolean;
  devices: GuestDeviceName[];
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
  devices: { id: string; bdf: string; group: string }[];
  timedOut: boolean;
}

export type GuestRunner = (options: GuestRunOptions) => Promise<GuestRunResult>;
export type GuestRunnerLoader = () => Promise<GuestRunner>;

/** The package root: lib/cli/ and dist/cli/ are both two levels down. */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** Loads runInGuest from scripts/guest/guest.mjs, or DdkError 'ENOENT' saying where it comes from. */
export const loadGuestRunner: GuestRunnerLoader = async () => {
  const path = join(packageRoot(), 'scripts', 'guest', 'guest.mjs');
  if (!existsSync(path)) {
    throw new DdkError('ENOENT', `the QEMU guest runner ${path} is not in this installation: it comes with a checkout of the vfio-ddk repository`);
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
