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
import { DdkError } from '../../errors.ts';
import { JSON_OPTION, numberOption } from '../args.ts';
import type { ParsedArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, UsageError } from '../exit-codes.ts';
import type { Verb } from '../verb.ts';
import { renderBenchSvg } from '../bench-plot.ts';
import { outputPathProblem, svgPlotName } from '../output-path.ts';
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

/**
 * The --plot file, checked before anything runs (a bench takes minutes): UsageError for a name that
 * is not .svg, DdkError ENOENT / ENOTDIR / EACCES / EISDIR when it cannot be written (output-path.ts).
 */
function plotPath(args: ParsedArgs): string | null {
  const raw = args.values['plot'];
  if (raw === undefined) return null;
  const name = svgPlotName(raw);
  const problem = outputPathProblem(name);
  if (problem !== null) throw new DdkError(problem.code, `--plot ${name}: ${problem.message}`);
  return name;
}

/**
 * Ctrl-C while measuring: the first aborts the run (ctx.signal, wired to SIGINT by the bin) — the
 * suites stop at their next check, close what they opened and stop the guest QEMU; the second, for
 * a run that does not stop soon enough, kills this process's children and exits 130 at once.
 * Returns the signal for the suites and a function that removes the listeners.
 */
function interruptible(ctx: CliContext, log: (line: string) => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  if (ctx.signal === undefined) return { signal: controller.signal, dispose: () => {} };
  const onAbort = (): void => {
    log('interrupted: stopping (Ctrl-C again to quit at once)');
    controller.abort(ctx.signal?.reason);
  };
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  let count = 0;
  const onSigint = (): void => {
    count += 1;
    if (!ctx.signal?.aborted) { onAbort(); return; } // the bin's own listener is gone already
    if (count < 2) return; // this first one is the abort above
    log('interrupted twice: killing child processes and exiting');
    void import(pathToFileURL(benchScript('children.mjs')).href)
      .then((m: { killDescendants: (signal: string) => number[] }) => m.killDescendants('SIGKILL'))
      .catch(() => {})
      .finally(() => process.exit(EXIT_INTERRUPTED));
  };
  process.on('SIGINT', onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      ctx.signal?.removeEventListener('abort', onAbort);
      process.off('SIGINT', onSigint);
    },
  };
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
    const { signal, dispose } = interruptible(ctx, log);
    try {
      if (hw) result = await (await load<HwBenchModule>('hw.mjs')).runHwBench({ iterations, log, signal });
      else result = await (await load<HostSuiteModule>('host-suite.mjs')).runHostSuite({ iterations, log, signal });
    } catch (err) {
      if (!signal.aborted) throw err;
      ctx.stderr('vfio-ddk bench: interrupted; nothing was written\n');
      return EXIT_INTERRUPTED;
    } finally {
      dispose();
    }
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
