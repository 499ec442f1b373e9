/** Nearest-rank percentile `q` (0–1) of ascending `sorted`: sorted[⌈q·n⌉ − 1], clamped; 0 when empty. */
export function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}
