import t from 'tap';
import { createTestDevice, EMU_MSI_ADDRESS, EMU_MSI_DATA_BASE, TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE, findMsi,
  VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, PCI_MSI_CAP_SIZE_32,
} from '../../lib/pci/index.ts';
import { recordingLine, turn } from './helpers.ts';

const MSI = VFIO_PCI_MSI_IRQ_INDEX;
const BME = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

function msiDevice(vectors: 1 | 2 | 4 | 8 | 16 | 32, perVectorMask = true, addr64 = true) {
  const dev = createTestDevice({ msi: { vectors, perVectorMask, addr64 } });
  dev.config.write16(PCI_COMMAND, BME);
  const layout = findMsi(dev.config);
  if (!layout) throw new Error('no MSI capability');
  const raise = (v: number): void => dev.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, v);
  return { dev, layout, raise };
}

t.test('info: MSI count = 1 << MMC, NORESIZE, not maskable', async (t) => {
  const { dev } = msiDevice(8);
  t.match(dev.irq.info(MSI), { index: MSI, count: 8, eventfd: true, noresize: true, maskable: false, automasked: false });
  t.equal(dev.irq.info(VFIO_PCI_INTX_IRQ_INDEX).count, 0, 'no interrupt pin');
  t.equal(dev.irq.info(VFIO_PCI_MSIX_IRQ_INDEX).count, 0);
  t.throws(() => dev.irq.info(3 as 0), RangeError);
  dev.close();
});

t.test('first attach enables MSI like the kernel: Enable, MME = MMC, address/data, vector unmasked', async (t) => {
  const { dev, layout } = msiDevice(4);
  const { line } = recordingLine();
  dev.irq.attach(MSI, 1, line);
  const control = dev.config.read16(layout.offset + 2);
  t.ok(control & PCI_MSI_FLAGS_ENABLE);
  t.equal((control & PCI_MSI_FLAGS_QSIZE) >> 4, 2, 'MME = log2(4)');
  t.equal(dev.config.read32(layout.addressLo), Number(EMU_MSI_ADDRESS));
  t.equal(dev.config.read32(layout.addressHi as number), 0);
  t.equal(dev.config.read16(layout.data), EMU_MSI_DATA_BASE);
  t.equal(dev.config.read32(layout.mask as number), 0b1101, 'only the attached vector is unmasked');
  t.equal(dev.irq.activeIndex, MSI);
  t.ok(line.attached);
  dev.close();
});

t.test('a raise reaches the vector\'s line on the event loop, never inside the write', async (t) => {
  const { dev, raise } = msiDevice(4);
  const a = recordingLine('a');
  const b = recordingLine('b');
  dev.irq.attach(MSI, 0, a.line);
  dev.irq.attach(MSI, 3, b.line);
  raise(3);
  t.same(b.counts, []);
  await turn();
  t.same(b.counts, [1]);
  t.same(a.counts, []);
  dev.close();
});

t.test('nothing is sent without Bus Master Enable; the lost message is not replayed later', async (t) => {
  const { dev, raise } = msiDevice(1, false);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSI, 0, line);
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY);
  raise(0);
  await turn();
  t.same(counts, []);
  t.equal(dev.irq.lostMessages, 1);
  dev.config.write16(PCI_COMMAND, BME);
  await turn();
  t.same(counts, [], 'lost, as on QEMU');
  raise(0);
  await turn();
  t.same(counts, [1]);
  dev.close();
});

t.test('per-vector mask: a masked raise sets the pending bit; unmask sends it exactly once', async (t) => {
  const { dev, layout, raise } = msiDevice(2);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSI, 1, line);
  dev.config.write32(layout.mask as number, 0b10);
  raise(1);
  raise(1);
  await turn();
  t.same(counts, []);
  t.equal(dev.config.read32(layout.pending as number), 0b10, 'pending bit set by the device');
  dev.config.write32(layout.pending as number, 0);
  t.equal(dev.config.read32(layout.pending as number), 0b10, 'pending bits are RO to software');
  dev.config.write32(layout.mask as number, 0);
  t.equal(dev.config.read32(layout.pending as number), 0, 'cleared when sent');
  await turn();
  t.same(counts, [1], 'one message for the pending bit');
  dev.config.write32(layout.mask as number, 0b10);
  dev.config.write32(layout.mask as number, 0);
  await turn();
  t.same(counts, [1], 'nothing more to send');
  dev.close();
});

t.test('mask bits exist only for implemented vectors', async (t) => {
  const { dev, layout } = msiDevice(4);
  dev.config.write32(layout.mask as number, 0xffffffff);
  t.equal(dev.config.read32(layout.mask as number), 0xf);
  dev.close();
});

t.test('MME above MMC is clamped; vectors at or above 1 << MME are not sent', async (t) => {
  const { dev, layout, raise } = msiDevice(4);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSI, 2, line);
  const control = dev.config.read16(layout.offset + 2);
  dev.config.write16(layout.offset + 2, (control & ~PCI_MSI_FLAGS_QSIZE) | (7 << 4));
  t.equal((dev.config.read16(layout.offset + 2) & PCI_MSI_FLAGS_QSIZE) >> 4, 2, 'clamped to MMC');
  dev.config.write16(layout.offset + 2, (control & ~PCI_MSI_FLAGS_QSIZE) | (1 << 4));
  raise(2);
  await turn();
  t.same(counts, [], 'only 2 vectors granted');
  dev.close();
});

t.test('MSI Enable cleared by software: raises are not sent; 64-bit flag and MMC are RO', async (t) => {
  const { dev, layout, raise } = msiDevice(1, false);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSI, 0, line);
  const control = dev.config.read16(layout.offset + 2);
  dev.config.write16(layout.offset + 2, 0);
  t.equal(dev.config.read16(layout.offset + 2), control & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
  raise(0);
  await turn();
  t.same(counts, []);
  dev.close();
});

t.test('32-bit layout without PVM: 10-byte capability, data at +8, address bits 1:0 RO', async (t) => {
  const { dev, layout } = msiDevice(1, false, false);
  t.equal(layout.is64, false);
  t.equal(layout.data, layout.offset + 8);
  t.equal(layout.mask, null);
  t.equal(PCI_MSI_CAP_SIZE_32, 0x0a);
  dev.config.write32(layout.addressLo, 0xfee00003);
  t.equal(dev.config.read32(layout.addressLo), 0xfee00000);
  dev.close();
});

t.test('routing errors: EBUSY for another index, EEXIST, RangeError, trigger without a line', async (t) => {
  const dev = createTestDevice({ intx: true, msi: { vectors: 2 } });
  const a = recordingLine('a');
  dev.irq.attach(MSI, 0, a.line);
  t.throws(() => dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, recordingLine().line), { name: 'DdkError', code: 'EBUSY' });
  t.throws(() => dev.irq.attach(MSI, 0, recordingLine().line), { name: 'DdkError', code: 'EEXIST' });
  t.throws(() => dev.irq.attach(MSI, 2, recordingLine().line), RangeError);
  t.throws(() => dev.irq.attach(MSI, 1, {} as never), { name: 'DdkError', code: 'EINVAL' });
  t.throws(() => dev.irq.trigger(MSI, 1), { name: 'DdkError', code: 'EINVAL' });
  dev.close();
});

t.test('trigger is a loopback: the line fires without the device (and without BME)', async (t) => {
  const dev = createTestDevice({ msi: { vectors: 1 } });
  const { line, counts } = recordingLine();
  dev.irq.attach(MSI, 0, line);
  dev.irq.trigger(MSI, 0);
  await turn();
  t.same(counts, [1]);
  dev.close();
});

t.test('detach tells the line; the last detach disables MSI and frees the index', async (t) => {
  const { dev, layout } = msiDevice(2);
  const line = recordingLine().line;
  let detached = 0;
  line.setConsumer({ fire: () => {}, detached: () => { detached++; } });
  dev.irq.attach(MSI, 0, line);
  dev.irq.detach(MSI, 0);
  t.equal(detached, 1);
  t.notOk(line.attached);
  t.equal(dev.config.read16(layout.offset + 2) & PCI_MSI_FLAGS_ENABLE, 0);
  t.equal(dev.irq.activeIndex, null);
  dev.irq.attach(MSI, 1, line);
  dev.close();
  t.equal(detached, 2, 'close detaches every line');
});

t.test('reset drops MSI pending bits', async (t) => {
  const { dev, layout, raise } = msiDevice(1);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSI, 0, line);
  dev.config.write32(layout.mask as number, 1);
  raise(0);
  t.equal(dev.config.read32(layout.pending as number), 1);
  dev.reset();
  t.equal(dev.config.read32(layout.pending as number), 0);
  dev.config.write32(layout.mask as number, 0);
  await turn();
  t.same(counts, []);
  dev.close();
});
