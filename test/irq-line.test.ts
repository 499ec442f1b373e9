import t from 'tap';
import { IrqLine } from '../lib/irq/irq-line.ts';
import { IrqStamps } from '../lib/irq/stamps.ts';

function collector(line: IrqLine): { counts: number[]; stamps: bigint[] } {
  const seen = { counts: [] as number[], stamps: [] as bigint[] };
  line.setConsumer({ fire: (count, stamps) => { seen.counts.push(count); seen.stamps.push(stamps.bootNs()); } });
  return seen;
}

/** What a native read leaves in a wake record. */
function stamped(boot: bigint, mono: bigint): IrqStamps {
  const s = new IrqStamps();
  s.set(boot, mono);
  return s;
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
  const record = stamped(10n, 9n);
  line.deliver(4, record);
  t.same(seen.counts, [4]);
  t.same(seen.stamps, [10n]);
  line.mask();
  record.set(11n, 10n);
  line.deliver(1, record);
  record.set(12n, 11n);
  line.deliver(1, record);
  t.same(seen.counts, [4]);
  line.unmask();
  await turn();
  t.same(seen.counts, [4, 2]);
  t.same(seen.stamps, [10n, 11n], 'the latched delivery carries its first fire\'s timestamps, copied from the record');
});

t.test('timestamps beyond 32 bits survive the word copies exactly', async (t) => {
  const line = new IrqLine('a');
  const got: [bigint, bigint][] = [];
  line.setConsumer({ fire: (_count, stamps) => { got.push([stamps.bootNs(), stamps.monoNs()]); } });
  const big = (1n << 62n) + 0x1234_5678_9abcn;
  line.deliver(1, stamped(big + 1n, big));
  line.deliver(1, stamped(0xffff_ffff_ffffn, 0x8000_0000n));
  t.same(got, [[big + 1n, big], [0xffff_ffff_ffffn, 0x8000_0000n]]);
});

t.test('fire() stamps with the clocks when the fire is counted', async (t) => {
  const line = new IrqLine('a');
  const got: bigint[] = [];
  line.setConsumer({ fire: (_count, stamps) => { got.push(stamps.monoNs(), stamps.bootNs()); } });
  const before = process.hrtime.bigint();
  line.fire();
  const after = process.hrtime.bigint();
  await turn();
  t.ok((got[0] as bigint) >= before && (got[0] as bigint) <= after, 'CLOCK_MONOTONIC at the fire');
  t.ok((got[1] as bigint) >= (got[0] as bigint), 'CLOCK_BOOTTIME ≥ MONOTONIC');
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
