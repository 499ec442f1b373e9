import t from 'tap';
import { createTestDevice, EMU_MSI_ADDRESS, TEST_DEV_MSIX_BAR, TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, VFIO_PCI_MSIX_IRQ_INDEX, findMsix,
} from '../../lib/pci/index.ts';
import { recordingLine, turn } from './helpers.ts';

const MSIX = VFIO_PCI_MSIX_IRQ_INDEX;

function msixDevice(vectors: number) {
  const dev = createTestDevice({ msix: { vectors } });
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const layout = findMsix(dev.config);
  if (!layout) throw new Error('no MSI-X capability');
  const table = dev.bar(layout.tableBar);
  const ctrl = (v: number): number => layout.tableOffset + v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;
  const raise = (v: number): void => dev.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, v);
  const pba = (v: number): number => (dev.bar(layout.pbaBar).read32(layout.pbaOffset + 4 * (v >> 5)) >>> (v & 31)) & 1;
  const control = layout.offset + 2;
  return { dev, layout, table, ctrl, raise, pba, control };
}

t.test('capability: table and PBA in BAR1 (QEMU exclusive-BAR layout), table size, RO fields', async (t) => {
  const { dev, layout, control } = msixDevice(2048);
  t.match(layout, { vectors: 2048, tableBar: TEST_DEV_MSIX_BAR, tableOffset: 0, pbaBar: TEST_DEV_MSIX_BAR, pbaOffset: 0x8000 });
  t.equal(dev.bar(TEST_DEV_MSIX_BAR).size, 0x10000n);
  dev.config.write32(layout.offset + 4, 0xffffffff);
  t.equal(dev.config.read32(layout.offset + 4), TEST_DEV_MSIX_BAR, 'Table Offset/BIR is RO');
  dev.config.write16(control, 0xffff);
  t.equal(dev.config.read16(control), PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 2047, 'only Enable and Function Mask are RW');
  t.equal(dev.irq.info(MSIX).count, 2048);
  dev.close();
  const small = msixDevice(8);
  t.equal(small.layout.pbaOffset, 2048, 'PBA at half of a 4 KiB BAR');
  small.dev.close();
});

t.test('every entry is masked after reset; attach programs and unmasks its entry and sets MSI-X Enable', async (t) => {
  const { dev, layout, table, ctrl, control } = msixDevice(4);
  for (let v = 0; v < 4; v++) t.equal(table.read32(ctrl(v)), PCI_MSIX_ENTRY_CTRL_MASKBIT);
  dev.irq.attach(MSIX, 2, recordingLine().line);
  t.ok(dev.config.read16(control) & PCI_MSIX_FLAGS_ENABLE);
  t.equal(table.read32(ctrl(2)), 0);
  t.equal(table.read64(layout.tableOffset + 2 * PCI_MSIX_ENTRY_SIZE), EMU_MSI_ADDRESS);
  t.equal(table.read32(ctrl(1)), PCI_MSIX_ENTRY_CTRL_MASKBIT, 'other entries stay masked');
  dev.close();
});

t.test('entry mask: raise → PBA bit, no message; unmask → sent exactly once, PBA cleared', async (t) => {
  const { dev, table, ctrl, raise, pba } = msixDevice(64);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSIX, 40, line);
  table.write32(ctrl(40), PCI_MSIX_ENTRY_CTRL_MASKBIT);
  raise(40);
  raise(40);
  await turn();
  t.same(counts, []);
  t.equal(pba(40), 1);
  table.write32(ctrl(40), 0);
  t.equal(pba(40), 0);
  await turn();
  t.same(counts, [1]);
  table.write32(ctrl(40), 0);
  await turn();
  t.same(counts, [1], 'no second message');
  dev.close();
});

t.test('function mask masks every vector regardless of entry masks; clearing it sends pending ones once', async (t) => {
  const { dev, raise, pba, control } = msixDevice(4);
  const a = recordingLine('a');
  const b = recordingLine('b');
  dev.irq.attach(MSIX, 0, a.line);
  dev.irq.attach(MSIX, 3, b.line);
  dev.config.write16(control, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  raise(0);
  raise(3);
  await turn();
  t.same([a.counts, b.counts], [[], []]);
  t.same([pba(0), pba(3)], [1, 1]);
  dev.config.write16(control, PCI_MSIX_FLAGS_ENABLE);
  await turn();
  t.same([a.counts, b.counts], [[1], [1]]);
  t.same([pba(0), pba(3)], [0, 0]);
  dev.close();
});

t.test('pending and masked by the entry: clearing only the function mask does not send it', async (t) => {
  const { dev, table, ctrl, raise, pba, control } = msixDevice(2);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSIX, 1, line);
  table.write32(ctrl(1), 1);
  dev.config.write16(control, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  raise(1);
  dev.config.write16(control, PCI_MSIX_FLAGS_ENABLE);
  await turn();
  t.same(counts, []);
  t.equal(pba(1), 1);
  table.write32(ctrl(1), 0);
  await turn();
  t.same(counts, [1]);
  dev.close();
});

t.test('MSI-X disabled: a raise is dropped (no PBA bit); BME off: message lost', async (t) => {
  const { dev, raise, pba } = msixDevice(2);
  raise(1);
  t.equal(pba(1), 0);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSIX, 1, line);
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY);
  raise(1);
  await turn();
  t.same(counts, []);
  t.equal(dev.irq.lostMessages, 1);
  dev.close();
});

t.test('table accepts 32/64-bit accesses only; 8/16-bit reads are all-ones and writes ignored; PBA is RO', async (t) => {
  const { dev, layout, table } = msixDevice(4);
  const entry = layout.tableOffset + PCI_MSIX_ENTRY_SIZE;
  table.write64(entry, 0x1_2345_6780n);
  t.equal(table.read64(entry), 0x1_2345_6780n);
  t.equal(table.read32(entry + 4), 1);
  t.equal(table.read8(entry), 0xff);
  t.equal(table.read16(entry), 0xffff);
  table.write16(entry, 0);
  table.write8(entry, 0);
  t.equal(table.read32(entry), 0x23456780);
  table.write32(entry, 0xfee00003);
  t.equal(table.read32(entry), 0xfee00000, 'address bits 1:0 RO zero');
  table.write32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0xfffffffe);
  t.equal(table.read32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL), 0, 'reserved vector-control bits RO zero');
  table.write32(layout.pbaOffset, 0xffffffff);
  t.equal(table.read32(layout.pbaOffset), 0);
  dev.close();
});

t.test('the last vector of a 2048-entry table works', async (t) => {
  const { dev, raise } = msixDevice(2048);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSIX, 2047, line);
  raise(2047);
  await turn();
  t.same(counts, [1]);
  raise(2048);
  t.equal(dev.deviceErrors.length, 1, 'a vector the device lacks is recorded, not sent');
  dev.close();
});

t.test('invalid test-device options: RangeError / DdkError', async (t) => {
  t.throws(() => createTestDevice({ msix: { vectors: 0 } }), RangeError);
  t.throws(() => createTestDevice({ msix: { vectors: 2049 } }), RangeError);
  t.throws(() => createTestDevice({ msi: { vectors: 3 as 2 } }), RangeError);
  t.throws(() => createTestDevice({ msi: { vectors: 64 as 32 } }), RangeError);
  t.throws(() => createTestDevice({ intx: 1 as unknown as boolean }), { name: 'DdkError', code: 'EINVAL' });
  t.throws(() => createTestDevice(null as never), { name: 'DdkError', code: 'EINVAL' });
});

t.test('reset drops pending bits; nothing is sent at a later unmask', async (t) => {
  const { dev, table, ctrl, raise, pba } = msixDevice(2);
  const { line, counts } = recordingLine();
  dev.irq.attach(MSIX, 0, line);
  table.write32(ctrl(0), 1);
  raise(0);
  t.equal(pba(0), 1);
  dev.reset();
  t.equal(pba(0), 0);
  table.write32(ctrl(0), 0);
  await turn();
  t.same(counts, []);
  dev.close();
});
