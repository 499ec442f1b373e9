/**
 * The NVMe IRQ thread in a Worker on the emulated controller: this thread submits by message, the
 * Worker blocks in zx_interrupt_wait and sends each completion back. The same workload runs on the
 * real controller in hw-tests/irq-thread.test.ts.
 */
import t from 'tap';
import { runNvmeIrqThreadRounds, startNvmeIrqThread } from '../../lib/cli/irq-thread-nvme.ts';
import type { NvmeThreadCompletion } from '../../lib/drivers/nvme-irq-thread/protocol.ts';

t.test('200 admin commands one at a time: each completion reaped after its own blocking zx_interrupt_wait in the Worker, none lost', async (t) => {
  const result = await runNvmeIrqThreadRounds({ bdf: null, rounds: 200, depth: 1 });
  t.same(result.failures, []);
  t.equal(result.completions.length, 200);
  t.equal(result.serial, 'deadbeef');
  t.match(result.stats, { submitted: 200, completed: 200, wakes: 200, spuriousWakes: 0, unexpected: 0, abandoned: 0, endStatus: 'ZX_ERR_CANCELED' });
  t.equal(new Set(result.completions.map((c) => c.wake)).size, 200, 'one wake per completion');
  t.same(result.completions.map((c) => c.id), [...Array(200).keys()].map((i) => i + 1));
  const latencies = result.completions.map((c) => c.latencyNs / 1000).sort((a, b) => a - b);
  t.comment(`emulated, doorbell → Worker running with the completion: median ${latencies[100]?.toFixed(1)} µs`);
});

t.test('the client: named commands, a failed command rejects EIO, bad input throws, stop settles everything', async (t) => {
  const client = startNvmeIrqThread({ bdf: null });
  t.match(await client.ready, { queueEntries: 32 });
  t.match(await client.identifyController(), { serial: 'deadbeef', model: 'QEMU NVMe Ctrl' });
  t.match(await client.identifyNamespace(1), { nsid: 1, sizeBlocks: 131072n });
  t.same(await client.activeNamespaces(), [1]);
  t.same(await client.numberOfQueues(), { submission: 64, completion: 64 });
  await t.rejects(client.identifyNamespace(300), { name: 'DdkError', code: 'EIO', message: /Identify Namespace 300 failed with SCT 0x0 SC 0xb/ });
  await t.rejects(client.getFeature(0x7f), { code: 'EIO', message: /SC 0x2/ });
  await t.rejects(client.identifyNamespace(0), RangeError);
  t.throws(() => client.submit({ kind: 'format' } as never), TypeError);
  t.throws(() => client.submit(null as never), TypeError);
  // Overlapping commands: up to 31 in flight, completions sharing wakes, each settling its own request.
  const overlapped = await Promise.all(Array.from({ length: 24 }, (_, i) => client.submit(i % 2 === 0 ? { kind: 'identify-controller' } : { kind: 'identify-namespace', nsid: 1 })));
  t.ok(overlapped.every((c, i) => c.status === 0 && (i % 2 === 0 ? (c.result as { serial: string }).serial === 'deadbeef' : (c.result as { nsid: number }).nsid === 1)), '24 overlapping commands, each answered with its own data');
  t.ok(new Set(overlapped.map((c) => c.wake)).size < 24, 'some reaped by the same wake');
  // A burst, then stop at once: every request settles — completed, or ECLOSED if the stop overtook it.
  const burst = Array.from({ length: 40 }, () => client.submit({ kind: 'identify-controller' }).then(
    (c: NvmeThreadCompletion): { ok: boolean; code?: string } => ({ ok: c.status === 0 }),
    (error: { code?: string }): { ok: boolean; code?: string } => ({ ok: false, ...(error.code === undefined ? {} : { code: error.code }) }),
  ));
  const stats = await client.stop();
  const outcomes = await Promise.all(burst);
  const completed = outcomes.filter((o) => o.ok).length;
  t.ok(outcomes.every((o) => o.ok || o.code === 'ECLOSED'), 'completed or ECLOSED, nothing hangs');
  t.equal(stats.completed, 30 + completed, 'the thread counted what this side received (30 before the burst, 2 of them failed commands)');
  t.equal(stats.abandoned, 40 - completed);
  t.equal(client.pending, 0);
  await t.rejects(client.submit({ kind: 'identify-controller' }), { code: 'ECLOSED' });
  t.same(await client.stop(), stats, 'stop again: the same statistics');
});

t.test('a Worker that cannot open its device: ready rejects with its reason', async (t) => {
  await t.rejects(runNvmeIrqThreadRounds({ bdf: '0000:ff:1f.7', rounds: 1, depth: 1 }), { name: 'DdkError', code: 'EIO', message: /NVMe IRQ thread: .*0000:ff:1f\.7/ });
});
