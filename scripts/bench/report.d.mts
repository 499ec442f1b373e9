/** Types of report.mjs (for the TypeScript tests and the CLI); rows follow lib/cli/bench-types.ts. */
import type { BenchResult, BenchRow, BenchTarget } from '../../lib/cli/bench-types.ts';
import type { SampleSet, Summary } from './stats.mjs';
export declare function makeRow(o: {
  name: string; unit?: string; subject: SampleSet | (Summary & { n?: number }); baseline?: SampleSet | (Summary & { n?: number }) | null;
  baselineName?: string; n?: number; lost?: number | null; extra?: Record<string, unknown>;
}): BenchRow;
export declare function pairWithBaseline(jsRow: BenchRow, cRows: readonly Record<string, unknown>[]): BenchRow;
export declare const TARGETS: readonly { row: string; text: string; check(row: BenchRow): boolean }[];
export declare function evaluateTargets(rows: readonly BenchRow[]): BenchTarget[];
export declare function formatNs(ns: number | null | undefined): string;
export declare function formatTable(result: BenchResult, labels?: { subjectLabel?: string; baselineLabel?: string }): string;
export declare function writeResult(path: string, result: unknown): void;
