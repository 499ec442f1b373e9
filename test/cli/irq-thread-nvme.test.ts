/** `vfio-ddk irq-thread --nvme` on the emulated controller: every command completed by the Worker's IRQ thread; bad input is a usage error. */
import t from 'tap';
import { main } from '../../lib/cli/main.ts';

/** `vfio-ddk …` in this process: exit code and what it printed. */
async function vfioDdk(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  return { code, stdout, stderr };
}

t.test('irq-thread --nvme --json: admin commands sent by message, completions reaped by the Worker after zx_interrupt_wait', async (t) => {
  const r = await vfioDdk('irq-thread', '--nvme', '--rounds', '12', '--depth', '3', '--json');
  t.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as {
    device: string; driver: string; rounds: number; depth: number; completed: number; interrupts: number; unexpectedCompletions: number;
    abandoned: number; endStatus: string; serial: string; failures: unknown[]; latencyUs: { min: number; median: number; p99: number };
  };
  t.match(summary, { device: 'emulated NVMe', driver: 'nvme', rounds: 12, depth: 3, completed: 12, unexpectedCompletions: 0, abandoned: 0, endStatus: 'ZX_ERR_CANCELED', serial: 'deadbeef' });
  t.same(summary.failures, []);
  t.ok(summary.interrupts >= 1 && summary.interrupts <= 12);
  t.ok(summary.latencyUs.min <= summary.latencyUs.median && summary.latencyUs.median <= summary.latencyUs.p99);
});

t.test('irq-thread --nvme: the text summary says none was lost', async (t) => {
  const r = await vfioDdk('irq-thread', '--nvme', '--rounds', '3');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /emulated NVMe, 3 admin commands .* up to 1 in flight[\s\S]*completed 3\/3 \(none lost\) after 3 interrupts[\s\S]*serial deadbeef[\s\S]*median/);
});

t.test('irq-thread --nvme: a device that cannot be opened fails the verb with the Worker\'s reason', async (t) => {
  const r = await vfioDdk('irq-thread', '--nvme', '--device', '0000:ff:1f.7', '--rounds', '1');
  t.equal(r.code, 1);
  t.match(r.stderr, /NVMe IRQ thread: .*0000:ff:1f\.7/);
});

t.test('irq-thread --nvme: bad depth or kit are usage errors (exit 2), nothing started', async (t) => {
  t.equal((await vfioDdk('irq-thread', '--nvme', '--kit', 'ddi')).code, 2, 'the NVMe loop is the Zircon one');
  t.equal((await vfioDdk('irq-thread', '--nvme', '--depth', '0')).code, 2);
  t.equal((await vfioDdk('irq-thread', '--nvme', '--depth', '32')).code, 2);
  t.equal((await vfioDdk('irq-thread', '--depth', '2')).code, 2, '--depth without --nvme');
});
