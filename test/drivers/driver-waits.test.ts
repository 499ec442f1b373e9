import t from 'tap';
import { setTimeout as delay } from 'node:timers/promises';
import { createEduDevice, createNvmeDevice } from 'vfio-ddk/emu';
import { EduDriver } from '../../lib/drivers/edu.ts';
import { NvmeDriver } from '../../lib/drivers/nvme.ts';
import { EDU_REG, EDU_STATUS_COMPUTING } from '../../lib/pci/edu-regs.ts';

const timedOut = { name: 'DdkError', code: 'ETIMEDOUT' };
const aborted = { name: 'AbortError', code: 'ABORT_ERR' };

t.test('edu factorial whose interrupt never comes rejects ETIMEDOUT after timeoutMs and drops its waiter', async (t) => {
  const device = createEduDevice({ factorialDelayMs: 60_000 });
  const edu = EduDriver.open(device);
  const started = performance.now();
  await t.rejects(edu.factorial(5, { timeoutMs: 30 }), { ...timedOut, message: /factorial\(5\): no FACT_IRQ \(0x1\) interrupt within 30 ms \(IRQ_STATUS 0x0, 0 interrupt\(s\) handled\)/ });
  t.ok(performance.now() - started >= 25, 'waited about timeoutMs');
  t.equal(edu.pendingWaits, 0, 'no waiter left behind');
  edu.close();
  device.close();
});

t.test('edu: the driver-wide timeoutMs from open bounds every wait; a call\'s own wins', async (t) => {
  const device = createEduDevice({ dmaDelayMs: 60_000 });
  const edu = EduDriver.open(device, { timeoutMs: 20 });
  await t.rejects(edu.dmaRoundTrip(new Uint8Array([1, 2, 3])), { ...timedOut, message: /DMA of 3 bytes to the device: no DMA_IRQ \(0x100\) interrupt within 20 ms/ });
  t.equal(edu.pendingWaits, 0);
  edu.close();
  device.close();
  t.throws(() => EduDriver.open(createEduDevice(), { timeoutMs: -1 }), RangeError);
});

t.test('edu: a late interrupt after a timeout is acknowledged and ignored; the next call works', async (t) => {
  const device = createEduDevice({ factorialDelayMs: 150 });
  const edu = EduDriver.open(device);
  await t.rejects(edu.factorial(4, { timeoutMs: 20 }), timedOut);
  await delay(200);
  t.equal(edu.interrupts, 1, 'the late FACT_IRQ was handled');
  t.equal(await edu.factorial(5, { timeoutMs: 5_000 }), 120);
  edu.close();
  device.close();
});

t.test('edu: aborting the signal rejects with AbortError (cause = reason) and drops the waiter', async (t) => {
  const device = createEduDevice({ factorialDelayMs: 60_000, dmaDelayMs: 60_000 });
  const edu = EduDriver.open(device);
  const controller = new AbortController();
  const pending = edu.factorial(6, { signal: controller.signal });
  const dma = edu.dmaRoundTrip(new Uint8Array(8), 16, { signal: controller.signal });
  await delay(5);
  t.equal(edu.pendingWaits, 2, 'both engines waiting');
  const reason = new Error('user pressed Ctrl-C');
  controller.abort(reason);
  await t.rejects(pending, { ...aborted, message: /factorial\(6\) was aborted/, cause: reason });
  await t.rejects(dma, { ...aborted, message: /DMA of 8 bytes to the device was aborted/ });
  t.equal(edu.pendingWaits, 0);
  edu.close();
  device.close();
});

t.test('edu: an already-aborted signal never starts the operation', async (t) => {
  const device = createEduDevice();
  const edu = EduDriver.open(device);
  const signal = AbortSignal.abort();
  await t.rejects(edu.factorial(7, { signal }), aborted);
  t.equal(device.bar(0).read32(EDU_REG.STATUS) & EDU_STATUS_COMPUTING, 0, 'no factorial started');
  t.not(device.bar(0).read32(EDU_REG.FACTORIAL), 7, 'FACTORIAL never written');
  await t.rejects(edu.readFromDevice(4, { signal }), aborted);
  t.equal(await edu.factorial(3), 6, 'the queue goes on');
  edu.close();
  device.close();
});

t.test('edu: bad wait options and a null device get a TypeError / RangeError naming the argument', async (t) => {
  t.throws(() => EduDriver.open(null as never), { name: 'TypeError', message: /EduDriver\.open: device must be a PciDevice .*got null/ });
  t.throws(() => EduDriver.open(undefined as never), { name: 'TypeError', message: /device must be a PciDevice/ });
  const device = createEduDevice();
  t.throws(() => EduDriver.open(device, null as never), { name: 'TypeError', message: /options must be an object/ });
  const edu = EduDriver.open(device);
  await t.rejects(edu.factorial(3, null as never), { name: 'TypeError', message: /factorial: options must be an object, got null/ });
  await t.rejects(edu.factorial(3, { timeoutMs: 0 }), { name: 'RangeError', message: /factorial: timeoutMs must be a number > 0/ });
  await t.rejects(edu.factorial(3, { signal: {} as AbortSignal }), { name: 'TypeError', message: /signal must be an AbortSignal/ });
  await t.rejects(edu.writeToDevice(null as never), { name: 'TypeError', message: /data must be a Uint8Array, got null/ });
  t.equal(await edu.factorial(4, { timeoutMs: Infinity }), 24, 'Infinity: no limit');
  edu.close();
  device.close();
});

t.test('NVMe Identify whose completion never comes rejects ETIMEDOUT after the call\'s timeoutMs', async (t) => {
  const device = createNvmeDevice({ commandDelayMs: 60_000 });
  const nvme = await NvmeDriver.open(device);
  await t.rejects(nvme.identifyController({ timeoutMs: 25 }), { ...timedOut, message: /Identify Controller \(opcode 0x6, CID 0\) did not complete within 25 ms/ });
  t.equal(nvme.pendingWaits, 0, 'no waiter left behind');
  await nvme.close();
  device.close();
});

t.test('NVMe: aborting an Identify rejects AbortError; the late completion is skipped and the next command matches', async (t) => {
  const device = createNvmeDevice({ commandDelayMs: 60 });
  const nvme = await NvmeDriver.open(device);
  const controller = new AbortController();
  const pending = nvme.identifyNamespace(1, { signal: controller.signal });
  await delay(5);
  t.equal(nvme.pendingWaits, 1);
  controller.abort();
  await t.rejects(pending, { ...aborted, message: /Identify Namespace 1 was aborted/ });
  t.equal(nvme.pendingWaits, 0);
  await t.rejects(nvme.activeNamespaces({ signal: AbortSignal.abort() }), aborted, 'an aborted signal never submits');
  t.same(await nvme.activeNamespaces({ timeoutMs: 5_000 }), [1]);
  await nvme.close();
  device.close();
});

t.test('NVMe open: a null device or options get a TypeError; an aborted bring-up releases everything', async (t) => {
  await t.rejects(NvmeDriver.open(null as never), { name: 'TypeError', message: /NvmeDriver\.open: device must be a PciDevice .*got null/ });
  const device = createNvmeDevice({ readyDelayMs: 60_000 });
  await t.rejects(NvmeDriver.open(device, null as never), { name: 'TypeError', message: /options must be an object/ });
  await t.rejects(NvmeDriver.open(device, { signal: 'stop' as never }), { name: 'TypeError', message: /signal must be an AbortSignal/ });
  const controller = new AbortController();
  const opening = NvmeDriver.open(device, { signal: controller.signal });
  await delay(20);
  controller.abort();
  await t.rejects(opening, { ...aborted, message: /waiting until CSTS\.RDY.* was aborted/ });
  t.equal(device.irq.activeIndex, null, 'nothing attached');
  t.equal(device.dma.mappings, 0, 'nothing mapped');
  device.close();
  const fresh = createNvmeDevice();
  await t.rejects(NvmeDriver.open(fresh, { signal: AbortSignal.abort() }), aborted);
  t.equal(fresh.dma.mappings, 0);
  fresh.close();
});
