/**
 * Everything a verb touches outside its arguments, in one object so tests can point the command at
 * fixture trees and capture its output. The environment variables VFIO_DDK_SYSFS, VFIO_DDK_PROCFS,
 * VFIO_DDK_DEVFS and VFIO_DDK_STATE_DIR override the roots (for fixtures and containers).
 */
import { Sysfs } from '../vfio/sysfs.ts';
import { PCI_IDS_PATHS } from '../vfio/pci-ids.ts';
import { setTimeout as delay } from 'node:timers/promises';

export interface CliContext {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly sysRoot: string;
  readonly procRoot: string;
  readonly devRoot: string;
  /** Where `bind` remembers previous drivers (root-only, mode 0700). */
  readonly stateDir: string;
  readonly uid: number;
  readonly pciIdsPaths: readonly string[];
  readonly sysfs: Sysfs;
  /** Whether stdout is a terminal (irqtop redraws the screen only then). */
  readonly isTTY: boolean;
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number;
  /** Resolves after `ms` or when `signal` aborts (then rejects with an AbortError). */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborted on SIGINT by the bin; verbs that loop stop on it. */
  readonly signal: AbortSignal | undefined;
  /** Loads lib/vfio/index.ts (dynamically, so `info` works before VfioDevice exists). */
  readonly importVfio: () => Promise<Record<string, unknown>>;
  /** The interactive streams (`repl`): process.stdin / process.stdout unless a test passes its own. */
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
}

export const DEFAULT_STATE_DIR = '/run/vfio-ddk';

/** The real host, with any field overridden (tests pass roots, writers and clocks). */
export function createContext(overrides: Partial<CliContext> = {}): CliContext {
  const env = process.env;
  const sysRoot = overrides.sysRoot ?? env['VFIO_DDK_SYSFS'] ?? '/sys';
  return {
    stdout: (text) => { process.stdout.write(text); },
    stderr: (text) => { process.stderr.write(text); },
    procRoot: env['VFIO_DDK_PROCFS'] ?? '/proc',
    devRoot: env['VFIO_DDK_DEVFS'] ?? '/dev',
    stateDir: env['VFIO_DDK_STATE_DIR'] ?? DEFAULT_STATE_DIR,
    uid: typeof process.geteuid === 'function' ? process.geteuid() : -1,
    pciIdsPaths: PCI_IDS_PATHS,
    isTTY: process.stdout.isTTY === true,
    now: () => performance.now(),
    sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? undefined : { signal }),
    signal: undefined,
    importVfio: async () => (await import('../vfio/index.ts')) as Record<string, unknown>,
    input: process.stdin,
    output: process.stdout,
    ...overrides,
    sysRoot,
    sysfs: overrides.sysfs ?? new Sysfs(sysRoot),
  };
}
