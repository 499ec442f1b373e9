/**
 * `vfio-ddk bench [--hw] [--iterations N] [--json] [--plot FILE.svg]`: runs the benchmark suites of a
 * source checkout (scripts/bench/) with progress on stderr and prints the table (or JSON).
 *
 * Host (default): the suite of `npm run bench` in this process — each row against a baseline measured
 * in the same run. --hw: what `npm run bench:hw` does — builds dist/ and the C baseline, boots the
 * QEMU guest and compares every JS layer with C on the real edu (writes bench-results/hw.json).
 * --plot draws the latency histograms as a self-contained SVG (bench-plot.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JSON_OPTION, numberOption } from '../args.ts';
import type { ParsedArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.ts';
import type { Verb } from '../verb.ts';
import { renderBenchSvg } from '../bench-plot.ts';
import type { BenchResult, HostSuiteModule, HwBenchModule, ReportModule } from '../bench-types.ts';

/** scripts/bench/<file> of the checkout: lib/cli/verbs and dist/cli/verbs are both three levels down. */
export function benchScript(file: string): string {
  return fileURLToPath(new URL(`../../../scripts/bench/${file}`, import.meta.url));
}

async function load<T>(file: string): Promise<T> {
  const path = benchScript(file);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the benchmarks run from a source checkout of vfio-ddk (git clone, npm ci), not from an installed package`);
  }
  return (await import(pathToFileURL(path).href)) as T;
}

function plotPath(args: ParsedArgs): string | null {
  const raw = args.values['plot'];
  if (raw === undefined) return null;
  if (typeof raw !== 'string' || raw === '' || !raw.endsWith('.svg')) throw new UsageError(`--plot needs a file name ending in .svg, got ${JSON.stringify(raw)}`);
  return raw;
}

export const benchVerb: Verb = {
  spec: {
    name: 'bench',
    summary: 'Measure interrupt and MMIO latency against a C baseline.',
    positionals: [],
    options: {
      hw: { type: 'boolean', description: 'boot the QEMU guest and compare every JS layer with the C baseline on the real edu' },
      iterations: { type: 'string', valueName: 'N', description: 'samples per latency row (default 10000, at least 10)' },
      json: JSON_OPTION,
      plot: { type: 'string', valueName: 'FILE.svg', description: 'also draw the latency histograms as an SVG file' },
    },
    details: [
      'Host rows: virtual interrupt → zx_interrupt_wait / zx_port_wait vs a bare Promise ping-pong, emulated MSI',
      'delivery vs setImmediate, ddi_intr setup per vector at 256–2048 vectors, handle table at 10^5 handles vs a Map.',
      'With --hw: MSI round trips through the addon watcher, IrqLine, zx_interrupt_wait, ports and ddi_intr, MMIO',
      'through the BAR view and the accessors, DMA map + unmap, INTx, an MSI storm — each divided by the C row.',
      'Ratios are subject ÷ baseline (below 1: faster). Needs a source checkout; --hw also needs the guest',
      'setup of `npm run test:hw` and cmake. Progress goes to stderr.',
    ].join('\n'),
  },
  async run(args: ParsedArgs, ctx: CliContext): Promise<number> {
    const iterations = numberOption(args, 'iterations', 10_000, 10, 10_000_000);
    if (!Number.isInteger(iterations)) throw new UsageError(`--iterations must be a whole number, got ${iterations}`);
    const plot = plotPath(args);
    const hw = args.values['hw'] === true;
    const log = (line: string): void => ctx.stderr(`bench: ${line}\n`);
    const report = await load<ReportModule>('report.mjs');
    let result: BenchResult;
    if (hw) result = await (await load<HwBenchModule>('hw.mjs')).runHwBench({ iterations, log });
    else result = await (await load<HostSuiteModule>('host-suite.mjs')).runHostSuite({ iterations, log });
    if (args.values['json'] === true) ctx.stdout(JSON.stringify(result, null, 2) + '\n');
    else ctx.stdout(report.formatTable(result, hw ? { subjectLabel: 'JS', baselineLabel: 'C' } : { subjectLabel: 'subject', baselineLabel: 'baseline' }));
    if (plot !== null) {
      writeFileSync(plot, renderBenchSvg(result, hw ? { subject: 'JS', baseline: 'C' } : { subject: 'subject', baseline: 'baseline' }));
      log(`histograms → ${plot}`);
    }
    if (result.rows.length === 0) {
      ctx.stderr('vfio-ddk bench: no rows were measured (see the progress lines above)\n');
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  },
};
