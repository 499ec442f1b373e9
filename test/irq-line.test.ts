import t from 'tap';
import { IrqLine } from '../lib/irq/irq-line.ts';

function collector(line: IrqLine): { counts: number[]; stamps: bigint[] } {
  const seen = { counts: [] as number[], stamps: [] as bigint[] };
  line.setConsumer({ fire: (count, boot) => { seen.counts.push(count); seen.stamps.push(boot); } });
  return seen;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('fire delivers on the event loop, never inside the call', async (t) => {
  const line = new IrqLine('a');
  const seen = collector(line);
  line.fire();
  t.same(seen.counts, [], 'nothing delivered synchronously');
  await turn();
  t.same(seen.counts, [1]);
});

t.test('fires before the delivery coalesce into one count, first timestamp kept', async (t) => {
  const line = new IrqLine('a');
  const seen = collector(line);
  line.fire();
  const first = seen.stamps.length;
  line.fire(2);
  await turn();
  t.equal(first, 0);
  t.same(seen.counts, [3]);
  t.equal(line.fires, 3);
  t.equal(line.deliveries, 1);
});

t.test('masked fires are latched and delivered once on unmask', async (t) => {
  const line = new IrqLine('a');
  const seen = collector(line);
  line.mask();
  line.fire();
  line.fire();
  await turn();
  t.same(seen.counts, [], 'nothing while masked');
  t.equal(line.pending, 2);
  line.unmask();
  t.same(seen.counts, [], 'unmask delivers on the loop, not inside the call');
  await turn();
  t.same(seen.counts, [2]);
  t.equal(line.pending, 0);
  line.unmask();
  await turn();
  t.same(seen.counts, [2], 'a second unmask delivers nothing more');
});

t.test('deliver() from the loop is synchronous unless masked', async (t) => {
  const line = new IrqLine('a');
  const seen = collector(line);
  line.deliver(4, 10n, 9n);
  t.same(seen.counts, [4]);
  t.same(seen.stamps, [10n]);
  line.mask();
  line.deliver(1, 11n, 10n);
  t.same(seen.counts, [4]);
  line.unmask();
  await turn();
  t.same(seen.counts, [4, 1]);
  t.same(seen.stamps, [10n, 11n]);
});

t.test('detach tells the consumer once', async (t) => {
  const line = new IrqLine('a');
  let detached = 0;
  line.setConsumer({ fire: () => {}, detached: () => { detached++; } });
  line.markAttached();
  line.detach();
  line.detach();
  t.equal(detached, 1);
});

t.test('fire rejects a bad count', async (t) => {
  const line = new IrqLine('a');
  t.throws(() => line.fire(0), RangeError);
  t.throws(() => line.fire(1.5), RangeError);
});
