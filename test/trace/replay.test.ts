/**
 * Replay (lib/trace/replay.ts): recordings of the edu, NVMe and test device replay equal on their
 * models; an edited recording is reported at its first difference (a read, a missing or an extra
 * interrupt, a different device); what differs on purpose does not count (BAR addresses, the
 * backend's MSI messages, polls, the device's state at open).
 */
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEduDevice, createNvmeDevice, createTestDevice, TEST_DEV_REGS } from '../../lib/emu/index.ts';
import { EduDriver } from '../../lib/drivers/edu.ts';
import { NvmeDriver } from '../../lib/drivers/nvme.ts';
import { EDU_REG } from '../../lib/pci/edu-regs.ts';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_INTERRUPT_LINE, PCI_MSI_FLAGS } from '../../lib/pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { readTrace, renderTraceSvg, replayTrace, summarizeTrace, startTrace, stopTrace, type DeviceInfo, type TraceEvent } from '../../lib/trace/index.ts';
import { nvmeIdentity } from '../../lib/trace/replay-model.ts';
import { restoreRegisters } from '../../lib/trace/initial-state.ts';
import { formatReplay } from '../../lib/cli/trace-report.ts';

/** The test's folder (t.testdir() empties it on every call: once per test). */
const folders = new WeakMap<Test, string>();
function folder(t: Test): string {
  let dir = folders.get(t);
  if (dir === undefined) folders.set(t, dir = t.testdir());
  return dir;
}

/** Records what `drive` does into a file in the test's folder. */
async function record(t: Test, name: string, drive: () => Promise<void>): Promise<string> {
  const file = join(folder(t), name);
  startTrace(file);
  try {
    await drive();
  } finally {
    stopTrace();
  }
  return file;
}

async function eduSession(): Promise<void> {
  const device = createEduDevice();
  const driver = EduDriver.open(device);
  driver.checkLiveness();
  await driver.factorial(7);
  await driver.dmaRoundTrip(Uint8Array.from({ length: 200 }, (_, i) => 255 - i));
  driver.close();
  const intx = EduDriver.open(device, { interrupts: 'intx' });
  await intx.factorial(3);
  intx.close();
  device.config.read32(PCI_BASE_ADDRESS_0);
  device.config.read8(PCI_INTERRUPT_LINE);
  device.close();
}

/** Rewrites the recording's lines: `edit` gets each event and returns it changed, or null to drop it. */
function edited(file: string, out: string, edit: (event: TraceEvent) => TraceEvent | null): string {
  const events = (JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[]).map(edit).filter((e): e is TraceEvent => e !== null);
  writeFileSync(out, `[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`);
  return out;
}

t.test('edu: a recording replays equal; an edited read is the first difference, with its event, register and values', async (t) => {
  const file = await record(t, 'edu.json', eduSession);
  const equal = await replayTrace(file);
  t.equal(equal.difference, null);
  t.equal(equal.equal, true);
  t.match(equal.devices[0], { model: 'edu', skipped: null, notes: [] });
  t.ok((equal.devices[0]?.reads ?? 0) > 5 && (equal.devices[0]?.interrupts ?? 0) >= 4);
  t.match(formatReplay(file, equal), /: equal\n {2}0000:80:00\.\d edu: \d+ events replayed on the emulated edu, \d+ reads and \d+ interrupts compared\n$/);

  let seq = -1;
  const bad = edited(file, join(folder(t), 'bad.json'), (e) => {
    if (e.name !== 'read FACTORIAL' || seq >= 0) return e;
    seq = Number(e.args?.['seq']);
    return { ...e, args: { ...e.args, value: '0x00000001' } };
  });
  const different = await replayTrace(bad, { slackMs: 20 });
  t.equal(different.equal, false);
  t.match(different.difference, { kind: 'read', seq, where: 'BAR0 FACTORIAL (offset 0x8, 4 bytes)', recorded: '0x00000001', model: '0x000013b0' });
  t.type(different.difference?.tsUs, 'number');
  // A timestamp far ahead (a damaged or crafted file) bounds the wait for that read at 10 s, not at the
  // recorded moment 30 years away.
  const farAhead = edited(bad, join(folder(t), 'far.json'), (e) => (Number(e.args?.['seq']) === seq ? { ...e, ts: 1e15 } : e));
  t.match((await replayTrace(farAhead, { slackMs: 20 })).difference, { kind: 'read', seq });

  // The bytes the device wrote back (taken at the DMA interrupt's delivery) are compared too.
  let spans = 0;
  const wrongData = edited(file, join(folder(t), 'data.json'), (e) => {
    if (e.name !== 'host memory' || e.args?.['at'] !== 'deliver' || spans++ > 0) return e;
    const data = Buffer.from(String(e.args['data']), 'base64');
    data[0] = (data[0] as number) ^ 0xff;
    return { ...e, args: { ...e.args, data: data.toString('base64') } };
  });
  t.match((await replayTrace(wrongData, { slackMs: 20 })).difference, { kind: 'dma', recorded: /^00 fe fd fc fb fa f9 f8$/, model: /^ff fe fd fc fb fa f9 f8$/ });
  t.match(formatReplay(bad, different), new RegExp(`DIFFERENT\\n[^]*first difference \\(read, event seq ${seq} at [\\d.]+ ms\\) on 0000:80:00\\.\\d edu:\\n {2}BAR0 FACTORIAL \\(offset 0x8, 4 bytes\\): recorded 0x00000001, model 0x000013b0\\n`));
});

t.test('interrupts: a fire the model does not make is missing; one the recording lacks is extra', async (t) => {
  const file = await record(t, 'irq.json', eduSession);
  let doubled = false;
  const missing = edited(file, join(folder(t), 'missing.json'), (e) => {
    if (e.name !== 'fire' || doubled) return e;
    doubled = true;
    return { ...e, args: { ...e.args, count: 2 } };
  });
  t.match((await replayTrace(missing, { slackMs: 20 })).difference, { kind: 'interrupt', where: 'MSI 0', recorded: '2 fire(s) by now', model: '1' });
  let dropped = false;
  const extra = edited(file, join(folder(t), 'extra.json'), (e) => {
    if (e.name !== 'fire' || e.tid !== 100 || dropped) return e;
    dropped = true;
    return null;
  });
  t.match((await replayTrace(extra, { slackMs: 20 })).difference, { kind: 'interrupt', seq: null, where: 'INTx', recorded: '0 fire(s) in all', model: '1' });
});

t.test('platform values are not compared: BAR addresses, Interrupt Line, the backend\'s MSI address and data', async (t) => {
  const file = await record(t, 'platform.json', eduSession);
  const moved = edited(file, join(folder(t), 'moved.json'), (e) => {
    const reg = e.args?.['reg'];
    if (e.name === 'read PCI_BASE_ADDRESS_0') return { ...e, args: { ...e.args, value: '0xfe000000' } };
    if (reg === 'PCI_INTERRUPT_LINE') return { ...e, args: { ...e.args, value: '0x0b' } };
    return e;
  });
  t.equal((await replayTrace(moved)).difference, null);
  const typeBits = edited(file, join(folder(t), 'type.json'), (e) =>
    (e.name === 'read PCI_BASE_ADDRESS_0' ? { ...e, args: { ...e.args, value: '0xfe000004' } } : e));
  t.match((await replayTrace(typeBits)).difference, { kind: 'read', where: /^config PCI_BASE_ADDRESS_0/, recorded: '0xfe000004', model: /^0x[0-9a-f]{7}0$/ });
});

t.test("MSI Message Control after irq.attach is the backend's until the driver writes it (vfio-pci shows Enable clear)", async (t) => {
  const file = await record(t, 'msi.json', async () => {
    const device = createEduDevice();
    device.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const line = new IrqLine('msi');
    line.setConsumer({ fire: () => {} });
    device.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, line);
    const flags = 0x40 + PCI_MSI_FLAGS;
    device.config.read16(flags);
    device.config.read32(0x44);
    device.config.write16(flags, device.config.read16(flags));
    device.config.read16(flags);
    device.close();
  });
  let reads = 0;
  const asOverVfio = edited(file, join(folder(t), 'vfio.json'), (e) => {
    if (e.name === 'read PCI_MSI_FLAGS' && reads++ === 0) return { ...e, args: { ...e.args, value: '0x0080' } };
    if (e.name === 'read PCI_MSI_ADDRESS_LO') return { ...e, args: { ...e.args, value: '0xfee01004' } };
    return e;
  });
  t.equal((await replayTrace(asOverVfio)).difference, null, 'Enable and the kernel\'s address are not compared');
  let last = 0;
  const afterWrite = edited(file, join(folder(t), 'written.json'), (e) => (e.name === 'read PCI_MSI_FLAGS' && last++ === 2 ? { ...e, args: { ...e.args, value: '0x0080' } } : e));
  t.match((await replayTrace(afterWrite, { slackMs: 0 })).difference, { kind: 'read', where: /^config PCI_MSI_FLAGS/, recorded: '0x0080', model: '0x0081' });
});

t.test('NVMe: Identify replays equal (the SQ entry the controller read comes from the recording)', async (t) => {
  const file = await record(t, 'nvme.json', async () => {
    const device = createNvmeDevice();
    const driver = await NvmeDriver.open(device);
    await driver.identifyController();
    await driver.identifyNamespace(1);
    await driver.close();
    device.close();
  });
  const result = await replayTrace(file);
  t.equal(result.difference, null);
  t.match(result.devices, [{ model: 'NVMe', skipped: null }]);

  // A controller of another QEMU build: the model takes its SN / MN / FR from the Identify data recorded.
  const other = await record(t, 'nvme-7.2.22.json', async () => {
    const device = createNvmeDevice({ serial: 'feedface', firmware: '7.2.22', model: 'Some Ctrl' });
    const driver = await NvmeDriver.open(device);
    await driver.identifyController();
    await driver.close();
    device.close();
  });
  t.equal((await replayTrace(other)).difference, null);
  const recorded = readTrace(other);
  const [info] = [...recorded.devices.values()];
  t.same(nvmeIdentity(info as DeviceInfo, recorded.events), { serial: 'feedface', model: 'Some Ctrl', firmware: '7.2.22' });
  t.same(nvmeIdentity(info as DeviceInfo, []), {});
  // Without the SQ entry the recording holds, the model reads zeros (opcode 0: Delete I/O SQ 0) and
  // completes it with an error: its completion entry differs from the device's.
  const noCommand = edited(file, join(folder(t), 'nocommand.json'), (e) => (e.name === 'host memory' && e.args?.['at'] === 'write' ? null : e));
  t.match((await replayTrace(noCommand, { slackMs: 20 })).difference, { kind: 'dma', where: /^host memory at IOVA 0x[0-9a-f]+ after the device's DMA$/ });
});

t.test('test device: MSI-X raises and an INTx level replay equal; a device of another size is a difference at open', async (t) => {
  const file = await record(t, 'testdev.json', async () => {
    const device = createTestDevice({ intx: true, msix: { vectors: 4 } });
    device.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const line = new IrqLine('x');
    line.setConsumer({ fire: () => {} });
    device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 2, line);
    for (let i = 0; i < 3; i++) device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 2);
    device.bar(1).read32(2 * 16);
    device.irq.disable(VFIO_PCI_MSIX_IRQ_INDEX);
    const intx = new IrqLine('intx');
    intx.setConsumer({ fire: () => {} });
    device.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, intx);
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, 1);
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, 0);
    device.irq.unmaskIntx();
    device.irq.maskIntx();
    await new Promise((resolve) => setImmediate(resolve));
    device.close();
  });
  t.equal((await replayTrace(file)).difference, null);
  const resized = edited(file, join(folder(t), 'resized.json'), (e) =>
    (e.name === 'vfio_ddk_device' ? { ...e, args: { ...e.args, bars: ['0x2000', '0x1000', null, null, null, null] } } : e));
  t.match((await replayTrace(resized)).difference, { kind: 'open', where: 'BAR0 size', recorded: '0x2000', model: '0x1000' });
});

t.test("a device's state at open goes into the model, or is not compared until written", async (t) => {
  const file = await record(t, 'state.json', eduSession);
  // As if the last driver had left STATUS 0x80, a factorial result, DMA_CMD's IRQ bit and IRQ_STATUS set.
  const state = { STATUS: '0x00000080', FACTORIAL: '0x00375f00', DMA_CMD: '0x0000000000000004', IRQ_STATUS: '0x00000000', LIVENESS: '0x0000beef' };
  let firstStatus = true;
  let firstCmd = true;
  const leftOver = edited(file, join(folder(t), 'left.json'), (e) => {
    if (e.name === 'vfio_ddk_device') return { ...e, args: { ...e.args, registers: { ...(e.args?.['registers'] as object), ...state } } };
    if (e.name === 'read STATUS' && firstStatus) { firstStatus = false; return { ...e, args: { ...e.args, value: '0x00000080' } }; }
    if (e.name === 'read DMA_CMD' && firstCmd) { firstCmd = false; return { ...e, args: { ...e.args, value: '0x00000004' } }; }
    return e;
  });
  const result = await replayTrace(leftOver);
  t.equal(result.difference, null);
  t.same(result.devices[0]?.notes, [
    'BAR0 FACTORIAL was 0x00375f00 at open, the model\'s 0x00000000: not compared until the recording writes it',
    'BAR0 DMA_CMD was 0x0000000000000004 at open, the model\'s 0x0000000000000000: not compared until the recording writes it',
  ]);
  t.match(formatReplay(leftOver, result), /\n {4}BAR0 FACTORIAL was 0x00375f00 at open/);

  const model = createEduDevice();
  t.teardown(() => model.close());
  const stale = await restoreRegisters(model, { STATUS: '0x00000081', LIVENESS: '0x0000beef', IRQ_STATUS: '0x00000100', DMA_SRC: '0x0000000000123000' }, async () => {});
  t.same(stale.map((r) => r.name), ['STATUS'], 'the computing bit cannot be set');
  t.equal(model.bar(0).read32(EDU_REG.LIVENESS), 0xbeef);
  t.equal(model.bar(0).read32(EDU_REG.IRQ_STATUS), 0x100);
  t.equal(model.bar(0).read64(EDU_REG.DMA_SRC), 0x123000n);
  t.same(await restoreRegisters(model, null, async () => {}), []);
});

t.test('a device without a model is skipped; a trace from elsewhere is refused; a bad slack is a RangeError', async (t) => {
  const file = await record(t, 'other.json', eduSession);
  const other = edited(file, join(folder(t), 'e1000e.json'), (e) =>
    (e.name === 'vfio_ddk_device' ? { ...e, args: { ...e.args, vendorId: 0x8086, deviceId: 0x10d3, classCode: 0x020000 } } : e));
  const result = await replayTrace(other);
  t.equal(result.equal, false);
  t.equal(result.difference, null);
  t.match(result.devices[0]?.skipped, /^no emulated model of 8086:10d3/);
  t.match(formatReplay(other, result), /: nothing replayed\n {2}.*: skipped — no emulated model of 8086:10d3/);
  const twoVectors = edited(file, join(folder(t), 'msi2.json'), (e) =>
    (e.name === 'vfio_ddk_device' ? { ...e, args: { ...e.args, irqCounts: { intx: 1, msi: 2, msix: 0 } } } : e));
  const open = await replayTrace(twoVectors);
  t.match(open.difference, { kind: 'open', seq: null, tsUs: null, where: 'MSI vectors', recorded: '2', model: '1' });
  t.match(formatReplay(twoVectors, open), /first difference \(open, before the first event\) on .*:\n {2}MSI vectors: recorded 2, model 1\n/);
  const dir = t.testdir({ chrome: JSON.stringify({ traceEvents: [{ name: 'x', ph: 'X', pid: 1, ts: 0, dur: 1 }] }) });
  await t.rejects(replayTrace(join(dir, 'chrome')), { code: 'ERR_NOT_A_TRACE', message: /not a vfio-ddk recording/ });
  await t.rejects(replayTrace(file, { slackMs: -1 }), RangeError);
});

t.test('damaged records are refused as not a trace (exit 2 at the CLI), not a TypeError deep in replay or plot', async (t) => {
  const file = await record(t, 'damaged.json', eduSession);
  const damage: [string, Record<string, unknown>, RegExp][] = [
    ['vfio_ddk_device', { irqCounts: null }, /irqCounts/], ['vfio_ddk_device', { bars: 'x' }, /bars/],
    ['vfio_ddk_device', { dmaMask: 'zz' }, /dmaMask/], ['vfio_ddk_trace', { argv: 7 }, /argv/],
  ];
  for (const [record, fields, why] of damage) {
    const damaged = edited(file, join(folder(t), `damaged-${Object.keys(fields)[0]}.json`), (e) => (e.name === record ? { ...e, args: { ...e.args, ...fields } } : e));
    await t.rejects(replayTrace(damaged), { code: 'ERR_NOT_A_TRACE', message: why }, `${record} ${JSON.stringify(fields)}: replay`);
    t.throws(() => renderTraceSvg(damaged), { code: 'ERR_NOT_A_TRACE', message: why }, 'plot');
    t.throws(() => summarizeTrace(damaged), { code: 'ERR_NOT_A_TRACE', message: why }, 'summary');
  }
});
