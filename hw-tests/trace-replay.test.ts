/**
 * `vfio-ddk trace` on real devices: a driver's steps recorded on the real edu and on the real NVMe
 * controller, then replayed in the same test against the emulated model of that device
 * (lib/trace/replay.ts): every read and every interrupt must come out as recorded — the emulation
 * checked against the hardware through the recording. Last, the CLI as a user runs it: the demo on
 * the real edu recorded with `trace -o`, then `trace --replay`.
 */
import t from 'tap';
import type { Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EduDriver, NvmeDriver } from 'vfio-ddk';
import { readTrace, replayTrace, startTrace, stopTrace, summarizeTrace, type ReplayResult, type TraceSummary } from 'vfio-ddk/trace';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { guestBdf, skipReason } from './helpers.ts';

const run = promisify(execFile);
const edu = guestBdf('edu');
// Three node processes per CLI step start slowly under TCG: give the file the time of the demo test.
t.setTimeout(600_000);

/** The bin as a user runs it: status, stdout and stderr (a failing status is not thrown). */
async function cli(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { encoding: 'utf8', timeout: 240_000 });
    return { status: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}
const nvme = guestBdf('nvme');

function comment(t: Test, summary: TraceSummary): void {
  for (const device of summary.devices) {
    const accesses = device.registers.reduce((n, r) => n + r.reads + r.writes, 0);
    t.comment(`${device.name}: ${accesses} register accesses, interrupts ${device.interrupts.map((i) => `${i.track} ×${i.fires}`).join(', ')}`);
    for (const i of device.interrupts) {
      if (i.raiseToDelivery !== null) t.comment(`${i.track} raise → delivery median ${i.raiseToDelivery.medianUs.toFixed(1)} µs over ${i.raiseToDelivery.count}`);
    }
  }
}

/** On a difference: the recorded events that led to it, to read in the test's output. */
function context(t: Test, file: string, seq: number | null | undefined): void {
  if (seq === null || seq === undefined) return;
  for (const e of readTrace(file).events) {
    const at = Number(e.args?.['seq']);
    if (e.pid > 1 && at >= seq - 16 && at <= seq) t.comment(`seq ${at} ${e.name} ${String(e.args?.['value'] ?? e.args?.['count'] ?? e.args?.['index'] ?? '')}`);
  }
}

function checkReplay(t: Test, file: string, replay: ReplayResult): void {
  t.equal(replay.difference, null, 'no read, interrupt or DMA byte differs');
  t.equal(replay.equal, true);
  context(t, file, replay.difference?.seq);
  t.comment(`replayed ${replay.devices.map((d) => `${d.name}: ${d.events} events, ${d.reads} reads, ${d.interrupts} interrupts${d.notes.length > 0 ? ` (${d.notes.join('; ')})` : ''}`).join('; ')}`);
}

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'trace-hw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

if (edu === null) {
  t.test('edu recorded and replayed', (t) => { t.plan(0, skipReason('edu')); t.end(); });
} else {
  t.test('the edu driver recorded on the real edu replays equal on the emulated edu', async (t) => {
    const file = join(scratch(t), 'edu.json');
    const recorder = startTrace(file);
    try {
      const device = openVfioDevice(edu);
      try {
        const msi = EduDriver.open(device);
        t.same(msi.version(), { major: 1, minor: 0 });
        t.ok(msi.checkLiveness(0x5a5a1234));
        t.equal(await msi.factorial(10), 3628800);
        const data = Uint8Array.from({ length: 4095 }, (_, i) => (i * 7 + 3) & 0xff);
        t.same(await msi.dmaRoundTrip(data), data);
        msi.close();
        const intx = EduDriver.open(device, { interrupts: 'intx' });
        t.equal(await intx.factorial(5), 120);
        intx.close();
      } finally {
        device.close();
      }
    } finally {
      stopTrace();
    }
    t.ok(recorder.events > 0, `${recorder.events} events recorded`);
    comment(t, summarizeTrace(file));
    checkReplay(t, file, await replayTrace(file));
  });

  t.test('vfio-ddk trace -o … -- vfio-ddk demo --device <edu>, then trace --replay: equal', async (t) => {
    const dir = scratch(t);
    const file = join(dir, 'demo.json');
    const bin = join(dirname(createRequire(import.meta.url).resolve('vfio-ddk/package.json')), 'bin', 'vfio-ddk.mjs');
    const recorded = await cli([bin, 'trace', '-o', file, '--plot', join(dir, 'demo.svg'), '--', process.execPath, bin, 'demo', '--device', edu]);
    t.equal(recorded.status, 0, recorded.stderr);
    t.match(recorded.stdout, /all 7 steps passed/);
    t.match(recorded.stdout, /BAR0 IRQ_RAISE\s+0\s+3/);
    const replayed = await cli([bin, 'trace', '--replay', file]);
    t.equal(replayed.status, 0, replayed.stdout + replayed.stderr);
    t.match(replayed.stdout, /: equal\n/);
    t.comment(replayed.stdout.trim().split('\n').slice(1).join(' | '));
    if (replayed.status !== 0) context(t, file, Number(/event seq (\d+)/.exec(replayed.stdout)?.[1]));
  });
}

if (nvme === null) {
  t.test('NVMe recorded and replayed', (t) => { t.plan(0, skipReason('nvme')); t.end(); });
} else {
  t.test('NVMe Identify recorded on the real controller replays equal on the emulated one', async (t) => {
    const file = join(scratch(t), 'nvme.json');
    startTrace(file);
    try {
      const device = openVfioDevice(nvme);
      try {
        const driver = await NvmeDriver.open(device);
        const controller = await driver.identifyController();
        t.equal(controller.serial, 'deadbeef');
        const namespace = await driver.identifyNamespace(1);
        t.ok(namespace.sizeBlocks > 0n, 'namespace 1 has blocks');
        await driver.close();
      } finally {
        device.close();
      }
    } finally {
      stopTrace();
    }
    comment(t, summarizeTrace(file));
    checkReplay(t, file, await replayTrace(file));
  });
}
