/**
 * Summary statistics shared by every benchmark (host suite, guest JS side, report): the same
 * definitions as the C baseline (hw-tests/baseline/stats.c), so a JS row and a C row are comparable.
 *
 * Percentiles are nearest-rank as stats.c computes them: sorted[floor(q·n)], clamped to the last
 * sample — median = sorted[floor(n/2)], p99 = sorted[floor(0.99·n)].
 *
 * Histograms use one fixed logarithmic grid for every row (HIST_PER_DECADE bins per decade of
 * nanoseconds), so two histograms (JS and its baseline) can be drawn on the same axis without
 * re-binning: bin k covers [10^(k/B), 10^((k+1)/B)) ns, stored as { perDecade, start, counts }.
 */

export const HIST_PER_DECADE = 20;

/** Nearest-rank percentile of an ascending array (stats.c `rank`). */
export function rank(sorted, q) {
  const n = sorted.length;
  if (n === 0) throw new RangeError('rank: no samples');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`rank: q must be in [0, 1], got ${q}`);
  const i = Math.min(n - 1, Math.floor(q * n));
  return sorted[i];
}

/** Ascending Float64Array copy of `samples` (an array or typed array of numbers). */
export function sortedCopy(samples) {
  const sorted = Float64Array.from(samples);
  for (const v of sorted) if (!Number.isFinite(v)) throw new RangeError(`samples must be finite numbers, got ${v}`);
  return sorted.sort();
}

/** { min, median, p99, max } of `samples` (ns in, ns out). RangeError when there are none. */
export function summarize(samples) {
  if (samples === null || typeof samples !== 'object' || typeof samples.length !== 'number') {
    throw new TypeError('summarize: samples must be an array of numbers');
  }
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const sorted = sortedCopy(samples);
  return { min: sorted[0], median: rank(sorted, 0.5), p99: rank(sorted, 0.99), max: sorted[sorted.length - 1] };
}

/** Grid bin of a value in ns (values ≤ 0.01 ns share the lowest bin). */
export function histBin(ns, perDecade = HIST_PER_DECADE) {
  return Math.floor(Math.log10(Math.max(ns, 0.01)) * perDecade);
}

/** Lower edge in ns of grid bin `k`. */
export function histEdge(k, perDecade = HIST_PER_DECADE) {
  return 10 ** (k / perDecade);
}

/**
 * Histogram of `samples` on the fixed log grid, trimmed to the occupied bins:
 * { perDecade, start, counts } — counts[j] samples fell in bin start + j.
 */
export function histogram(samples, perDecade = HIST_PER_DECADE) {
  if (!Number.isInteger(perDecade) || perDecade < 1 || perDecade > 1000) throw new RangeError('histogram: perDecade must be an integer in [1, 1000]');
  if (samples.length === 0) return { perDecade, start: 0, counts: [] };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of samples) {
    const k = histBin(v, perDecade);
    if (k < lo) lo = k;
    if (k > hi) hi = k;
  }
  const counts = new Array(hi - lo + 1).fill(0);
  for (const v of samples) counts[histBin(v, perDecade) - lo]++;
  return { perDecade, start: lo, counts };
}

/** subject ÷ baseline, rounded to 3 decimals; null when either is missing or the baseline is 0. */
export function ratio(subject, baseline) {
  if (typeof subject !== 'number' || typeof baseline !== 'number' || !(baseline > 0)) return null;
  return Math.round((subject / baseline) * 1000) / 1000;
}

/**
 * A reusable sample buffer: `record(ns)` per iteration (no allocation on the measured path), then
 * `values()` for the filled prefix.
 */
export class Samples {
  constructor(capacity) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Samples: capacity must be a positive integer, got ${capacity}`);
    this.buffer = new Float64Array(capacity);
    this.length = 0;
  }

  record(ns) {
    if (this.length < this.buffer.length) this.buffer[this.length++] = ns;
  }

  values() {
    return this.buffer.subarray(0, this.length);
  }
}
