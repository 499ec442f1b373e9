/**
 * `openVfioDevice` / `VfioDevice` against a scripted addon and a fixture sysfs: the open sequence and
 * its diagnostics, what reaches the kernel (SET_IRQS, MAP_DMA, mmap), and that close releases every
 * fd. The real-device behaviour is checked in hw-tests/ inside the QEMU guest.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import type { IrqSet, NativeAddon, RegionInfo, WatcherCallback } from '../../lib/native/addon-types.ts';
import {
  VFIO_DEVICE_FLAGS_PCI, VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_NORESIZE,
  VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
  VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
} from '../../lib/native/vfio-uapi.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../../lib/pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import type { OpenVfioDeviceOptions } from '../../lib/vfio/vfio-device.ts';
import { buildConfig, makeFixture } from './fixtures.ts';

const errno = (code: string): Error => Object.assign(new Error(`${code} (fake)`), { code, errno: 1, syscall: 'ioctl' });

interface FakeOptions {
  setIommuError?: string;
  mapDmaError?: string;
  /** BAR0 sparse areas (default: whole BAR mmappable). */
  sparse?: { offset: bigint; size: bigint }[];
  groupViable?: boolean;
}

/** A scripted addon: an edu-like device (BAR0 1 MiB, 1 MSI, INTx) behind a type1 container. */
function fakeAddon(o: FakeOptions = {}) {
  let nextFd = 100;
  const open = new Set<number>();
  const calls: string[] = [];
  const irqSets: IrqSet[] = [];
  const maps: { iova: bigint; size: bigint }[] = [];
  const watchers = new Map<number, WatcherCallback>();
  const mapped = new Set<ArrayBuffer>();
  /** What pread/pwrite reach on BAR0 (the mmapped areas are separate ArrayBuffers). */
  const barBytes = new Uint8Array(1 << 20);
  const config = buildConfig({ vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, revision: 0x10, intxPin: 1, msi: { vectors: 1, is64: true } });
  const fd = (what: string): number => {
    const n = nextFd++;
    open.add(n);
    calls.push(what);
    return n;
  };
  const region = (index: number): RegionInfo => {
    const rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    if (index === 7) return { index, flags: rw, size: 256n, offset: 7n << 40n, msixMappable: false };
    if (index === 0) {
      const info: RegionInfo = { index, flags: rw | VFIO_REGION_INFO_FLAG_MMAP, size: 1n << 20n, offset: 0n, msixMappable: false };
      return o.sparse ? { ...info, sparseMmap: o.sparse } : info;
    }
    return { index, flags: 0, size: 0n, offset: BigInt(index) << 40n, msixMappable: false };
  };
  const addon = {
    clockBootNs: () => 0n,
    clockMonoNs: () => 0n,
    close: (n: number) => {
      if (!open.delete(n)) throw errno('EBADF');
    },
    eventfdCreate: () => fd('eventfd'),
    eventfdRead: () => 0,
    eventfdWrite: () => {},
    EventfdWatcher: class {
      readonly fd: number;
      closed = false;
      hasRef = true;
      constructor(n: number, cb: WatcherCallback) {
        this.fd = n;
        watchers.set(n, cb);
      }
      ref() { return this; }
      unref() { return this; }
      close() { this.closed = true; watchers.delete(this.fd); }
    },
    vfioOpenContainer: () => fd('container'),
    vfioGetApiVersion: () => 0,
    vfioCheckExtension: () => 1,
    vfioSetIommu: () => {
      if (o.setIommuError) throw errno(o.setIommuError);
    },
    vfioIommuGetInfo: () => ({ flags: 3, iovaPgsizes: 0x40201000n, iovaRanges: [{ start: 0n, end: 0xfedfffffn }, { start: 0xfef00000n, end: (1n << 39n) - 1n }] }),
    vfioIommuMapDma: (_fd: number, m: { iova: bigint; size: bigint }) => {
      if (o.mapDmaError) throw errno(o.mapDmaError);
      maps.push({ iova: m.iova, size: m.size });
    },
    vfioIommuUnmapDma: (_fd: number, r: { iova: bigint; size: bigint }) => {
      const i = maps.findIndex((m) => m.iova === r.iova);
      if (i >= 0) maps.splice(i, 1);
      return r.size;
    },
    vfioOpenGroup: (group: number) => fd(`group ${group}`),
    vfioGroupGetStatus: () => ({ flags: 1, viable: o.groupViable ?? true, containerSet: false }),
    vfioGroupSetContainer: () => {},
    vfioGroupGetDeviceFd: (_g: number, bdf: string) => fd(`device ${bdf}`),
    vfioDeviceGetInfo: () => ({ flags: VFIO_DEVICE_FLAGS_PCI, numRegions: 9, numIrqs: 5 }),
    vfioDeviceGetRegionInfo: (_fd: number, index: number) => region(index),
    vfioDeviceGetIrqInfo: (_fd: number, index: number) => ({
      index,
      flags: VFIO_IRQ_INFO_EVENTFD | (index === 0 ? VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED : VFIO_IRQ_INFO_NORESIZE),
      count: index <= 1 ? 1 : 0,
    }),
    vfioDeviceSetIrqs: (_fd: number, set: IrqSet) => {
      irqSets.push({ ...set, fds: set.fds ? [...set.fds] : undefined });
    },
    vfioDeviceReset: () => { throw errno('EINVAL'); },
    regionRead: (_fd: number, ro: bigint, _rs: bigint, offset: number, width: number) => {
      const bytes = ro === 7n << 40n ? config : barBytes;
      let v = 0n;
      for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
      return width === 8 ? v : Number(v);
    },
    regionWrite: (_fd: number, ro: bigint, _rs: bigint, offset: number, width: number, value: number | bigint) => {
      const bytes = ro === 7n << 40n ? config : barBytes;
      calls.push(`${ro === 7n << 40n ? 'config' : 'bar'} write${width * 8} 0x${offset.toString(16)}=0x${value.toString(16)}`);
      for (let i = 0; i < width; i++) bytes[offset + i] = Number((BigInt(value) >> BigInt(8 * i)) & 0xffn);
    },
    mmapRegion: (_fd: number, _ro: bigint, _rs: bigint, _offset: bigint, size: bigint) => {
      const buffer = new ArrayBuffer(Number(size));
      mapped.add(buffer);
      return buffer;
    },
    munmapRegion: (buffer: ArrayBuffer) => {
      mapped.delete(buffer);
    },
    dmaAlloc: (size: number) => ({ buffer: new ArrayBuffer(Math.ceil(size / 4096) * 4096), vaddr: 0x7f0000000000n, size: Math.ceil(size / 4096) * 4096, hugepage: false }),
    dmaFree: () => {},
    iommufdOpen: () => fd('iommufd'),
    vfioCdevOpen: (path: string) => fd(`cdev ${path}`),
    vfioDeviceBindIommufd: () => { calls.push('bind'); return 1; },
    iommufdIoasAlloc: () => { calls.push('ioas'); return 7; },
    vfioDeviceAttachIommufdPt: (_fd: number, pt: number) => { calls.push(`attach ${pt}`); return 0; },
    iommufdIoasIovaRanges: () => ({ alignment: 4096n, ranges: [{ start: 0n, last: 0xfedfffffn }] }),
    iommufdIoasMap: (_fd: number, m: { iova: bigint; length: bigint }) => { maps.push({ iova: m.iova, size: m.length }); return m.iova; },
    iommufdIoasUnmap: (_fd: number, _ioas: number, iova: bigint, length: bigint) => {
      const i = maps.findIndex((m) => m.iova === iova);
      if (i >= 0) maps.splice(i, 1);
      return length;
    },
  };
  return { addon: addon as unknown as NativeAddon, open, calls, irqSets, maps, watchers, mapped, config };
}

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
  t.throws(() => bar.write32(0x2000, -1), RangeError);
  t.throws(() => bar.write64(0x2000, -1n), RangeError);
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
  intx.setConsumer({ fire: () => {}, detached: () => detached++ });
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, intx);
  dev.irq.unmaskIntx();
  t.same(fake.irqSets.at(-1), { index: 0, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, start: 0, count: 1, fds: undefined });
  dev.close();
  t.equal(detached, 1, 'close detached the INTx line');
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
