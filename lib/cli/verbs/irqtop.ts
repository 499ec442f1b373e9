/**
 * `vfio-ddk irqtop`: live per-vector interrupt rates of VFIO devices from /proc/interrupts, refreshed
 * like top. `--once` takes two samples one interval apart, prints the rates and exits (for scripts).
 * Rates use the measured time between samples, not the nominal interval.
 */
import { join } from 'node:path';
import { normalizeBdf } from '../../vfio/bdf.ts';
import { readText } from '../../vfio/sysfs-files.ts';
import { JSON_OPTION, integerOption, numberOption } from '../args.ts';
import type { CliContext } from '../context.ts';
import { DdkError } from '../../errors.ts';
import { EXIT_OK } from '../exit-codes.ts';
import { formatTable, toJson } from '../output.ts';
import { parseProcInterrupts, vectorRates } from '../proc-interrupts.ts';
import type { InterruptVector, VectorRate } from '../proc-interrupts.ts';
import type { Verb } from '../verb.ts';

const CLEAR_SCREEN = '\x1b[H\x1b[2J';
const KIND_ORDER = { intx: 0, msi: 1, msix: 2 } as const;

function sample(ctx: CliContext, all: boolean, bdf: string | null): InterruptVector[] | null {
  const text = readText(join(ctx.procRoot, 'interrupts'));
  if (text === null) return null;
  return parseProcInterrupts(text, all)
    .filter((v) => bdf === null || v.bdf === bdf)
    .sort((a, b) => a.bdf.localeCompare(b.bdf) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.vector - b.vector);
}

function render(rates: readonly VectorRate[], seconds: number, all: boolean): string {
  const head = `vfio-ddk irqtop: interrupts/s over ${seconds.toFixed(2)} s\n`;
  if (rates.length === 0) {
    return head + (all ? 'no PCI MSI/MSI-X or VFIO vectors in /proc/interrupts\n'
      : 'no VFIO interrupt vectors in /proc/interrupts (bind a device and enable its interrupts; --all shows every PCI MSI vector)\n');
  }
  const rows = rates.map((r) => [
    r.bdf, r.kind === 'intx' ? 'INTx' : r.kind === 'msi' ? 'MSI' : 'MSI-X', String(r.vector), r.irq,
    r.rate.toFixed(1), String(r.total), r.name,
  ]);
  return head + formatTable(['BDF', 'INDEX', 'VECTOR', 'IRQ', 'RATE/s', 'TOTAL', 'NAME'], rows);
}

function isAbort(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'name' in err && err.name === 'AbortError';
}

export const irqtopVerb: Verb = {
  spec: {
    name: 'irqtop',
    summary: 'Show live per-vector interrupt rates of VFIO devices (vfio-msi/-msix/-intx in /proc/interrupts).',
    positionals: [],
    options: {
      interval: { type: 'string', valueName: 'SECONDS', description: 'time between samples (default 1, 0.1–3600)' },
      once: { type: 'boolean', description: 'two samples one interval apart, print the rates, exit' },
      count: { type: 'string', valueName: 'N', description: 'exit after N refreshes (default: until Ctrl-C)' },
      bdf: { type: 'string', valueName: 'BDF', description: 'only this device' },
      all: { type: 'boolean', description: 'also every PCI MSI/MSI-X vector of other drivers' },
      json: { ...JSON_OPTION, description: 'print JSON (with --once one object, else one line per refresh)' },
    },
  },
  async run(args, ctx) {
    const seconds = numberOption(args, 'interval', 1, 0.1, 3600);
    const count = args.values['once'] === true ? 1 : integerOption(args, 'count', Infinity, 1, Number.MAX_SAFE_INTEGER);
    const bdfArg = args.values['bdf'];
    const bdf = typeof bdfArg === 'string' ? normalizeBdf(bdfArg) : null;
    const all = args.values['all'] === true;
    const json = args.values['json'] === true;
    let before = sample(ctx, all, bdf);
    // Thrown, not printed, so that --json answers in JSON here too (main.ts); ENOENT → exit 3.
    if (before === null) throw new DdkError('ENOENT', `cannot read ${join(ctx.procRoot, 'interrupts')}: no such file (is /proc mounted?)`);
    let t0 = ctx.now();
    for (let refresh = 0; refresh < count; refresh += 1) {
      try {
        await ctx.sleep(seconds * 1000, ctx.signal);
      } catch (err) {
        if (isAbort(err)) return EXIT_OK;
        throw err;
      }
      const after = sample(ctx, all, bdf) ?? [];
      const t1 = ctx.now();
      const measured = (t1 - t0) / 1000 > 0 ? (t1 - t0) / 1000 : seconds;
      const rates = vectorRates(before, after, measured);
      if (json) {
        const doc = { intervalSeconds: measured, vectors: rates };
        ctx.stdout(count === 1 ? toJson(doc) : JSON.stringify(doc) + '\n');
      } else {
        ctx.stdout((ctx.isTTY && count !== 1 ? CLEAR_SCREEN : '') + render(rates, measured, all));
      }
      before = after;
      t0 = t1;
    }
    return EXIT_OK;
  },
};
