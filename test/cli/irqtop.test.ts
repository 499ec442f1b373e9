import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcInterrupts, vectorRates } from '../../lib/cli/proc-interrupts.ts';
import { makeFixture, PROC_INTERRUPTS } from '../vfio/fixtures.ts';
import type { Fixture } from '../vfio/fixtures.ts';
import { BAD_BDFS, runCli } from './harness.ts';

t.test('the parser finds vfio vectors, sums CPUs and skips junk', async (t) => {
  const v = parseProcInterrupts(PROC_INTERRUPTS);
  t.same(v.map((x) => [x.irq, x.bdf, x.kind, x.vector, x.total]), [
    ['11', '0000:00:02.0', 'intx', 0, 12],
    ['24', '0000:00:01.0', 'msi', 0, 120],
    ['25', '0000:00:02.0', 'msix', 0, 1000],
    ['26', '0000:00:02.0', 'msix', 1, 30],
  ]);
  const all = parseProcInterrupts(PROC_INTERRUPTS, true);
  t.match(all.at(-1), { irq: '27', bdf: '0000:00:06.0', kind: 'msix', vector: 0, name: 'virtio0-config', vfio: false });
  t.same(parseProcInterrupts(''), []);
  t.same(parseProcInterrupts('no header\n 1: 2 3 x'), []);
});

t.test('rates are deltas over the measured time; new vectors count from zero', async (t) => {
  const before = parseProcInterrupts(PROC_INTERRUPTS);
  const after = parseProcInterrupts(PROC_INTERRUPTS.replace(' 1000          0', ' 1500          0'));
  const r = vectorRates(before.slice(1), after, 2);
  t.equal(r.find((x) => x.irq === '25')?.rate, 250);
  t.equal(r.find((x) => x.irq === '11')?.delta, 12, 'absent before');
  t.equal(r.find((x) => x.irq === '24')?.rate, 0);
});

/** A sleep that advances the fixture's counters and a clock that moves 2 s per sleep. */
function ticking(fx: Fixture): { sleep: () => Promise<void>; now: () => number } {
  let clock = 0;
  let msix0 = 1000;
  return {
    sleep: async () => {
      clock += 2000;
      msix0 += 400;
      writeFileSync(join(fx.proc, 'interrupts'), PROC_INTERRUPTS.replace(' 1000          0', ` ${msix0}          0`));
    },
    now: () => clock,
  };
}

t.test('irqtop --once prints one table of rates', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['irqtop', '--once'], fx, ticking(fx));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /interrupts\/s over 2\.00 s/);
  t.match(r.stdout, /0000:00:02\.0\s+MSI-X\s+0\s+25\s+200\.0\s+1400\s+vfio-msix\[0\]\(0000:00:02\.0\)/);
  t.match(r.stdout, /0000:00:02\.0\s+INTx\s+0\s+11\s+0\.0\s+12/);
  t.notMatch(r.stdout, /virtio0-config/);
});

t.test('irqtop --once --json, --bdf and --all', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['irqtop', '--once', '--json', '--bdf', '00:02.0'], fx, ticking(fx));
  t.equal(r.code, 0);
  const doc = JSON.parse(r.stdout) as { intervalSeconds: number; vectors: { kind: string; vector: number; rate: number }[] };
  t.equal(doc.intervalSeconds, 2);
  t.same(doc.vectors.map((v) => [v.kind, v.vector, v.rate]), [['intx', 0, 0], ['msix', 0, 200], ['msix', 1, 0]]);
  const all = await runCli(['irqtop', '--once', '--all'], fx, ticking(fx));
  t.match(all.stdout, /0000:00:06\.0\s+MSI-X\s+0\s+27.*virtio0-config/);
});

t.test('irqtop refreshes --count times (one JSON line each) and stops on abort', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['irqtop', '--count', '3', '--json', '--interval', '0.5'], fx, ticking(fx));
  t.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines.length, 3);
  t.equal((JSON.parse(lines[2] ?? '') as { vectors: unknown[] }).vectors.length, 4);
  const controller = new AbortController();
  let sleeps = 0;
  const aborted = await runCli(['irqtop'], fx, {
    signal: controller.signal,
    sleep: async (_ms, signal) => {
      sleeps += 1;
      if (sleeps === 3) controller.abort();
      if (signal?.aborted === true) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    },
  });
  t.equal(aborted.code, 0);
  t.equal(sleeps, 3);
  t.equal(aborted.stdout.match(/interrupts\/s/g)?.length, 2);
  const tty = await runCli(['irqtop', '--count', '2'], fx, { ...ticking(fx), isTTY: true });
  t.equal(tty.stdout.split('\x1b[H\x1b[2J').length, 3, 'screen cleared before each refresh');
});

t.test('irqtop: nothing to show, bad options, no /proc/interrupts', async (t) => {
  const fx = makeFixture({ interrupts: '           CPU0\n  0:  5  IO-APIC 2-edge timer\n' });
  t.teardown(fx.cleanup);
  const none = await runCli(['irqtop', '--once'], fx);
  t.equal(none.code, 0);
  t.match(none.stdout, /no VFIO interrupt vectors/);
  for (const args of [['--interval', '0'], ['--interval', 'fast'], ['--interval', '-1'], ['--count', '0'], ['--bogus']]) {
    t.equal((await runCli(['irqtop', ...args], fx)).code, 2, args.join(' '));
  }
  for (const bad of BAD_BDFS) t.equal((await runCli(['irqtop', '--once', '--bdf', bad], fx)).code, 2);
  rmSync(join(fx.proc, 'interrupts'));
  const missing = await runCli(['irqtop', '--once'], fx);
  t.equal(missing.code, 3);
  t.match(missing.stderr, /cannot read .*interrupts/);
});
