import t from 'tap';
import { createEduDevice, createTestDevice, EMU_MMIO_WINDOW_BASE } from 'vfio-ddk/emu';
import { EmuConfigSpace } from '../../lib/emu/config-space.ts';
import {
  PCI_BASE_ADDRESS_0, PCI_CAPABILITY_LIST, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CLASS_REVISION, PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_DEVICE_ID, PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_STATUS_INTERRUPT,
  PCI_STATUS_REC_MASTER_ABORT, PCI_STATUS_SIG_TARGET_ABORT, PCI_VENDOR_ID, listCapabilities,
} from '../../lib/pci/index.ts';

t.test('IDs, class and header type are read-only', async (t) => {
  using dev = createEduDevice();
  dev.config.write32(PCI_VENDOR_ID, 0xdeadbeef);
  dev.config.write32(PCI_CLASS_REVISION, 0);
  dev.config.write8(PCI_HEADER_TYPE, 0x80);
  dev.config.write8(PCI_INTERRUPT_PIN, 4);
  t.equal(dev.config.read16(PCI_VENDOR_ID), 0x1234);
  t.equal(dev.config.read16(PCI_DEVICE_ID), 0x11e8);
  t.equal(dev.config.read32(PCI_CLASS_REVISION), 0x00ff0010);
  t.equal(dev.config.read8(PCI_HEADER_TYPE), 0);
  t.equal(dev.config.read8(PCI_INTERRUPT_PIN), 1);
});

t.test('Interrupt Line is read-write', async (t) => {
  using dev = createEduDevice();
  dev.config.write8(PCI_INTERRUPT_LINE, 0x0b);
  t.equal(dev.config.read8(PCI_INTERRUPT_LINE), 0x0b);
});

t.test('Command: memory space, bus master, INTx disable are RW; reserved bits RO; starts as firmware leaves it', async (t) => {
  using dev = createEduDevice();
  t.equal(dev.config.read16(PCI_COMMAND), PCI_COMMAND_MEMORY, 'Memory Space Enable only, like after qboot');
  dev.config.write16(PCI_COMMAND, 0xffff);
  const all = dev.config.read16(PCI_COMMAND);
  t.ok(all & PCI_COMMAND_MASTER);
  t.ok(all & PCI_COMMAND_INTX_DISABLE);
  t.equal(all & 0xf800, 0, 'bits 15:11 reserved read zero');
  dev.config.write16(PCI_COMMAND, 0);
  t.equal(dev.config.read16(PCI_COMMAND), 0);
});

t.test('Status: Capabilities List and Interrupt Status are RO; writing ones does not clear them', async (t) => {
  using dev = createTestDevice({ intx: true });
  dev.bar(0).write32(0x0c, 1);
  const before = dev.config.read16(PCI_STATUS);
  t.ok(before & PCI_STATUS_INTERRUPT);
  dev.config.write16(PCI_STATUS, 0xffff);
  t.equal(dev.config.read16(PCI_STATUS), before);
  dev.config.write16(PCI_STATUS, 0);
  t.equal(dev.config.read16(PCI_STATUS), before);
});

t.test('write-1-to-clear bits clear only where a 1 is written', async (t) => {
  const config = new EmuConfigSpace();
  config.setW1cmask(PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_TARGET_ABORT);
  config.set16(PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_CAP_LIST);
  config.write16(PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT);
  t.equal(config.read16(PCI_STATUS), PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_CAP_LIST);
  config.write16(PCI_STATUS, 0);
  t.equal(config.read16(PCI_STATUS), PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_CAP_LIST, 'writing 0 changes nothing');
});

t.test('BAR sizing: all-ones reads back the size mask with the type bits; the address is restorable', async (t) => {
  using dev = createEduDevice();
  const original = dev.config.read32(PCI_BASE_ADDRESS_0);
  t.equal(original & 0xf, 0, '32-bit non-prefetchable memory');
  t.equal(original % (1 << 20), 0, 'naturally aligned to 1 MiB');
  t.ok(original >= EMU_MMIO_WINDOW_BASE);
  t.equal(dev.barAddress(0), BigInt(original));
  dev.config.write32(PCI_BASE_ADDRESS_0, 0xffffffff);
  t.equal(dev.config.read32(PCI_BASE_ADDRESS_0), 0xfff00000, '1 MiB');
  dev.config.write32(PCI_BASE_ADDRESS_0, original | 0xf);
  t.equal(dev.config.read32(PCI_BASE_ADDRESS_0), original, 'type bits stay RO');
  dev.config.write32(PCI_BASE_ADDRESS_0 + 4, 0xffffffff);
  t.equal(dev.config.read32(PCI_BASE_ADDRESS_0 + 4), 0, 'unimplemented BAR1 reads 0');
});

t.test('each device gets a unique BDF and non-overlapping BARs; numbers are reused after close', async (t) => {
  const a = createEduDevice();
  const b = createTestDevice({ msix: { vectors: 2048 } });
  t.not(a.bdf, b.bdf);
  t.match(a.bdf, /^0000:[89a-f][0-9a-f]:[01][0-9a-f]\.0$/);
  const ranges = [[a.barAddress(0), 1n << 20n], [b.barAddress(0), 4096n], [b.barAddress(1), 65536n]] as [bigint, bigint][];
  for (const [base, size] of ranges) t.equal(base % size, 0n, 'naturally aligned');
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [x, xs] = ranges[i] as [bigint, bigint];
      const [y, ys] = ranges[j] as [bigint, bigint];
      t.ok(x + xs <= y || y + ys <= x, 'no overlap');
    }
  }
  const bdf = a.bdf;
  a.close();
  const c = createEduDevice();
  t.equal(c.bdf, bdf);
  b.close();
  c.close();
});

t.test('capability list walks from 0x34: MSI then MSI-X', async (t) => {
  using dev = createTestDevice({ msi: { vectors: 4, perVectorMask: true, addr64: true }, msix: { vectors: 16 } });
  t.ok(dev.config.read16(PCI_STATUS) & PCI_STATUS_CAP_LIST);
  t.equal(dev.config.read8(PCI_CAPABILITY_LIST), 0x40);
  t.same(listCapabilities(dev.config).map((c) => [c.id, c.offset]), [[PCI_CAP_ID_MSI, 0x40], [PCI_CAP_ID_MSIX, 0x58]]);
  using bare = createTestDevice({});
  t.equal(bare.config.read16(PCI_STATUS) & PCI_STATUS_CAP_LIST, 0);
  t.same(listCapabilities(bare.config), []);
});

t.test('out-of-range or misaligned config accesses throw RangeError naming offset and size', async (t) => {
  using dev = createEduDevice();
  t.throws(() => dev.config.read32(0x100), { name: 'RangeError', message: /4 byte\(s\) at offset 256/ });
  t.throws(() => dev.config.read16(0x03), { name: 'RangeError', message: /0x3 is not 2-byte aligned/ });
  t.throws(() => dev.config.write8(-1, 0), RangeError);
  t.throws(() => dev.config.read8(1.5), RangeError);
});

t.test('after close every access throws DdkError ECLOSED', async (t) => {
  const dev = createEduDevice();
  const bar = dev.bar(0);
  dev.close();
  dev.close();
  t.ok(dev.closed);
  t.throws(() => dev.config.read16(0), { name: 'DdkError', code: 'ECLOSED' });
  t.throws(() => bar.read32(0), { name: 'DdkError', code: 'ECLOSED' });
  t.throws(() => dev.bar(0), { name: 'DdkError', code: 'ECLOSED' });
  t.throws(() => dev.dma.alloc(4096), { name: 'DdkError', code: 'ECLOSED' });
});

t.test('BAR access needs Memory Space Enable (vfio-pci blocks it: EIO)', async (t) => {
  using dev = createEduDevice();
  dev.config.write16(PCI_COMMAND, 0);
  t.throws(() => dev.bar(0).read32(0), { name: 'DdkError', code: 'EIO' });
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY);
  t.equal(dev.bar(0).read32(0), 0x010000ed);
});

t.test('bar(): RangeError for 6, ENOENT for an unimplemented BAR; BAR accesses are bounds checked', async (t) => {
  using dev = createEduDevice();
  t.throws(() => dev.bar(6), RangeError);
  t.throws(() => dev.bar(2), { name: 'DdkError', code: 'ENOENT' });
  t.equal(dev.bar(0).size, 1n << 20n);
  t.throws(() => dev.bar(0).read32(1 << 20), RangeError);
  t.throws(() => dev.bar(0).read32(2), RangeError);
});

t.test('onClose listeners run once on close; unregister works', async (t) => {
  const dev = createTestDevice({});
  let a = 0;
  let b = 0;
  dev.onClose(() => { a++; });
  const off = dev.onClose(() => { b++; });
  off();
  dev.close();
  dev.close();
  t.equal(a, 1);
  t.equal(b, 0);
});

t.test('requestRemoval: the removal listeners run while the device is open, then it closes (once)', async (t) => {
  const dev = createTestDevice({});
  const order: string[] = [];
  dev.onRemovalRequest(() => order.push(`removal (closed: ${dev.closed})`));
  dev.onRemovalRequest(() => { throw new Error('driver failed'); });
  dev.onClose(() => order.push('closed'));
  dev.requestRemoval();
  dev.requestRemoval();
  t.same(order, ['removal (closed: false)', 'closed'], 'a throwing listener does not keep the device open');
  t.match(dev.deviceErrors, [{ message: /onRemovalRequest listener threw: Error: driver failed/ }]);
  t.throws(() => dev.onRemovalRequest(42 as never), TypeError);
});

t.test('reset runs the onReset listeners with kind function, after the model was reset', async (t) => {
  const dev = createTestDevice({});
  const kinds: string[] = [];
  const off = dev.onReset((e) => kinds.push(e.kind));
  dev.reset();
  off();
  dev.reset();
  t.same(kinds, ['function']);
  dev.onReset(() => { throw new Error('driver failed'); });
  t.throws(() => dev.reset(), { message: 'driver failed' });
  dev.close();
  t.throws(() => dev.reset(), { code: 'ECLOSED' });
});
