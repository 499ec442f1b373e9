/**
 * `vfio-ddk demo --device <edu>` on the real edu, as a user runs it: the bin (dist/) in a child
 * process, JSON timeline checked step by step. The same steps pass on the emulated edu in
 * test/cli/demo.test.ts, so a difference between the backends shows up here.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { guestBdf, skipReason } from './helpers.ts';

const STEP_IDS = ['open', 'factorial', 'dma', 'zircon-wait', 'zircon-port', 'ddi-handler', 'close'];

interface DemoJson {
  device: string;
  ok: boolean;
  events: { step: string; layer: string; text: string }[];
  steps: { step: string; ok: boolean; durationUs: number; error?: string; hint?: string }[];
}

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  t.test('vfio-ddk demo --device on the real edu: every step passes', async (t) => {
    const root = dirname(createRequire(import.meta.url).resolve('vfio-ddk/package.json'));
    const r = spawnSync(process.execPath, [join(root, 'bin', 'vfio-ddk.mjs'), 'demo', '--device', bdf, '--json'], { encoding: 'utf8', timeout: 120_000 });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stderr, '');
    const demo = JSON.parse(r.stdout) as DemoJson;
    t.equal(demo.device, bdf);
    t.equal(demo.ok, true);
    t.same(demo.steps.map((s) => [s.step, s.ok]), STEP_IDS.map((id) => [id, true]));
    t.match(demo.events[0], { layer: 'vfio', text: new RegExp(`^opened ${bdf} through VFIO: 1234:11e8`) });
    t.ok(demo.events.some((e) => e.text.startsWith('10! = 3628800')));
    t.ok(demo.events.some((e) => /^zx_interrupt_wait → ZX_OK, timestamp \d+ ns/.test(e.text)));
    t.ok(demo.events.some((e) => /^zx_port_wait → ZX_OK: packet key 0xed0, type 7/.test(e.text)));
    t.ok(demo.events.some((e) => /^handler ran \(1×\) with arg1 = BAR0: yes/.test(e.text)));
    for (const s of demo.steps) t.comment(`demo step ${s.step}: ${s.durationUs.toFixed(0)} µs`);
  });
}
