/**
 * The blocking model on the real edu: `vfio-ddk irq-thread --device <edu>` runs the edu interrupt loop
 * in a Worker that blocks in `vfio-ddk/zircon/blocking` zx_interrupt_wait — each MSI read from VFIO's
 * eventfd natively while the worker is blocked (native/blocking_wait.cc), decoded by the platform, and
 * delivered through the A.8 state machine. The same verb passes on the emulated edu in test/cli.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { guestBdf, skipReason } from './helpers.ts';

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  for (const kit of ['zircon', 'ddi'] as const) {
    t.test(`irq-thread --kit ${kit} --device on the real edu: every round serviced on a blocked Worker`, async (t) => {
      const root = dirname(createRequire(import.meta.url).resolve('vfio-ddk/package.json'));
      const r = spawnSync(process.execPath, [join(root, 'bin', 'vfio-ddk.mjs'), 'irq-thread', '--kit', kit, '--device', bdf, '--rounds', '2000', '--json'],
        { encoding: 'utf8', timeout: 180_000 });
      t.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { serviced: number; failures: unknown[]; latencyUs: { min: number; median: number; p99: number } };
      t.equal(summary.serviced, 2000, 'no interrupt lost');
      t.same(summary.failures, []);
      t.comment(`${kit} interrupt thread, raise → interrupt: min ${summary.latencyUs.min.toFixed(1)} µs, median ${summary.latencyUs.median.toFixed(1)} µs, p99 ${summary.latencyUs.p99.toFixed(1)} µs`);
    });
  }
}
