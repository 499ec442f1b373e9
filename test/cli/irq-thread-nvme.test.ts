/** `vfio-ddk irq-thread --nvme` on the emulated controller: every command completed by the Worker's IRQ thread; bad input is a usage error. */
import t from 'tap';
import { main } from '../../lib/cli/main.ts';

function capture(): { out: string[]; err: string[]; overrides: { stdout: (s: string) => void; stderr: (s: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, overrides: { stdout: (s) => { out.push(s); }, stderr: (s) => { err.push(s); } } };
}

t.test('irq-thread --nvme --json: admin commands sent by message, completions reaped by the Worker after zx_interrupt_wait', async (t) => {
  const c = capture();
  t.equal(await main(['irq-thread', '--nvme', '--rounds', '12', '--depth', '3', '--json'], c.overrides), 0, c.err.join(''));
  const summary = JSON.parse(c.out.join('')) as {
    device: string; driver: string; rounds: number; depth: number; completed: number; interrupts: number; unexpectedCompletions: number;
    abandoned: number; endStatus: string; serial: string; failures: unknown[]; latencyUs: { min: number; median: number; p99: number };
  };
  t.match(summary, { device: 'emulated NVMe', driver: 'nvme', rounds: 12, depth: 3, completed: 12, unexpectedCompletions: 0, abandoned: 0, endStatus: 'ZX_ERR_CANCELED', serial: 'deadbeef' });
  t.same(summary.failures, []);
  t.ok(summary.interrupts >= 1 && summary.interrupts <= 12);
  t.ok(summary.latencyUs.min <= summary.latencyUs.median && summary.latencyUs.median <= summary.latencyUs.p99);
});

t.test('irq-thread --nvme: the text summary says none was lost', async (t) => {
  const c = capture();
  t.equal(await main(['irq-thread', '--nvme', '--rounds', '3'], c.overrides), 0, c.err.join(''));
  t.match(c.out.join(''), /emulated NVMe, 3 admin commands .* up to 1 in flight[\s\S]*completed 3\/3 \(none lost\) after 3 interrupts[\s\S]*serial deadbeef[\s\S]*median/);
});

t.test('irq-thread --nvme: a device that cannot be opened fails the verb with the Worker\'s reason', async (t) => {
  const c = capture();
  t.equal(await main(['irq-thread', '--nvme', '--device', '0000:ff:1f.7', '--rounds', '1'], c.overrides), 1);
  t.match(c.err.join(''), /NVMe IRQ thread: .*0000:ff:1f\.7/);
});

t.test('irq-thread --nvme: bad depth or kit are usage errors (exit 2), nothing started', async (t) => {
  const c = capture();
  t.equal(await main(['irq-thread', '--nvme', '--kit', 'ddi'], c.overrides), 2, 'the NVMe loop is the Zircon one');
  t.equal(await main(['irq-thread', '--nvme', '--depth', '0'], c.overrides), 2);
  t.equal(await main(['irq-thread', '--nvme', '--depth', '32'], c.overrides), 2);
  t.equal(await main(['irq-thread', '--depth', '2'], c.overrides), 2, '--depth without --nvme');
});
