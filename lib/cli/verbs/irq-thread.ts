/**
 * `vfio-ddk irq-thread`: a driver's interrupt loop as an IRQ thread in a Worker — the worker blocks
 * (`vfio-ddk/zircon/blocking` zx_interrupt_wait, or ddi_intr_thread_run), this thread's event loop
 * only talks to it by message. The edu loop by default (lib/cli/irq-thread.ts,
 * lib/drivers/edu-irq-thread.ts); `--nvme` the NVMe admin queue (lib/cli/irq-thread-nvme.ts,
 * lib/drivers/nvme-irq-thread). Emulated devices unless `--device BDF` names one bound to vfio-pci.
 */
import { nearestRank } from '../../stats.ts';
import { normalizeBdf } from '../../vfio/bdf.ts';
import { JSON_OPTION, integerOption } from '../args.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.ts';
import { runIrqThreadWorker } from '../irq-thread.ts';
import { runNvmeIrqThreadRounds } from '../irq-thread-nvme.ts';
import { toJson } from '../output.ts';
import type { CliContext } from '../context.ts';
import type { Verb } from '../verb.ts';

function latencySummary(latenciesNs: readonly number[]): { min: number; median: number; p99: number } {
  const us = latenciesNs.map((ns) => ns / 1000).sort((a, b) => a - b);
  return { min: us[0] ?? 0, median: nearestRank(us, 0.5), p99: nearestRank(us, 0.99) };
}

const formatLatency = (l: { min: number; median: number; p99: number }): string =>
  `min ${l.min.toFixed(1)} µs, median ${l.median.toFixed(1)} µs, p99 ${l.p99.toFixed(1)} µs`;

async function runEdu(bdf: string | null, rounds: number, kit: 'zircon' | 'ddi', json: boolean, ctx: CliContext): Promise<number> {
  const reports = await runIrqThreadWorker({ bdf, rounds, kit });
  const ok = reports.filter((r) => r.status === 'ZX_OK' || r.status === 'DDI_INTR_CLAIMED');
  const summary = {
    device: bdf ?? 'emulated edu', rounds, serviced: ok.length,
    latencyUs: latencySummary(ok.map((r) => r.latencyNs)),
    kit,
    failures: reports.filter((r) => !ok.includes(r)).map((r) => ({ round: r.round, status: r.status })),
  };
  if (json) ctx.stdout(toJson(summary));
  else {
    const how = kit === 'ddi' ? 'a ddi_intr handler on an interrupt thread' : 'a Worker blocked in zx_interrupt_wait';
    ctx.stdout(`vfio-ddk irq-thread: ${summary.device}, ${rounds} rounds through ${how}\n`);
    ctx.stdout(`  serviced ${ok.length}/${rounds}; raise → the thread running again: ${formatLatency(summary.latencyUs)}\n`);
    for (const f of summary.failures) ctx.stdout(`  round ${f.round}: ${f.status}\n`);
  }
  return ok.length === rounds ? EXIT_OK : EXIT_FAILURE;
}

async function runNvme(bdf: string | null, rounds: number, depth: number, json: boolean, ctx: CliContext): Promise<number> {
  const result = await runNvmeIrqThreadRounds({ bdf, rounds, depth });
  const { stats } = result;
  const summary = {
    device: bdf ?? 'emulated NVMe', driver: 'nvme', kit: 'zircon', rounds, depth, queueEntries: result.ready.queueEntries,
    completed: stats.completed, interrupts: stats.wakes, spuriousInterrupts: stats.spuriousWakes,
    unexpectedCompletions: stats.unexpected, abandoned: stats.abandoned, endStatus: stats.endStatus,
    serial: result.serial, latencyUs: latencySummary(result.completions.map((c) => c.latencyNs)),
    failures: result.failures,
  };
  const allGood = stats.completed === rounds && result.failures.length === 0 && stats.unexpected === 0;
  if (json) ctx.stdout(toJson(summary));
  else {
    ctx.stdout(`vfio-ddk irq-thread --nvme: ${summary.device}, ${rounds} admin commands (Identify Controller / Namespace 1, Get Features) `
      + `with up to ${depth} in flight, completions reaped by a Worker blocked in zx_interrupt_wait (MSI-X vector 0)\n`);
    ctx.stdout(`  completed ${stats.completed}/${rounds}${allGood ? ' (none lost)' : ''} after ${stats.wakes} interrupts `
      + `(${stats.spuriousWakes} found nothing new); serial ${result.serial ?? '?'}\n`);
    ctx.stdout(`  doorbell → the thread running again with the completion: ${formatLatency(summary.latencyUs)}\n`);
    for (const f of result.failures) ctx.stdout(`  round ${f.round}: ${f.error}\n`);
  }
  return allGood ? EXIT_OK : EXIT_FAILURE;
}

export const irqThreadVerb: Verb = {
  spec: {
    name: 'irq-thread',
    summary: 'Run a driver\'s interrupt loop as a blocking IRQ thread in a Worker: the edu\'s, or the NVMe admin queue\'s with --nvme (emulated unless --device).',
    positionals: [],
    options: {
      device: { type: 'string', valueName: 'BDF', description: 'a real edu (or with --nvme an NVMe controller) bound to vfio-pci (default: an emulated one)' },
      nvme: { type: 'boolean', description: 'the NVMe admin queue: commands sent by message, completions reaped after zx_interrupt_wait' },
      rounds: { type: 'string', valueName: 'N', description: 'interrupts to service / NVMe commands to complete (default 100, 1–1000000)' },
      depth: { type: 'string', valueName: 'N', description: 'with --nvme: commands in flight at once (default 1: one interrupt each, 1–31)' },
      kit: { type: 'string', valueName: 'KIT', description: 'zircon (blocking zx_interrupt_wait, default) or ddi (a ddi_intr handler on ddi_intr_thread_run; edu only)' },
      json: JSON_OPTION,
    },
  },
  async run(args, ctx) {
    const rounds = integerOption(args, 'rounds', 100, 1, 1_000_000);
    const device = args.values['device'];
    const bdf = typeof device === 'string' ? normalizeBdf(device) : null;
    const kit = args.values['kit'] ?? 'zircon';
    if (kit !== 'zircon' && kit !== 'ddi') throw new UsageError(`--kit must be zircon or ddi, got ${String(kit)}`);
    const json = args.values['json'] === true;
    if (args.values['nvme'] !== true) {
      if (args.values['depth'] !== undefined) throw new UsageError('--depth is for --nvme (the edu loop raises one interrupt at a time)');
      return runEdu(bdf, rounds, kit, json, ctx);
    }
    if (kit !== 'zircon') throw new UsageError('--nvme runs the Zircon IRQ thread only: drop --kit ddi');
    return runNvme(bdf, rounds, integerOption(args, 'depth', 1, 1, 31), json, ctx);
  },
};
