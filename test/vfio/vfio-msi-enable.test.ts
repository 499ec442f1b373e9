/**
 * A bus driver's MSI Enable written through config space becomes VFIO_DEVICE_SET_IRQS underneath
 * (lib/vfio/vfio-msi-enable.ts, as QEMU's vfio-pci does for a guest), fires reach the message sink with
 * the address/data the capability holds, and an attached INTx line is parked meanwhile (vfio-pci runs
 * one index at a time) and set up again when MSI is disabled.
 */
import t from 'tap';
import { join } from 'node:path';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../../lib/native/vfio-uapi.ts';
import { PCI_MSI_ADDRESS_HI, PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_64, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE } from '../../lib/pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { findMsi } from '../../lib/pci/capabilities.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import { mergedWord } from '../../lib/vfio/vfio-msi-enable.ts';
import { makeFixture } from './fixtures.ts';
import { fakeAddon } from './fake-addon.ts';

const fixture = makeFixture();
t.teardown(() => fixture.cleanup());
const EDU = '0000:00:01.0';

function open(): { fake: ReturnType<typeof fakeAddon>; dev: ReturnType<typeof openVfioDevice> } {
  const fake = fakeAddon();
  const dev = openVfioDevice(EDU, {
    addon: fake.addon, sysfs: new Sysfs(fixture.sys), vfioDir: join(fixture.dev, 'vfio'), iommuPath: join(fixture.dev, 'iommu'),
  });
  return { fake, dev };
}

t.test('mergedWord: the Message Control word after a 1-, 2- or 4-byte write', async (t) => {
  t.equal(mergedWord(0x0180, 0x42, 0x42, 1, 0x01), 0x0101, 'low byte replaced');
  t.equal(mergedWord(0x0180, 0x42, 0x43, 1, 0x02), 0x0280, 'high byte');
  t.equal(mergedWord(0x0180, 0x42, 0x40, 4, 0x00210005), 0x0021, 'dword at the capability start');
  t.equal(mergedWord(0x0180, 0x42, 0x44, 4, 0xffffffff), 0x0180, 'a write elsewhere leaves it');
});

t.test('MSI Enable through config: SET_IRQS for 2^MME vectors, fires → sink with the programmed message; INTx parked and restored', async (t) => {
  const { fake, dev } = open();
  const cap = findMsi(dev.config);
  if (cap === null) throw new Error('fixture has no MSI');
  const messages: unknown[][] = [];
  dev.irq.setMessageSink({ message: (lo, hi, data, count, stamps) => { messages.push([lo, hi, data, count, stamps?.bootNs(), stamps?.monoNs()]); } });
  const intx = new IrqLine('intx');
  intx.setConsumer({ fire: () => {} });
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, intx);
  const intxFd = fake.irqSets.at(-1)?.fds?.[0] as number;

  dev.config.write32(cap.offset + PCI_MSI_ADDRESS_LO, 0xfee00000);
  dev.config.write32(cap.offset + PCI_MSI_ADDRESS_HI, 0);
  dev.config.write16(cap.offset + PCI_MSI_DATA_64, 0x31);
  const before = fake.irqSets.length;
  dev.config.write16(cap.offset + PCI_MSI_FLAGS, dev.config.read16(cap.offset + PCI_MSI_FLAGS) | PCI_MSI_FLAGS_ENABLE);
  const sets = fake.irqSets.slice(before);
  t.same(sets.map((s) => [s.index, s.flags, s.count]), [
    [VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0],
    [VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1],
  ], 'INTx trigger torn down, then MSI set up with one eventfd (MME 0)');
  t.equal(dev.config.read16(cap.offset + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_ENABLE, 'the write reached the config region');
  t.ok(intx.attached, 'the INTx line stays attached (quiet)');
  t.equal(dev.irq.activeIndex, VFIO_PCI_INTX_IRQ_INDEX);
  const msiFd = sets[1]?.fds?.[0] as number;
  fake.watchers.get(msiFd)?.(2, 10n, 20n);
  t.same(messages, [[0xfee00000, 0, 0x31, 2, 10n, 20n]], 'the fire reached the sink as the message the capability holds');
  t.throws(() => dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, new IrqLine()), { code: 'EBUSY' }, 'attach cannot take an index a bus driver enabled');
  const quiet = fake.irqSets.length;
  dev.irq.unmaskIntx();
  t.equal(fake.irqSets.length, quiet, 'unmasking a parked INTx reaches nothing');

  dev.config.write16(cap.offset + PCI_MSI_FLAGS, dev.config.read16(cap.offset + PCI_MSI_FLAGS) & ~PCI_MSI_FLAGS_ENABLE);
  const after = fake.irqSets.slice(quiet);
  t.same(after.map((s) => [s.index, s.count, s.fds]), [
    [VFIO_PCI_MSI_IRQ_INDEX, 0, undefined],
    [VFIO_PCI_INTX_IRQ_INDEX, 1, [intxFd]],
  ], 'MSI torn down, INTx set up again on its own eventfd');
  t.notOk(fake.open.has(msiFd), 'the MSI eventfd is closed');
  dev.close();
  t.same(fake.open.size, 0, 'close released every fd');
});

t.test('a kernel-style owner that attached first keeps the index: its Enable write passes through', async (t) => {
  const { fake, dev } = open();
  const cap = findMsi(dev.config);
  if (cap === null) throw new Error('fixture has no MSI');
  const line = new IrqLine('msi');
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, line);
  const sets = fake.irqSets.length;
  dev.config.write16(cap.offset + PCI_MSI_FLAGS, dev.config.read16(cap.offset + PCI_MSI_FLAGS) | PCI_MSI_FLAGS_ENABLE);
  t.equal(fake.irqSets.length, sets, 'no second SET_IRQS');
  dev.close();
});
