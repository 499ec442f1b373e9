/**
 * The NVMe admin queue's IRQ thread on the real controller: `vfio-ddk irq-thread --nvme --device <nvme>`
 * runs lib/drivers/nvme-irq-thread in a Worker — MSI-X vector 0 through the PCI protocol
 * (SetInterruptMode(MSI_X) + MapInterrupt(0), VFIO_DEVICE_SET_IRQS underneath), each command sent by
 * message and submitted through the mailbox eventfd while the Worker is blocked in zx_interrupt_wait,
 * each completion reaped after a wake (VFIO's MSI-X eventfd read natively) and sent back; the stop is a
 * zx_interrupt_destroy from the mailbox. The same verb runs on the emulated controller in
 * test/cli/irq-thread-nvme.test.ts.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { guestBdf, skipReason } from './helpers.ts';

interface Summary {
  completed: number; interrupts: number; spuriousInterrupts: number; unexpectedCompletions: number; abandoned: number;
  endStatus: string; serial: string; failures: unknown[]; latencyUs: { min: number; median: number; p99: number };
}

const bdf = guestBdf('nvme');
if (bdf === null) {
  t.plan(0, skipReason('nvme'));
} else {
  // Two runs of 500 commands under TCG take 10–30 s each: above tap's 30 s default for the file.
  t.setTimeout(300_000);
  const root = dirname(createRequire(import.meta.url).resolve('vfio-ddk/package.json'));
  for (const depth of [1, 8]) {
    t.test(`irq-thread --nvme --depth ${depth}: 500 admin commands, each completion reaped after the Worker's blocking zx_interrupt_wait, none lost`, async (t) => {
      const r = spawnSync(process.execPath, [join(root, 'bin', 'vfio-ddk.mjs'), 'irq-thread', '--nvme', '--device', bdf, '--rounds', '500', '--depth', String(depth), '--json'],
        { encoding: 'utf8', timeout: 240_000 });
      t.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as Summary;
      t.equal(summary.completed, 500, 'none lost');
      t.same(summary.failures, [], 'every command succeeded with the same data as the first of its kind');
      t.equal(summary.serial, 'deadbeef');
      t.equal(summary.unexpectedCompletions, 0);
      t.equal(summary.abandoned, 0);
      t.equal(summary.endStatus, 'ZX_ERR_CANCELED', 'stopped by zx_interrupt_destroy from the mailbox');
      if (depth === 1) t.equal(summary.interrupts - summary.spuriousInterrupts, 500, 'one at a time: one MSI-X wake per completion');
      else t.ok(summary.interrupts - summary.spuriousInterrupts <= 500, 'overlapping commands share wakes');
      const l = summary.latencyUs;
      t.comment(`NVMe IRQ thread, depth ${depth}: ${summary.interrupts} wakes (${summary.spuriousInterrupts} spurious); doorbell → thread running with the completion: `
        + `min ${l.min.toFixed(1)} µs, median ${l.median.toFixed(1)} µs, p99 ${l.p99.toFixed(1)} µs`);
    });
  }
}
