/** `vfio-ddk irq-thread` on the emulated edu: the Worker services every round; bad input is a usage error. */
import t from 'tap';
import { main } from '../../lib/cli/main.ts';

function capture(): { out: string[]; err: string[]; overrides: { stdout: (s: string) => void; stderr: (s: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, overrides: { stdout: (s) => { out.push(s); }, stderr: (s) => { err.push(s); } } };
}

t.test('irq-thread on the emulated edu: JSON summary, every round serviced', async (t) => {
  const c = capture();
  t.equal(await main(['irq-thread', '--rounds', '5', '--json'], c.overrides), 0, c.err.join(''));
  const summary = JSON.parse(c.out.join('')) as { device: string; serviced: number; failures: unknown[] };
  t.equal(summary.device, 'emulated edu');
  t.equal(summary.serviced, 5);
  t.same(summary.failures, []);
});

t.test('irq-thread --kit ddi: a ddi_intr handler dispatched by ddi_intr_thread_run in the Worker', async (t) => {
  const c = capture();
  t.equal(await main(['irq-thread', '--kit', 'ddi', '--rounds', '4', '--json'], c.overrides), 0, c.err.join(''));
  const summary = JSON.parse(c.out.join('')) as { serviced: number; kit: string };
  t.equal(summary.kit, 'ddi');
  t.equal(summary.serviced, 4, 'each handler raised the next cause; the thread delivered it');
});

t.test('irq-thread: bad rounds and a malformed BDF are usage errors (exit 2), nothing started', async (t) => {
  const c = capture();
  t.equal(await main(['irq-thread', '--rounds', '0'], c.overrides), 2);
  t.equal(await main(['irq-thread', '--device', '../../etc'], c.overrides), 2);
  t.equal(await main(['irq-thread', '--kit', 'linux'], c.overrides), 2);
});
