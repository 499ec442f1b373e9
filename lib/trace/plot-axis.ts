/**
 * The time axis of `trace --plot` (plot.ts): linear, except that a stretch in which nothing happened on
 * any track and which is a tenth of the trace or more — a driver waiting, a process loading modules —
 * is squeezed into a narrow break band labelled with its length, so the activity around it stays
 * readable. Time is kept in BINS bins over the trace; the axis maps µs to x in the plot.
 */
export const BINS = 16384;
/** A quiet stretch this long (a fraction of the trace) or longer becomes a break. */
const GAP_FRACTION = 0.1;
const GAP_W = 34;

export interface Break {
  /** x of the band and its width, in the plot. */
  readonly x: number;
  readonly width: number;
  /** µs of quiet time it stands for. */
  readonly us: number;
}

export interface Tick {
  readonly x: number;
  /** µs since the start of the trace. */
  readonly at: number;
}

export interface TimeAxis {
  readonly t0: number;
  readonly t1: number;
  /** x of `ts` (µs) in [0, width]. */
  x(ts: number): number;
  readonly breaks: readonly Break[];
  /** Round-valued ticks outside the breaks, and the step between them (µs). */
  readonly ticks: readonly Tick[];
  readonly step: number;
}

/** 1, 2 or 5 × 10^k µs so that about `count` ticks span `range` µs. */
export function tickStep(range: number, count: number): number {
  const raw = Math.max(range / count, 1e-3);
  const base = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw) ?? 10 * base;
}

/** The bin of `ts` in [t0, t1]. */
export function binOf(ts: number, t0: number, t1: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor(((ts - t0) / (t1 - t0)) * BINS)));
}

/** The axis over [t0, t1] drawn `width` wide, given which bins saw anything. */
export function timeAxis(t0: number, t1: number, busy: Uint8Array, width: number): TimeAxis {
  const binUs = (t1 - t0) / BINS;
  // Quiet runs long enough to break, as [first bin, end bin).
  const quiet: [number, number][] = [];
  for (let b = 0; b < BINS;) {
    if (busy[b] !== 0) { b++; continue; }
    let e = b;
    while (e < BINS && busy[e] === 0) e++;
    if (e - b >= GAP_FRACTION * BINS) quiet.push([b, e]);
    b = e;
  }
  const quietBins = quiet.reduce((n, [b, e]) => n + e - b, 0);
  const usable = width - GAP_W * quiet.length;
  const pxPerBin = usable / Math.max(1, BINS - quietBins);
  const x = (ts: number): number => {
    const at = Math.min(BINS, Math.max(0, ((ts - t0) / (t1 - t0)) * BINS));
    let px = 0;
    let from = 0;
    for (const [b, e] of quiet) {
      if (at < b) break;
      px += (b - from) * pxPerBin;
      if (at < e) return px + ((at - b) / (e - b)) * GAP_W;
      px += GAP_W;
      from = e;
    }
    return px + (at - from) * pxPerBin;
  };
  const breaks = quiet.map(([b, e]) => ({ x: x(t0 + b * binUs), width: GAP_W, us: (e - b) * binUs }));
  // At least one bin: a trace quiet from end to end (nothing but waits) would make the step 0 and the
  // tick loop below walk its whole length in 1 ns steps.
  const visibleUs = Math.max(1, BINS - quietBins) * binUs;
  const step = tickStep(visibleUs, Math.max(2, Math.round(usable / 110)));
  const ticks: Tick[] = [];
  for (let at = 0; at <= t1 - t0 + 1e-9; at += step) {
    const bin = binOf(t0 + at, t0, t1);
    if (quiet.some(([b, e]) => bin >= b && bin < e)) continue;
    ticks.push({ x: x(t0 + at), at });
  }
  return { t0, t1, x, breaks, ticks, step };
}
