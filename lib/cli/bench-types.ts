/**
 * The shapes of the benchmark results (bench-results/host.json, hw.json) written by scripts/bench/,
 * and of the script modules the `bench` verb loads from a source checkout.
 */

export interface BenchSummary {
  readonly min: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
}

/** Counts on the fixed log grid of scripts/bench/stats.mjs: bin k covers [10^(k/B), 10^((k+1)/B)) ns. */
export interface BenchHistogram {
  readonly perDecade: number;
  readonly start: number;
  readonly counts: readonly number[];
}

export interface BenchRow {
  readonly name: string;
  readonly unit: string;
  readonly n: number;
  readonly subject: BenchSummary;
  readonly baseline: BenchSummary | null;
  readonly baseline_name: string | null;
  readonly ratio_median: number | null;
  readonly ratio_p99: number | null;
  readonly lost: number | null;
  readonly histogram?: { readonly subject: BenchHistogram | null; readonly baseline: BenchHistogram | null };
  readonly [extra: string]: unknown;
}

export interface BenchTarget {
  readonly row: string;
  readonly text: string;
  readonly status: 'met' | 'missed';
}

export interface BenchResult {
  readonly suite: 'host' | 'hw';
  readonly rows: readonly BenchRow[];
  readonly targets: readonly BenchTarget[];
  readonly [meta: string]: unknown;
}

/** scripts/bench/host-suite.mjs */
export interface HostSuiteModule {
  runHostSuite(o: { iterations: number; log: (line: string) => void; signal?: AbortSignal }): Promise<BenchResult>;
}

/** scripts/bench/hw.mjs */
export interface HwBenchModule {
  runHwBench(o: { iterations: number; log: (line: string) => void; signal?: AbortSignal }): Promise<BenchResult>;
}

/** scripts/bench/report.mjs */
export interface ReportModule {
  formatTable(result: BenchResult, labels?: { subjectLabel?: string; baselineLabel?: string }): string;
}
