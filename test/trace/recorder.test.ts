/**
 * Recording (lib/trace/recorder.ts and the traced views): what the edu driver, the NVMe driver, the
 * test device and the kits do comes out as named, ordered events; the views keep the backends'
 * extras; after stopTrace devices are plain again and the file is complete JSON.
 */
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EduDevice, createEduDevice, createNvmeDevice, createTestDevice, TEST_DEV_REGS } from '../../lib/emu/index.ts';
import { EduDriver } from '../../lib/drivers/edu.ts';
import { NvmeDriver } from '../../lib/drivers/nvme.ts';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import { findMsi } from '../../lib/pci/capabilities.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE } from '../../lib/pci/regs.ts';
import { VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { currentTracer } from '../../lib/pci/trace-hook.ts';
import { readTrace, startTrace, stopTrace, TraceRecorder, type TraceEvent } from '../../lib/trace/index.ts';
import { zx_deadline_after, zx_handle_close, ZX_ERR_BAD_HANDLE } from '../../lib/zircon/index.ts';

function recording(t: Test, name: string): string {
  const file = join(t.testdir(), name);
  startTrace(file);
  t.teardown(() => { stopTrace(); });
  return file;
}

const deviceEvents = (events: readonly TraceEvent[], pid: number): TraceEvent[] =>
  events.filter((e) => e.pid === pid).sort((a, b) => Number(a.args?.['seq']) - Number(b.args?.['seq']));

t.test('the edu driver: named register accesses, MSI fire and delivery, DMA with the bytes the device reads', async (t) => {
  const file = recording(t, 'edu.json');
  const device = createEduDevice();
  const driver = EduDriver.open(device);
  t.ok(driver.checkLiveness());
  t.equal(await driver.factorial(6), 720);
  const data = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
  t.same(await driver.dmaRoundTrip(data), data);
  driver.close();
  device.close();
  stopTrace();

  const trace = readTrace(file);
  t.equal(trace.info?.format, 'vfio-ddk-trace');
  const [pid, info] = [...trace.devices.entries()][0] ?? [];
  t.equal(info?.name, `${device.bdf} edu`);
  t.match(info, { backend: 'emu', model: 'edu', vendorId: 0x1234, deviceId: 0x11e8, bars: ['0x100000', null, null, null, null, null], irqCounts: { intx: 1, msi: 1, msix: 0 }, command: 0x2 });
  const events = deviceEvents(trace.events, pid as number);
  const names = events.map((e) => e.name);
  for (const expected of ['open', 'read PCI_VENDOR_ID', 'write PCI_COMMAND', 'attach', 'write LIVENESS', 'read LIVENESS', 'write FACTORIAL', 'fire', 'deliver', 'read FACTORIAL', 'alloc', 'host memory', 'write DMA_CMD', 'close']) {
    t.ok(names.includes(expected), `has ${expected}`);
  }
  const seqs = events.map((e) => Number(e.args?.['seq']));
  t.equal(new Set(seqs).size, seqs.length, 'every event has its own seq');
  const liveness = events.find((e) => e.name === 'read LIVENESS');
  t.match(liveness, { ph: 'X', cat: 'bar', tid: 10, args: { bar: 0, op: 'read', offset: 4, width: 4, value: '0xedcba987', reg: 'LIVENESS' } });
  const write = events.findIndex((e) => e.name === 'write FACTORIAL');
  const fire = events.findIndex((e) => e.name === 'fire');
  t.ok(write < fire, 'the fire comes after the write that started the factorial');
  const delivery = events.find((e) => e.name === 'deliver');
  t.match(delivery, { ph: 'X', tid: 200, args: { count: 1 } });
  t.type(delivery?.args?.['fire_to_deliver_us'], 'number');
  const memory = events.find((e) => e.name === 'host memory');
  t.same(Buffer.from(String(memory?.args?.['data']), 'base64'), Buffer.from(data), 'the bytes the device read, before DMA_CMD');
  t.ok(events.indexOf(memory as TraceEvent) < events.findIndex((e) => e.name === 'write DMA_CMD'));
  const threadNames = trace.threadNames.get(pid as number);
  t.same([...(threadNames?.values() ?? [])].sort(), ['BAR0', 'DMA', 'MSI 0', 'config', 'device']);
  JSON.parse(readFileSync(file, 'utf8'));
});

t.test('the view keeps the backend: instanceof, extras, no typed-array view, the same region each time', async (t) => {
  recording(t, 'view.json');
  const device = createEduDevice();
  t.teardown(() => device.close());
  t.ok(device instanceof EduDevice);
  t.same(device.deviceErrors, []);
  device.powerCycle();
  t.equal(device.bar(0), device.bar(0));
  t.equal(device.bar(0).view, null);
  t.equal(device.bar(0).size, 0x100000n);
  t.equal(device.config.size, 256);
  t.throws(() => device.bar(3), { code: 'ENOENT' });
  t.throws(() => device.bar(0).read32(0x100000), RangeError);
  t.throws(() => device.reset(), { code: 'ENOTSUP' });
  device.bar(0).write32(0x04, -1);
  t.equal(device.bar(0).read32(0x04), 0);
  t.equal(device.dma.mask, (1n << 28n) - 1n);
});

t.test('NVMe: doorbells by their spec names, MSI-X vector 0, a 64-bit register', async (t) => {
  const file = recording(t, 'nvme.json');
  const device = createNvmeDevice();
  const driver = await NvmeDriver.open(device);
  t.equal((await driver.identifyController()).serial, 'deadbeef');
  await driver.close();
  device.close();
  stopTrace();
  const trace = readTrace(file);
  const names = new Set(trace.events.map((e) => e.name));
  for (const expected of ['read CAP', 'write CC', 'read CSTS', 'write AQA', 'write ASQ', 'write SQ0TDBL', 'write CQ0HDBL', 'read PCI_CLASS_REVISION']) t.ok(names.has(expected), `has ${expected}`);
  t.same([...(trace.threadNames.get(2)?.values() ?? [])].filter((n) => n.startsWith('MSI')), ['MSI-X 0']);
});

t.test('test device: MSI-X table entries named, messages of a capability a bus driver enabled, triggers, detach', async (t) => {
  const file = recording(t, 'testdev.json');
  const device = createTestDevice({ msi: { vectors: 4 }, msix: { vectors: 8 } });
  device.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  device.bar(1).write32(3 * 16 + 8, 0x1234);
  const msi = findMsi(device.config);
  if (msi === null) throw new Error('no MSI capability');
  const received: number[] = [];
  device.irq.setMessageSink({ message: (_lo, _hi, data) => { received.push(data); } });
  device.config.write32(msi.addressLo, 0xfee00000);
  device.config.write16(msi.data, 0x40);
  device.config.write16(msi.offset + PCI_MSI_FLAGS, device.config.read16(msi.offset + PCI_MSI_FLAGS) | PCI_MSI_FLAGS_ENABLE | (2 << 4));
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 2);
  t.same(received, [0x42], 'the sink still gets the message');
  device.config.write16(msi.offset + PCI_MSI_FLAGS, 0);
  const line = new IrqLine('t');
  line.setConsumer({ fire: () => {} });
  device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 5, line);
  device.irq.trigger(VFIO_PCI_MSIX_IRQ_INDEX, 5);
  line.mask();
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 5);
  line.unmask();
  await new Promise((resolve) => setImmediate(resolve));
  device.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, 5);
  t.throws(() => device.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 9, line), RangeError);
  device.close();
  stopTrace();
  const trace = readTrace(file);
  const events = deviceEvents(trace.events, 2);
  t.ok(events.some((e) => e.name === 'write MSIX_ENTRY[3].DATA'));
  t.ok(events.some((e) => e.name === 'write PCI_MSI_DATA_32' || e.name === 'write PCI_MSI_DATA_64'));
  t.match(events.find((e) => e.name === 'message'), { args: { address: '0x00000000fee00000', data: '0x0042', count: 1 } });
  t.same([...(trace.threadNames.get(2)?.values() ?? [])].filter((n) => /MSI|message/.test(n)), ['message 0x0042', 'MSI-X 5']);
  const vector = events.filter((e) => e.tid === 1005).map((e) => e.name);
  t.same(vector, ['attach', 'trigger', 'fire', 'mask', 'fire', 'unmask', 'deliver', 'detach']);
});

t.test('kit calls: the call as C prints it, statuses by name, Promises as async pairs, throws recorded', async (t) => {
  const file = recording(t, 'kits.json');
  t.equal(zx_handle_close(0x7777), ZX_ERR_BAD_HANDLE);
  t.type(zx_deadline_after(1000n), 'bigint');
  t.throws(() => zx_handle_close('x' as unknown as number), TypeError);
  stopTrace();
  const kit = readTrace(file).events.filter((e) => e.cat === 'kit');
  t.match(kit[0], { name: 'zx_handle_close', ph: 'X', pid: 1, tid: 1, args: { call: 'zx_handle_close(30583)', ret: '-11', status: 'ZX_ERR_BAD_HANDLE' } });
  t.match(kit[1], { name: 'zx_deadline_after', args: { call: 'zx_deadline_after(1000n)' } });
  t.match(kit[2], { name: 'zx_handle_close', args: { call: 'zx_handle_close("x")', threw: /^TypeError/ } });
});

t.test('one recorder at a time; after stopTrace devices are plain and later events are dropped', async (t) => {
  const file = join(t.testdir(), 'stop.json');
  const recorder = startTrace(file);
  t.throws(() => startTrace(file), { code: 'EBUSY' });
  t.throws(() => startTrace(''), TypeError);
  const traced = createEduDevice();
  t.equal(stopTrace(), recorder);
  t.equal(stopTrace(), null);
  t.equal(currentTracer(), null);
  const plain = createEduDevice();
  t.not(plain.bar(0).view, undefined);
  const before = recorder.events;
  let stamped = 0;
  const nextSeq = recorder.nextSeq.bind(recorder);
  recorder.nextSeq = () => { stamped++; return nextSeq(); };
  t.equal(traced.bar(0).read32(0), 0x010000ed, 'the view still reaches the device');
  traced.bar(0).write32(4, 1);
  traced.config.read16(0);
  t.equal(recorder.events, before, 'a view of a stopped recorder records nothing');
  t.equal(stamped, 0, 'and does no recording work: accesses go straight through');
  t.equal(recorder.traceDevice(plain), plain);
  traced.close();
  plain.close();
  JSON.parse(readFileSync(file, 'utf8'));
});

t.test('after stopTrace a watched line has its own methods and consumer back; deliveries and messages pass straight through', async (t) => {
  const file = join(t.testdir(), 'lines.json');
  const recorder = startTrace(file);
  const device = createTestDevice({ msi: { vectors: 1 }, msix: { vectors: 2 } });
  device.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const line = new IrqLine('t');
  const fired: number[] = [];
  const consumer = { fire: (count: number) => { fired.push(count); } };
  line.setConsumer(consumer);
  device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 1, line);
  t.ok(Object.hasOwn(line, 'fire') && line.consumer !== consumer, 'while recording: watched, its consumer wrapped');
  const messages: number[] = [];
  device.irq.setMessageSink({ message: (_lo, _hi, data) => { messages.push(data); } });
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 1);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(fired, [1], 'recorded delivery');
  stopTrace();
  for (const name of ['fire', 'deliver', 'mask', 'unmask', 'setConsumer']) t.notOk(Object.hasOwn(line, name), `${name}: IrqLine's own again`);
  t.equal(line.consumer, consumer, 'the consumer it had, unwrapped');
  let stamped = 0;
  const nextSeq = recorder.nextSeq.bind(recorder);
  recorder.nextSeq = () => { stamped++; return nextSeq(); };
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 1);
  line.mask();
  line.unmask();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(fired, [1, 1], 'the line still delivers');
  const msi = findMsi(device.config);
  if (msi === null) throw new Error('no MSI capability');
  device.config.write32(msi.addressLo, 0xfee00000);
  device.config.write16(msi.data, 0x41);
  device.config.write16(msi.offset + PCI_MSI_FLAGS, device.config.read16(msi.offset + PCI_MSI_FLAGS) | PCI_MSI_FLAGS_ENABLE);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.same(messages, [0x41], 'a message reaches the sink');
  const other = new IrqLine('u');
  device.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, 1);
  device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 1, other);
  t.notOk(Object.hasOwn(other, 'fire'), 'a line attached after the stop is not watched');
  t.equal(stamped, 0, 'no recording work after the stop');
  device.close();
});

t.test('lazy recorders claim the file: the first writes it, a second one FILE.<pid>.json', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'claim.json');
  const first = new TraceRecorder(file, { lazy: true });
  const second = new TraceRecorder(file, { lazy: true });
  t.equal(first.path, null, 'nothing written before the first event');
  const device = createEduDevice();
  const stderr: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => { stderr.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    first.traceDevice(device).bar(0).read32(0);
    second.traceDevice(device).bar(0).read32(0);
  } finally {
    process.stderr.write = write;
  }
  first.stop();
  second.stop();
  device.close();
  t.equal(first.path, file);
  t.equal(second.path, join(dir, `claim.${process.pid}.json`));
  t.match(stderr.join(''), /was taken by another process/);
  t.ok(readTrace(second.path as string).events.some((e) => e.name === 'read ID'));
});
