/**
 * The measuring loops every benchmark uses (host suite and the guest JS side): per-iteration samples
 * with a warm-up, timed with performance.now() (CLOCK_MONOTONIC through libuv, as the C baseline's
 * clock_gettime; ~40–90 ns per read, which both sides of a JS ratio pay alike — see timerCostNs).
 *
 * `progress(done, total)` is called about every 10 % so long work shows it is alive.
 *
 * `signal` (the async loops; Ctrl-C in `vfio-ddk bench`): a subject that settles through microtasks
 * alone never returns to the event loop, so no SIGINT listener could run. With a signal, about every
 * YIELD_EVERY_MS the loop takes one setImmediate turn — between iterations, outside the timed region
 * — and then throws the signal's reason when it was aborted. Without one (the guest JS side) nothing
 * changes. The synchronous loops cannot yield: they are checked between measurements.
 */
import { Samples } from './stats.mjs';

/** How often an abortable async loop lets the event loop run (signal handlers, timers). */
export const YIELD_EVERY_MS = 100;

/** A per-loop check: yields and throws on abort when `signal` is set, else does nothing. */
function abortCheck(signal) {
  if (signal === undefined) return null;
  let last = performance.now();
  return async () => {
    if (performance.now() - last < YIELD_EVERY_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    signal.throwIfAborted();
    last = performance.now();
  };
}

export const DEFAULT_WARMUP = 1000;
/** Accesses per sample for operations far shorter than a clock read (as the C baseline's MMIO). */
export const BATCH = 64;

function checkCount(what, n, min) {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${what} must be an integer ≥ ${min}, got ${n}`);
}

function progressEvery(total) {
  return Math.max(1, Math.ceil(total / 10));
}

/**
 * Awaits `once()` warmup + iterations times; returns the Float64Array of the last `iterations`
 * round-trip times in ns. `once` returns a promise (not an async function, so the subject pays for
 * no promise beyond its own); `after(value)` runs synchronously after the await, inside the timed
 * region (the driver's ack, a status check).
 */
export async function measureAsync(once, { iterations, warmup = DEFAULT_WARMUP, progress = () => {}, after = null, signal = undefined }) {
  checkCount('iterations', iterations, 1);
  checkCount('warmup', warmup, 0);
  const samples = new Samples(iterations);
  const check = abortCheck(signal);
  for (let i = 0; i < warmup; i++) {
    const value = await once();
    if (after !== null) after(value);
  }
  const step = progressEvery(iterations);
  for (let i = 0; i < iterations; i++) {
    if (check !== null) await check();
    const t0 = performance.now();
    const value = await once();
    if (after !== null) after(value);
    const t1 = performance.now();
    samples.record((t1 - t0) * 1e6);
    if ((i + 1) % step === 0) progress(i + 1, iterations);
  }
  return samples.values();
}

/**
 * Calls `batch(k)` (which performs `k` operations) warmup + iterations times; each sample is the
 * per-operation time in ns of one batch of `size` operations (C baseline: MMIO_BATCH).
 */
export function measureBatched(batch, { iterations, warmup = Math.ceil(DEFAULT_WARMUP / 10), size = BATCH, progress = () => {} }) {
  checkCount('iterations', iterations, 1);
  checkCount('batch size', size, 1);
  const samples = new Samples(iterations);
  for (let i = 0; i < warmup; i++) batch(size);
  const step = progressEvery(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    batch(size);
    const t1 = performance.now();
    samples.record(((t1 - t0) * 1e6) / size);
    if ((i + 1) % step === 0) progress(i + 1, iterations);
  }
  return samples.values();
}

/**
 * Like measureAsync for several cases at once, interleaved: iteration i times case 0, then case 1, …
 * so machine noise (a loaded host, GC) falls on every case alike and their ratio stays meaningful.
 * `cases` = [{ once, after? }]; returns one Float64Array per case.
 */
export async function measureAsyncInterleaved(cases, { iterations, warmup = DEFAULT_WARMUP, progress = () => {}, signal = undefined }) {
  checkCount('iterations', iterations, 1);
  checkCount('warmup', warmup, 0);
  if (!Array.isArray(cases) || cases.length === 0) throw new RangeError('measureAsyncInterleaved: at least one case');
  const samples = cases.map(() => new Samples(iterations));
  const step = progressEvery(iterations);
  const check = abortCheck(signal);
  for (let i = 0; i < warmup + iterations; i++) {
    if (check !== null) await check();
    for (let c = 0; c < cases.length; c++) {
      const { once, after = null } = cases[c];
      const t0 = performance.now();
      const value = await once();
      if (after !== null) after(value);
      const t1 = performance.now();
      if (i >= warmup) samples[c].record((t1 - t0) * 1e6);
    }
    if (i >= warmup && (i - warmup + 1) % step === 0) progress(i - warmup + 1, iterations);
  }
  return samples.map((s) => s.values());
}

/** measureBatched for several batch functions, interleaved batch by batch; one Float64Array per case. */
export function measureBatchedInterleaved(batches, { iterations, warmup = Math.ceil(DEFAULT_WARMUP / 10), size = BATCH, progress = () => {} }) {
  checkCount('iterations', iterations, 1);
  checkCount('batch size', size, 1);
  if (!Array.isArray(batches) || batches.length === 0) throw new RangeError('measureBatchedInterleaved: at least one case');
  const samples = batches.map(() => new Samples(iterations));
  const step = progressEvery(iterations);
  for (let i = 0; i < warmup + iterations; i++) {
    for (let c = 0; c < batches.length; c++) {
      const t0 = performance.now();
      batches[c](size);
      const t1 = performance.now();
      if (i >= warmup) samples[c].record(((t1 - t0) * 1e6) / size);
    }
    if (i >= warmup && (i - warmup + 1) % step === 0) progress(i - warmup + 1, iterations);
  }
  return samples.map((s) => s.values());
}

/** Synchronous per-iteration samples of `once()` (e.g. a DMA map + unmap), in ns. */
export function measureSync(once, { iterations, warmup = 10, progress = () => {} }) {
  checkCount('iterations', iterations, 1);
  const samples = new Samples(iterations);
  for (let i = 0; i < warmup; i++) once();
  const step = progressEvery(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    once();
    const t1 = performance.now();
    samples.record((t1 - t0) * 1e6);
    if ((i + 1) % step === 0) progress(i + 1, iterations);
  }
  return samples.values();
}

/** Cost in ns of one performance.now() read on this machine, warm (best of 5 rounds; metadata). */
export function timerCostNs() {
  const n = 2000;
  let sink = 0;
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink += performance.now();
    const t1 = performance.now();
    if (round > 0) best = Math.min(best, ((t1 - t0) * 1e6) / n); // round 0 warms up
  }
  return sink > 0 ? Math.round(best) : 0;
}
