/**
 * The trace file: Chrome / Perfetto trace-event JSON in its array form, one event per line —
 * `[` + events joined by `,\n` + `]` — so ui.perfetto.dev and chrome://tracing open it, and a file cut
 * short (a process killed before it wrote the closing bracket) is still read, as Chrome's importer
 * reads it, by the reader here (reader.ts).
 *
 * Layout (Trace Event Format: "X" complete, "i" instant, "b"/"e" async, "M" metadata events):
 * * pid 1 is the kits: one track (tid) per kit, its C calls as "X" slices (synchronous) and "b"/"e"
 *   pairs (calls that return a Promise). Its first event is the `vfio_ddk_trace` metadata record.
 * * pid 2, 3 … one per device in open order, named "0000:00:01.0 edu" (process_name); a
 *   `vfio_ddk_device` metadata record holds what replay needs (identity, BAR sizes, backend,
 *   interrupt counts, Command and DMA mask at open). Tracks: device (open / reset / close), config,
 *   BAR0…BAR5, DMA, and one per interrupt vector (INTx, MSI n, MSI-X n, and messages a bus driver's
 *   MSI sent, keyed by their data).
 * * ts and dur are µs since the trace started (CLOCK_MONOTONIC), with ns resolution. Every event of a
 *   device carries `args.seq`, the order in which things happened (X events are written when they end).
 * * Values (register values, IOVAs, sizes of 64-bit things) are hex strings: JSON numbers lose bits
 *   above 2^53.
 */

export const TRACE_FORMAT = 'vfio-ddk-trace';
export const TRACE_FORMAT_VERSION = 1;

/** Metadata event names of this recorder (besides Chrome's process_name / thread_name / *_sort_index). */
export const TRACE_META = 'vfio_ddk_trace';
export const DEVICE_META = 'vfio_ddk_device';

export const KITS_PID = 1;
export const FIRST_DEVICE_PID = 2;

/** Event categories (`cat`). */
export const CAT = {
  device: 'device',
  config: 'config',
  bar: 'bar',
  dma: 'dma',
  irq: 'irq',
  kit: 'kit',
} as const;

/** Track ids inside a device's pid: fixed ones, then one per interrupt vector. */
export const TID = {
  device: 1,
  config: 2,
  /** BAR n is BAR0 + n. */
  BAR0: 10,
  dma: 20,
  intx: 100,
  /** MSI vector n is MSI0 + n (≤ 32 vectors). */
  MSI0: 200,
  /** MSI-X vector n is MSIX0 + n (≤ 2048 vectors). */
  MSIX0: 1000,
  /** The n-th distinct message data seen through a message sink. */
  MESSAGE0: 5000,
} as const;

/** What one trace event holds (the subset of the Trace Event Format this recorder writes). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'b' | 'e' | 'M';
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  /** Instant scope: "t" (the track). */
  s?: 't';
  cat?: string;
  id?: number;
  args?: Record<string, unknown>;
}

/** The `vfio_ddk_trace` record: the first event of every trace this recorder writes. */
export interface TraceInfo {
  readonly format: typeof TRACE_FORMAT;
  readonly version: number;
  /** CLOCK_MONOTONIC at ts 0, in ns (decimal string). */
  readonly startMonoNs: string;
  readonly node: string;
  readonly pid: number;
  readonly argv: readonly string[];
}

/** The `vfio_ddk_device` record of one device (its pid's metadata). */
export interface DeviceInfo {
  readonly bdf: string;
  readonly backend: 'emu' | 'vfio';
  /** 'edu', 'NVMe', 'test device', or null when lib/emu has no model of it. */
  readonly model: string | null;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly classCode: number;
  readonly revision: number;
  /** Size of BAR n as a hex string, null where the BAR is not implemented. */
  readonly bars: readonly (string | null)[];
  /** Vectors per interrupt index (VFIO_DEVICE_GET_IRQ_INFO count). */
  readonly irqCounts: { readonly intx: number; readonly msi: number; readonly msix: number };
  /** MSI Message Control at open (its Multiple Message Capable, 64-bit and per-vector mask bits), or null. */
  readonly msiControl: number | null;
  /** Command register at open (VFIO's open sets Memory Space + Bus Master before a driver sees it). */
  readonly command: number;
  readonly dmaMask: string;
  /** The model's named BAR0 registers at open, hex by name (initial-state.ts); null for an unmodelled device. */
  readonly registers: Readonly<Record<string, string>> | null;
}

/** A duration in µs kept to ns resolution (what the clock has; no float noise in the file). */
export function roundUs(us: number): number {
  return Math.round(us * 1000) / 1000;
}

/** `0x`-prefixed hex of at least `digits` digits. */
export function hexString(value: number | bigint, digits = 1): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** A hex string written by this recorder back to a bigint; null for anything else. */
export function parseHex(value: unknown): bigint | null {
  return typeof value === 'string' && /^0x[0-9a-f]+$/i.test(value) ? BigInt(value) : null;
}

/** The track of vector `vector` of VFIO interrupt index `index`. */
export function irqTrack(index: number, vector: number): { tid: number; name: string } {
  if (index === 0) return { tid: TID.intx, name: 'INTx' };
  if (index === 1) return { tid: TID.MSI0 + vector, name: `MSI ${vector}` };
  return { tid: TID.MSIX0 + vector, name: `MSI-X ${vector}` };
}

/** The vector track name of `tid` (irqTrack's inverse), or null for another track. */
export function irqTrackName(tid: number): string | null {
  if (tid === TID.intx) return 'INTx';
  if (tid >= TID.MSI0 && tid < TID.MSI0 + 32) return `MSI ${tid - TID.MSI0}`;
  if (tid >= TID.MSIX0 && tid < TID.MSIX0 + 2048) return `MSI-X ${tid - TID.MSIX0}`;
  return null;
}
