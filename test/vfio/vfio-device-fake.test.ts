/**
 * `openVfioDevice` / `VfioDevice` against a scripted addon and a fixture sysfs: the open sequence and
 * its diagnostics, what reaches the kernel (SET_IRQS, MAP_DMA, mmap), and that close releases every
 * fd. The real-device behaviour is checked in hw-tests/ inside the QEMU guest.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
} from '../../lib/native/vfio-uapi.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../../lib/pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import type { OpenVfioDeviceOptions } from '../../lib/vfio/vfio-device.ts';
import { makeFixture } from './fixtures.ts';
import { fakeAddon } from './fake-addon.ts';

const fixture = makeFixture();
t.teardown(() => fixture.cleanup());
const env = (fake: ReturnType<typeof fakeAddon>): OpenVfioDeviceOptions => ({
  addon: fake.addon, sysfs: new Sysfs(fixture.sys), vfioDir: join(fixture.dev, 'vfio'), iommuPath: join(fixture.dev, 'iommu'),
});
const EDU = '0000:00:01.0';

t.test('a malformed BDF is refused before the addon or sysfs is touched', async (t) => {
  const fake = fakeAddon();
  t.throws(() => openVfioDevice('00:01.0/../../x', env(fake)), { code: 'ERR_BAD_BDF' });
  t.throws(() => openVfioDevice('0000:00:20.0', env(fake)), { code: 'ERR_BAD_BDF' });
  t.throws(() => openVfioDevice(EDU, { ...env(fake), iommu: 'vfio' as 'auto' }), RangeError);
  t.same(fake.calls, []);
  t.throws(() => openVfioDevice(EDU, { ...env(fake), dmaMask: 0x1234n }), RangeError);
  t.same(fake.open.size, 0, 'a bad mask found after opening closes everything again');
});

t.test('diagnostics name the cause and the fix', async (t) => {
  const fake = fakeAddon();
  t.throws(() => openVfioDevice('0000:00:02.0', env(fake)), { code: 'ERR_NOT_VFIO', message: /bound to nvme.*vfio-ddk bind 0000:00:02\.0/ });
  t.throws(() => openVfioDevice('0000:00:05.0', env(fake)), { code: 'ERR_NO_IOMMU', message: /intel_iommu=on/ });
  t.throws(() => openVfioDevice('0000:00:06.0', env(fake)), { code: 'ERR_GROUP_NOT_VIABLE', message: /group 6.*0000:00:06\.1 is bound to snd_hda_intel/ });
  t.throws(() => openVfioDevice('0000:00:09.0', env(fake)), { code: 'ENOENT' });
  t.same(fake.open.size, 0, 'nothing opened');
  const eperm = fakeAddon({ setIommuError: 'EPERM' });
  t.throws(() => openVfioDevice(EDU, env(eperm)), { code: 'ERR_NO_IOMMU', message: /interrupt remapping.*allow_unsafe_interrupts/ });
  t.same(eperm.open.size, 0, 'container and group closed again');
  const notViable = fakeAddon({ groupViable: false });
  t.throws(() => openVfioDevice(EDU, env(notViable)), { code: 'ERR_GROUP_NOT_VIABLE' });
  t.same(notViable.open.size, 0);
});

t.test('missing /dev/vfio/vfio says which module to load', async (t) => {
  const fake = fakeAddon();
  rmSync(join(fixture.dev, 'vfio', 'vfio'));
  t.teardown(() => writeFileSync(join(fixture.dev, 'vfio', 'vfio'), ''));
  t.throws(() => openVfioDevice(EDU, env(fake)), { code: 'ERR_NO_VFIO', message: /modprobe vfio-pci/ });
});

t.test('open: identity from config, Memory + Bus Master enabled, BAR0 mapped', async (t) => {
  const fake = fakeAddon();
  const dev = openVfioDevice(EDU, env(fake));
  t.equal(dev.iommuKind, 'type1');
  t.equal(dev.group, 1);
  t.same(dev.identity, { vendorId: 0x1234, deviceId: 0x11e8, classCode: 0x00ff00, revision: 0x10, subsystemVendorId: 0x1234, subsystemId: 0x1100 });
  t.equal(dev.config.read16(PCI_COMMAND) & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const bar = dev.bar(0);
  t.not(bar.view, null);
  bar.write32(4, 0xdeadbeef);
  t.equal(bar.view?.u32[1], 0xdeadbeef, 'the write went to the mapping');
  t.throws(() => dev.bar(2), { code: 'ENOENT' });
  t.throws(() => dev.bar(6), RangeError);
  t.throws(() => dev.config.write16(PCI_COMMAND, 0x10000), RangeError);
  t.throws(() => dev.reset(), { code: 'ENOTSUP' });
  dev.close();
  t.same(fake.open.size, 0, 'every fd closed');
  t.same(fake.mapped.size, 0, 'BAR unmapped');
  t.throws(() => bar.read32(0), { code: 'ECLOSED' });
});

t.test('sparse mmap: mapped areas use the mapping, the rest pread/pwrite', async (t) => {
  const fake = fakeAddon({ sparse: [{ offset: 0n, size: 0x1000n }, { offset: 0x3000n, size: 0x1000n }] });
  using dev = openVfioDevice(EDU, { ...env(fake), enableBusMaster: false });
  const bar = dev.bar(0) as ReturnType<typeof dev.bar> & { isMapped(o: number, w?: number): boolean };
  t.equal(bar.view, null, 'no single view over the whole BAR');
  t.ok(bar.isMapped(0x10, 4));
  t.notOk(bar.isMapped(0x2000, 4), 'the hole (e.g. an MSI-X table) is not mapped');
  t.ok(bar.isMapped(0x3ffc, 4));
  t.equal(fake.mapped.size, 2);
  t.notOk(fake.calls.some((c) => c.startsWith('config write')), 'enableBusMaster: false leaves Command alone');
  bar.write8(0x3001, 0x12);
  bar.write16(0x3002, 0x3456);
  bar.write64(0x3008, 0x1122334455667788n);
  t.equal(bar.read32(0x3000), 0x34561200, 'byte and half-word writes land in the mapping');
  t.equal(bar.read64(0x3008), 0x1122334455667788n);
  t.equal(bar.read8(0x3001) + bar.read16(0x3002), 0x12 + 0x3456);
  const writesBefore = fake.calls.length;
  bar.write32(0x2000, 0xabcd);
  bar.write8(0x2004, 1);
  bar.write16(0x2006, 2);
  bar.write64(0x2008, 3n);
  t.equal(fake.calls.length - writesBefore, 4, 'the hole goes through pwrite, one call per access');
  t.equal(typeof bar.read64(0x2008), 'bigint', 'pread of 8 bytes gives a bigint');
  t.equal(typeof bar.read8(0x2000) + typeof bar.read16(0x2000), 'numbernumber');
  t.throws(() => bar.write32(0x2000, 2 ** 32 + 5), RangeError);
  t.throws(() => bar.write64(0x2000, 1n << 64n), RangeError, 'values follow lib/pci/register-value.ts (test/vfio/register-values.test.ts)');
});

t.test('interrupts: one SET_IRQS per index, deliveries routed per vector, INTx unmask, close detaches', async (t) => {
  const fake = fakeAddon();
  const dev = openVfioDevice(EDU, env(fake));
  const line = new IrqLine('msi');
  const got: number[] = [];
  line.setConsumer({ fire: (count) => got.push(count) });
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, line);
  const enable = fake.irqSets.at(-1);
  t.equal(enable?.flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
  t.equal(enable?.count, 1);
  const efd = enable?.fds?.[0] as number;
  fake.watchers.get(efd)?.(3, 10n, 20n);
  t.same(got, [3], 'the watcher delivered straight into the line');
  t.throws(() => dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, new IrqLine()), { code: 'EEXIST' });
  t.throws(() => dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, new IrqLine()), { code: 'EBUSY' });
  t.throws(() => dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 1, new IrqLine()), RangeError);
  t.throws(() => dev.irq.unmaskIntx(), { code: 'EINVAL' });
  dev.irq.trigger(VFIO_PCI_MSI_IRQ_INDEX, 0);
  t.same(fake.irqSets.at(-1), { index: 1, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 1, fds: undefined });
  dev.irq.disable(VFIO_PCI_MSI_IRQ_INDEX);
  t.same(fake.irqSets.at(-1), { index: 1, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 0, fds: undefined });
  t.notOk(fake.open.has(efd), 'eventfd closed');
  t.notOk(line.attached);

  const intx = new IrqLine('intx');
  let detached = 0;
  const bar = dev.bar(0);
  let barInDetach = '';
  intx.setConsumer({
    fire: () => {},
    detached: () => {
      detached++;
      try { bar.read32(0); barInDetach = 'read'; } catch (error) { barInDetach = (error as { code?: string }).code ?? 'other'; }
    },
  });
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, intx);
  dev.irq.unmaskIntx();
  t.same(fake.irqSets.at(-1), { index: 0, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, start: 0, count: 1, fds: undefined });
  dev.close();
  t.equal(detached, 1, 'close detached the INTx line');
  t.equal(barInDetach, 'ECLOSED', 'a driver called back during close finds its BAR closed, not the mapping');
  t.equal(fake.irqSets.at(-1)?.count, 0, 'close disabled INTx in the kernel');
  t.same(fake.open.size, 0);
});

t.test('DMA: IOVAs below the mask, inside the IOMMU ranges; memlock failure explained', async (t) => {
  const fake = fakeAddon();
  using dev = openVfioDevice(EDU, env(fake));
  t.equal(dev.dma.mask, 0xffffffffn, 'default 32-bit mask');
  dev.dma.setMask((1n << 28n) - 1n);
  const a = dev.dma.alloc(5000);
  t.equal(a.size, 8192);
  t.equal(a.iova, 0x1000n, 'IOVA 0 is never used');
  t.same(fake.maps, [{ iova: 0x1000n, size: 8192n }]);
  a.free();
  a.free();
  t.same(fake.maps, [], 'free unmapped once');
  t.throws(() => dev.dma.setMask(0x1234n), RangeError);
  const memory = { bytes: new Uint8Array(16384), size: 16384, native: true as const, vaddr: 0x7f1000000000n, free: () => {} };
  const m = dev.dma.map(memory, { size: 5000, iova: 0x100000n });
  t.same([m.iova, m.size], [0x100000n, 8192], 'fixed IOVA, size rounded to pages');
  t.throws(() => dev.dma.map(memory, { iova: 0x101000n }), { code: 'EEXIST' });
  t.throws(() => dev.dma.map({ ...memory, native: false } as never), { code: 'EINVAL' });
  t.throws(() => dev.dma.map(memory, { size: 20000 }), RangeError);
  m.unmap();
  t.same(fake.maps, []);
  const small = dev.dma.map(memory, { size: 4096 });
  const huge = { bytes: new Uint8Array(4 << 20), size: 4 << 20, native: true as const, vaddr: 0x7f1000200000n, free: () => {} };
  const large = dev.dma.map(huge, { size: 2 << 20 });
  t.equal(small.iova, 0x1000n, 'a 4 KiB mapping: the first free page');
  t.equal(large.iova, 0x200000n, 'memory on a 2 MiB boundary spanning 2 MiB: a 2 MiB-aligned IOVA (dma-iommu sizes-aligns its IOVAs)');
  const offHuge = { ...huge, vaddr: 0x7f1000201000n };
  const offset = dev.dma.map(offHuge, { size: 2 << 20 });
  t.equal(offset.iova, 0x400000n, 'memory off a 2 MiB boundary: page alignment is all the IOMMU could use');
  t.equal(dev.dma.mappings, 3);
  for (const x of [large, small, offset, large]) x.unmap();
  t.same(fake.maps, [], 'unmapped out of order, the second unmap of one a no-op');
  t.equal(dev.dma.mappings, 0);
  const kept = [0, 1, 2, 3].map(() => dev.dma.map(memory, { size: 4096 }));
  kept[1]!.unmap();
  kept[0]!.unmap();
  t.equal(dev.dma.mappings, 2, 'the live list keeps the others after removals from its middle and front');
  t.same(fake.maps.map((x) => x.iova), [0x3000n, 0x4000n]);
  dev.close();
  t.same(fake.maps, [], 'close unmaps what is still live');
  kept[2]!.unmap();
  const failing = fakeAddon({ mapDmaError: 'ENOMEM' });
  using other = openVfioDevice(EDU, env(failing));
  t.throws(() => other.dma.alloc(4096), { code: 'ERR_MEMLOCK', message: /RLIMIT_MEMLOCK.*ulimit -l/ });
  t.equal(other.dma.mappings, 0);
});

t.test('iommufd/cdev path when the kernel has /dev/iommu and the device a vfio cdev (Linux >= 6.6)', async (t) => {
  const cdevFixture = makeFixture();
  t.teardown(() => cdevFixture.cleanup());
  mkdirSync(cdevFixture.devicePath(EDU, 'vfio-dev', 'vfio0'), { recursive: true });
  mkdirSync(join(cdevFixture.dev, 'vfio', 'devices'), { recursive: true });
  writeFileSync(join(cdevFixture.dev, 'vfio', 'devices', 'vfio0'), '');
  writeFileSync(join(cdevFixture.dev, 'iommu'), '');
  const fake = fakeAddon();
  const options = { addon: fake.addon, sysfs: new Sysfs(cdevFixture.sys), vfioDir: join(cdevFixture.dev, 'vfio'), iommuPath: join(cdevFixture.dev, 'iommu') };
  const dev = openVfioDevice(EDU, options);
  t.equal(dev.iommuKind, 'iommufd');
  t.same(fake.calls.slice(0, 5), ['iommufd', `cdev ${join(cdevFixture.dev, 'vfio', 'devices', 'vfio0')}`, 'bind', 'ioas', 'attach 7']);
  const buffer = dev.dma.alloc(4096);
  t.same(fake.maps, [{ iova: 0x1000n, size: 4096n }], 'IOAS_MAP at an allocated IOVA');
  buffer.free();
  dev.close();
  t.same(fake.open.size, 0, 'device fd and iommufd closed');
  const type1 = fakeAddon();
  using forced = openVfioDevice(EDU, { ...options, addon: type1.addon, iommu: 'type1' });
  t.equal(forced.iommuKind, 'type1', "iommu: 'type1' keeps the legacy container");
});
