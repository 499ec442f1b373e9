/** Types of stats.mjs (for the TypeScript tests; the scripts themselves are plain JavaScript). */
export interface Summary { min: number; median: number; p99: number; max: number }
export interface Histogram { perDecade: number; start: number; counts: number[] }
export type SampleSet = ArrayLike<number> & Iterable<number>;
export declare const HIST_PER_DECADE: number;
export declare function rank(sorted: ArrayLike<number>, q: number): number;
export declare function sortedCopy(samples: SampleSet): Float64Array;
export declare function summarize(samples: SampleSet): Summary;
export declare function histBin(ns: number, perDecade?: number): number;
export declare function histEdge(k: number, perDecade?: number): number;
export declare function histogram(samples: SampleSet, perDecade?: number): Histogram;
export declare function ratio(subject: number | null | undefined, baseline: number | null | undefined): number | null;
export declare class Samples {
  constructor(capacity: number);
  readonly buffer: Float64Array;
  readonly length: number;
  record(ns: number): void;
  values(): Float64Array;
}
