import t from 'tap';
import { createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import { NvmeDriver } from '../../lib/drivers/nvme.ts';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_MSIX_ENTRY_VECTOR_CTRL, VFIO_PCI_MSIX_IRQ_INDEX, findMsix } from '../../lib/pci/index.ts';
import { NVME_CSTS_SHST_COMPLETE, NVME_CSTS_SHST_MASK, NVME_REG } from '../../lib/pci/nvme-regs.ts';

const timedOut = { name: 'DdkError', code: 'ETIMEDOUT' };
const closed = { name: 'DdkError', code: 'ECLOSED' };

t.test('open → Identify Controller by MSI-X vector 0: serial deadbeef, model, firmware; namespace data', async (t) => {
  const device = createNvmeDevice();
  device.config.write16(PCI_COMMAND, 0);
  const nvme = await NvmeDriver.open(device);
  t.equal(device.config.read16(PCI_COMMAND) & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 'probe enables MSE + BME');
  t.equal(device.irq.activeIndex, VFIO_PCI_MSIX_IRQ_INDEX);
  const info = await nvme.identifyController();
  t.match(info, {
    vendorId: 0x1b36, subsystemVendorId: 0x1af4, serial: 'deadbeef', model: 'QEMU NVMe Ctrl', firmware: '7.2.0',
    ieeeOui: 0x525400, version: { major: 1, minor: 4, tertiary: 0 }, sqes: { required: 6, maximum: 6 },
    cqes: { required: 4, maximum: 4 }, namespaces: 256, subnqn: 'nqn.2019-08.org.qemu:deadbeef',
  });
  const line = nvme.interruptLine as IrqLine;
  t.equal(line.deliveries, 1, 'the completion came as one MSI-X delivery');
  t.equal(nvme.interrupts, 1);
  t.equal(nvme.completions, 1);
  t.same(await nvme.activeNamespaces(), [1]);
  t.match(await nvme.identifyNamespace(1), { nsid: 1, sizeBlocks: 131072n, capacityBlocks: 131072n, blockBytes: 512 });
  t.match(await nvme.identifyNamespace(2), { sizeBlocks: 0n }, 'inactive namespace reads as zeros');
  t.same(await nvme.numberOfQueues(), { submission: 64, completion: 64 });
  t.equal(line.deliveries, 5);
  t.same(device.iommuFaults, []);
  t.same(device.deviceErrors, []);
  await nvme.close();
  device.close();
});

t.test('commands run one at a time; a failed command rejects with EIO naming SCT/SC', async (t) => {
  const device = createNvmeDevice({ serial: 'SN-42' });
  const nvme = await NvmeDriver.open(device, { adminQueueEntries: 2 });
  const results = await Promise.all([nvme.identifyController(), nvme.numberOfQueues(), nvme.identifyController(), nvme.activeNamespaces()]);
  t.equal(results[0].serial, 'SN-42');
  t.equal(results[2].serial, 'SN-42', 'a 2-entry queue wraps: phase tags tracked');
  await t.rejects(nvme.identifyNamespace(300), { name: 'DdkError', code: 'EIO', message: /SCT 0x0 SC 0xb/ });
  t.equal((await nvme.identifyController()).model, 'QEMU NVMe Ctrl', 'the driver keeps working after a failed command');
  await t.rejects(nvme.identifyNamespace(0), RangeError);
  await nvme.close();
  device.close();
});

t.test('reset / enable cycle twice, Identify after each', async (t) => {
  const device = createNvmeDevice({ readyDelayMs: 1, commandDelayMs: 1 });
  const nvme = await NvmeDriver.open(device);
  for (let cycle = 1; cycle <= 2; cycle++) {
    await nvme.reset();
    t.equal((await nvme.identifyController()).serial, 'deadbeef', `cycle ${cycle}`);
  }
  t.equal(device.commandsExecuted, 2);
  t.equal(nvme.interruptLine?.deliveries, 2);
  await nvme.close();
  device.close();
});

t.test('close: normal shutdown (SHST complete), nothing left attached or mapped; later calls ECLOSED', async (t) => {
  const device = createNvmeDevice();
  const nvme = await NvmeDriver.open(device);
  await nvme.identifyController();
  const line = nvme.interruptLine as IrqLine;
  await nvme.close();
  await nvme.close();
  t.equal(device.bar(0).read32(NVME_REG.CSTS) & NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE);
  t.equal(device.irq.activeIndex, null, 'MSI-X vector 0 detached');
  t.equal(line.attached, false);
  t.equal(device.dma.mappings, 0, 'queues and data buffer freed');
  t.ok(nvme.closed);
  await t.rejects(nvme.identifyController(), closed);
  const again = await NvmeDriver.open(device);
  t.equal((await again.identifyController()).serial, 'deadbeef', 'a new driver resets and uses the controller again');
  await again.close();
  device.close();
});

t.test("'external' interrupts: the caller routes vector 0 and calls onInterrupt()", async (t) => {
  const device = createNvmeDevice();
  const nvme = await NvmeDriver.open(device, { interrupts: 'external' });
  t.equal(device.irq.activeIndex, null, 'the driver attached nothing');
  const line = new IrqLine('caller');
  line.setConsumer({ fire: () => nvme.onInterrupt() });
  device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, line);
  t.equal((await nvme.identifyController()).serial, 'deadbeef');
  t.equal(line.deliveries, 1);
  nvme.onInterrupt();
  t.equal(nvme.completions, 1, 'a spurious call reaps nothing');
  await nvme.close();
  t.equal(device.irq.activeIndex, VFIO_PCI_MSIX_IRQ_INDEX, 'the caller owns its routing');
  device.irq.disable(VFIO_PCI_MSIX_IRQ_INDEX);
  device.close();
});

t.test('timeouts: RDY never set, completion never signalled → ETIMEDOUT saying what did not happen', async (t) => {
  const slow = createNvmeDevice({ readyDelayMs: 60_000 });
  await t.rejects(NvmeDriver.open(slow, { readyTimeoutMs: 20 }), { ...timedOut, message: /CSTS.RDY did not become 1 after CC.EN = 1/ });
  t.equal(slow.irq.activeIndex, null, 'a failed open leaves nothing attached');
  t.equal(slow.dma.mappings, 0);
  slow.close();

  const device = createNvmeDevice();
  const nvme = await NvmeDriver.open(device, { commandTimeoutMs: 20 });
  // Mask vector 0 through the table wherever the capability says it is (BAR0 + 0x2000 on QEMU 7.2).
  const msix = findMsix(device.config);
  if (msix === null) throw new Error('no MSI-X capability');
  const entry0 = msix.tableOffset + PCI_MSIX_ENTRY_VECTOR_CTRL;
  device.bar(msix.tableBar).write32(entry0, 1);
  await t.rejects(nvme.identifyController(), { ...timedOut, message: /Identify Controller \(opcode 0x6, CID 0\) did not complete within 20 ms/ });
  device.bar(msix.tableBar).write32(entry0, 0);
  t.equal((await nvme.identifyController()).serial, 'deadbeef', 'the late completion is skipped, the next one matched by CID');
  await nvme.close();
  device.close();
});

t.test('device closed while a command is pending → ECLOSED', async (t) => {
  const device = createNvmeDevice({ commandDelayMs: 60_000 });
  const nvme = await NvmeDriver.open(device);
  const pending = nvme.identifyController();
  await new Promise((resolve) => setImmediate(resolve));
  device.close();
  await t.rejects(pending, closed);
  t.ok(nvme.closed);
  await nvme.close();
});

t.test('probe refuses other devices and bad options; a busy MSI-X vector fails open cleanly', async (t) => {
  const other = createTestDevice({ msix: { vectors: 1 } });
  await t.rejects(NvmeDriver.open(other), { name: 'DdkError', code: 'ENODEV' });
  other.close();
  const device = createNvmeDevice();
  await t.rejects(NvmeDriver.open(device, { interrupts: 'msi' as 'msix' }), RangeError);
  await t.rejects(NvmeDriver.open(device, { adminQueueEntries: 1 }), RangeError);
  await t.rejects(NvmeDriver.open(device, { commandTimeoutMs: 0 }), RangeError);
  const first = await NvmeDriver.open(device);
  await t.rejects(NvmeDriver.open(device), { name: 'DdkError', code: 'EEXIST' });
  t.equal(device.dma.mappings, 3, 'only the first driver\'s buffers remain');
  await first.close();
  device.close();
});

t.test('interrupt detached under the driver: pending work fails ECLOSED, close still frees everything', async (t) => {
  const device = createNvmeDevice({ commandDelayMs: 60_000 });
  const nvme = await NvmeDriver.open(device);
  const pending = nvme.identifyController();
  await new Promise((resolve) => setImmediate(resolve));
  device.irq.disable(VFIO_PCI_MSIX_IRQ_INDEX);
  await t.rejects(pending, closed);
  const mine = new IrqLine('someone else');
  device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, mine);
  await nvme.close();
  t.equal(device.dma.mappings, 0);
  t.ok(mine.attached, 'the other line stays routed');
  device.close();
});
