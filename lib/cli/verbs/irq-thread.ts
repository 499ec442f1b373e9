/**
 * `vfio-ddk irq-thread`: the edu's interrupt loop as a Zircon IRQ thread in a Worker — the worker
 * blocks in `vfio-ddk/zircon/blocking` zx_interrupt_wait, this thread's event loop only relays its
 * reports (lib/cli/irq-thread.ts, lib/drivers/edu-irq-thread.ts). The emulated edu by default;
 * `--device BDF` a real edu bound to vfio-pci.
 */
import { normalizeBdf } from '../../vfio/bdf.ts';
import { JSON_OPTION, integerOption } from '../args.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.ts';
import { runIrqThreadWorker } from '../irq-thread.ts';
import { toJson } from '../output.ts';
import type { Verb } from '../verb.ts';

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

export const irqThreadVerb: Verb = {
  spec: {
    name: 'irq-thread',
    summary: 'Run the edu interrupt loop as a blocking Zircon IRQ thread in a Worker (emulated edu unless --device).',
    positionals: [],
    options: {
      device: { type: 'string', valueName: 'BDF', description: 'a real edu bound to vfio-pci (default: an emulated edu)' },
      rounds: { type: 'string', valueName: 'N', description: 'interrupts to service (default 100, 1–1000000)' },
      kit: { type: 'string', valueName: 'KIT', description: 'zircon (blocking zx_interrupt_wait, default) or ddi (a ddi_intr handler on ddi_intr_thread_run)' },
      json: JSON_OPTION,
    },
  },
  async run(args, ctx) {
    const rounds = integerOption(args, 'rounds', 100, 1, 1_000_000);
    const device = args.values['device'];
    const bdf = typeof device === 'string' ? normalizeBdf(device) : null;
    const kitArg = args.values['kit'] ?? 'zircon';
    if (kitArg !== 'zircon' && kitArg !== 'ddi') throw new UsageError(`--kit must be zircon or ddi, got ${String(kitArg)}`);
    const reports = await runIrqThreadWorker({ bdf, rounds, kit: kitArg });
    const ok = reports.filter((r) => r.status === 'ZX_OK' || r.status === 'DDI_INTR_CLAIMED');
    const latencies = ok.map((r) => r.latencyNs / 1000).sort((a, b) => a - b);
    const summary = {
      device: bdf ?? 'emulated edu', rounds, serviced: ok.length,
      latencyUs: { min: latencies[0] ?? 0, median: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
      kit: kitArg,
      failures: reports.filter((r) => !ok.includes(r)).map((r) => ({ round: r.round, status: r.status })),
    };
    if (args.values['json'] === true) ctx.stdout(toJson(summary));
    else {
      const how = kitArg === 'ddi' ? 'a ddi_intr handler on an interrupt thread' : 'a Worker blocked in zx_interrupt_wait';
      ctx.stdout(`vfio-ddk irq-thread: ${summary.device}, ${rounds} rounds through ${how}\n`);
      ctx.stdout(`  serviced ${ok.length}/${rounds}; raise → the thread running again: min ${summary.latencyUs.min.toFixed(1)} µs, `
        + `median ${summary.latencyUs.median.toFixed(1)} µs, p99 ${summary.latencyUs.p99.toFixed(1)} µs\n`);
      for (const f of summary.failures) ctx.stdout(`  round ${f.round}: ${f.status}\n`);
    }
    return ok.length === rounds ? EXIT_OK : EXIT_FAILURE;
  },
};
