/**
 * MSI-X table virtualization in `VfioDevice` (lib/vfio/vfio-msix-shadow.ts) against a scripted addon:
 * an NVMe-like device whose BAR0 is fully mmappable *including* the MSI-X table (what
 * VFIO_REGION_INFO_CAP_MSIX_MAPPABLE allows). Table and PBA accesses must never reach the mapping or
 * the device fd; the Mask bits and the Function Mask drive the routed lines' latches; the PBA shows
 * latched fires of masked vectors.
 */
import t from 'tap';
import { join } from 'node:path';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import type { IrqSet, NativeAddon, RegionInfo } from '../../lib/native/addon-types.ts';
import {
  VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_RESET, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_NORESIZE, VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from '../../lib/native/vfio-uapi.ts';
import { findMsix } from '../../lib/pci/capabilities.ts';
import {
  PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_UPPER_ADDR,
  PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_MASKALL,
} from '../../lib/pci/regs.ts';
import { VFIO_PCI_MSIX_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import type { VfioDevice } from '../../lib/vfio/vfio-device.ts';
import { buildConfig, makeFixture, standardDevices } from './fixtures.ts';

const NVME = '0000:00:02.0';
const VECTORS = 65;
const TABLE = 0x2000;
const PBA = 0x3000;
const CONFIG_OFFSET = 7n << 40n;

/** Scripted addon: BAR0 16 KiB, one mmap over all of it (table included), 65 MSI-X vectors. */
function fakeAddon() {
  let nextFd = 100;
  const open = new Set<number>();
  const barWrites: string[] = [];
  const irqSets: IrqSet[] = [];
  const watchers = new Map<number, (n: number, b: bigint, m: bigint) => void>();
  let mapping: Uint8Array | null = null;
  const config = buildConfig({ vendor: 0x1b36, device: 0x0010, classCode: 0x010802, intxPin: 1, size: 4096,
    msix: { vectors: VECTORS, tableBar: 0, tableOffset: TABLE, pbaBar: 0, pbaOffset: PBA } });
  const fd = (): number => {
    const n = nextFd++;
    open.add(n);
    return n;
  };
  const region = (index: number): RegionInfo => {
    const rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    if (index === 7) return { index, flags: rw, size: 4096n, offset: CONFIG_OFFSET, msixMappable: false };
    if (index === 0) return { index, flags: rw | VFIO_REGION_INFO_FLAG_MMAP, size: 0x4000n, offset: 0n, msixMappable: true };
    return { index, flags: 0, size: 0n, offset: BigInt(index) << 40n, msixMappable: false };
  };
  const addon = {
    clockBootNs: () => 1n,
    clockMonoNs: () => 1n,
    close: (n: number) => { open.delete(n); },
    eventfdCreate: () => fd(),
    eventfdRead: () => 0,
    eventfdWrite: () => {},
    EventfdWatcher: class {
      readonly fd: number;
      constructor(n: number, cb: (n: number, b: bigint, m: bigint) => void) { this.fd = n; watchers.set(n, cb); }
      ref() { return this; }
      unref() { return this; }
      close() { watchers.delete(this.fd); }
    },
    vfioOpenContainer: () => fd(),
    vfioGetApiVersion: () => 0,
    vfioCheckExtension: () => 1,
    vfioSetIommu: () => {},
    vfioIommuGetInfo: () => ({ flags: 3, iovaPgsizes: 0x40201000n, iovaRanges: [{ start: 0n, end: 0xfedfffffn }] }),
    vfioIommuMapDma: () => {},
    vfioIommuUnmapDma: (_fd: number, _iova: number | bigint, size: number | bigint) => Number(size),
    vfioOpenGroup: () => fd(),
    vfioGroupGetStatus: () => ({ flags: 1, viable: true, containerSet: false }),
    vfioGroupSetContainer: () => {},
    vfioGroupGetDeviceFd: () => fd(),
    vfioDeviceGetInfo: () => ({ flags: VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, numRegions: 9, numIrqs: 5 }),
    vfioDeviceGetRegionInfo: (_fd: number, index: number) => region(index),
    vfioDeviceGetIrqInfo: (_fd: number, index: number) => ({
      index, flags: VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, count: index === 2 ? VECTORS : index === 0 ? 1 : 0,
    }),
    vfioDeviceSetIrqs: (_fd: number, set: IrqSet) => { irqSets.push({ ...set, fds: set.fds ? [...set.fds] : undefined }); },
    vfioDeviceReset: () => {},
    regionRead: (_fd: number, ro: bigint, _rs: bigint, offset: number, width: number) => {
      if (ro !== CONFIG_OFFSET) throw new Error(`pread of BAR offset 0x${offset.toString(16)}`);
      let v = 0;
      for (let i = width - 1; i >= 0; i--) v = v * 256 + (config[offset + i] ?? 0);
      return v;
    },
    regionWrite: (_fd: number, ro: bigint, _rs: bigint, offset: number, width: number, value: number | bigint) => {
      // vfio-pci has no write permissions for the MSI-X capability: config writes are recorded only.
      if (ro !== CONFIG_OFFSET) barWrites.push(`pwrite 0x${offset.toString(16)}/${width}=${String(value)}`);
    },
    mmapRegion: (_fd: number, _ro: bigint, _rs: bigint, _offset: bigint, size: bigint) => {
      const buffer = new ArrayBuffer(Number(size));
      mapping = new Uint8Array(buffer);
      return buffer;
    },
    munmapRegion: () => {},
  };
  return { addon: addon as unknown as NativeAddon, open, barWrites, irqSets, watchers, mapping: () => mapping };
}

const devices = standardDevices().map((d) => (d.bdf === NVME ? { ...d, driver: 'vfio-pci', probesTo: 'vfio-pci' } : d));
const fixture = makeFixture({ devices, devNodes: ['vfio', '1', '2', '6'] });
t.teardown(() => fixture.cleanup());

function open(fake: ReturnType<typeof fakeAddon>): VfioDevice {
  return openVfioDevice(NVME, {
    addon: fake.addon, sysfs: new Sysfs(fixture.sys), vfioDir: join(fixture.dev, 'vfio'), iommuPath: join(fixture.dev, 'iommu'),
    enableBusMaster: false,
  });
}

const entry = (v: number): number => TABLE + v * PCI_MSIX_ENTRY_SIZE;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Simulates the kernel signalling vector `v`'s eventfd. */
function kernelFires(fake: ReturnType<typeof fakeAddon>, v: number): void {
  const last = fake.irqSets.at(-1);
  const efd = last?.fds?.[v];
  const watcher = efd === undefined ? undefined : fake.watchers.get(efd);
  if (watcher === undefined) throw new Error(`vector ${v} has no watcher`);
  watcher(1, 1n, 1n);
}

t.test('table and PBA never reach the mapping or the device; the rest of BAR0 still does', async (t) => {
  const fake = fakeAddon();
  using dev = open(fake);
  const bar = dev.bar(0);
  t.equal(bar.view, null, 'no whole-BAR view over a BAR that holds the table');
  const mapping = fake.mapping();
  if (mapping === null) throw new Error('BAR0 was not mapped');
  t.same([...mapping.subarray(TABLE + 12, TABLE + 16)], [0, 0, 0, 0], 'mapping untouched before');
  t.equal(bar.read32(entry(0) + PCI_MSIX_ENTRY_VECTOR_CTRL), PCI_MSIX_ENTRY_CTRL_MASKBIT, 'entries reset masked');
  bar.write32(entry(3) + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00003);
  bar.write32(entry(3) + PCI_MSIX_ENTRY_UPPER_ADDR, 0x12);
  bar.write32(entry(3) + PCI_MSIX_ENTRY_DATA, 0x4041);
  bar.write64(entry(4), 0x0000_0001_fee0_1000n);
  bar.write32(entry(3) + PCI_MSIX_ENTRY_VECTOR_CTRL, 0xffff_fffe);
  t.equal(bar.read32(entry(3) + PCI_MSIX_ENTRY_LOWER_ADDR), 0xfee00000, 'address bits 1:0 read zero');
  t.equal(bar.read32(entry(3) + PCI_MSIX_ENTRY_UPPER_ADDR), 0x12);
  t.equal(bar.read32(entry(3) + PCI_MSIX_ENTRY_DATA), 0x4041, 'reads back what was written');
  t.equal(bar.read64(entry(4)), 0x0000_0001_fee0_1000n, '64-bit access');
  t.equal(bar.read32(entry(3) + PCI_MSIX_ENTRY_VECTOR_CTRL), 0, 'only the Mask bit is kept');
  t.equal(bar.read16(entry(3)), 0xffff, '16-bit table reads: all-ones');
  bar.write8(entry(3) + PCI_MSIX_ENTRY_DATA, 0x99);
  t.equal(bar.read32(entry(3) + PCI_MSIX_ENTRY_DATA), 0x4041, '8-bit writes dropped');
  bar.write64(PBA, 0xffn);
  t.equal(bar.read64(PBA), 0n, 'PBA read-only');
  t.ok(mapping.subarray(TABLE, TABLE + VECTORS * 16).every((b) => b === 0), 'nothing reached the mapped table');
  t.ok(mapping.subarray(PBA, PBA + 16).every((b) => b === 0), 'nothing reached the mapped PBA');
  t.same(fake.barWrites, [], 'nor the device fd');
  bar.write32(0x1000, 0x1234);
  t.equal(mapping[0x1000], 0x34, 'a doorbell outside the table still uses the mapping');
  bar.write32(entry(VECTORS - 1) + PCI_MSIX_ENTRY_DATA, 7);
  bar.write32(entry(VECTORS), 0xabcd);
  t.equal(mapping[entry(VECTORS)], 0xcd, 'the byte after the last entry is not table');
});

t.test('Mask bit → line latch, PBA shows latched fires, unmask delivers once', async (t) => {
  const fake = fakeAddon();
  using dev = open(fake);
  const bar = dev.bar(0);
  const line = new IrqLine('v1');
  let fires = 0;
  line.setConsumer({ fire: (n) => { fires += n; } });
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 1, line);
  t.equal(bar.read32(entry(1) + PCI_MSIX_ENTRY_VECTOR_CTRL), 0, 'routing unmasks the entry (the kernel enabled it)');
  kernelFires(fake, 1);
  t.equal(fires, 1, 'unmasked: delivered');
  bar.write32(entry(1) + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
  t.ok(line.masked, 'Mask bit set → line masked');
  kernelFires(fake, 1);
  kernelFires(fake, 1);
  t.equal(fires, 1, 'latched while masked');
  t.equal(bar.read64(PBA), 1n << 1n, 'PBA bit 1 set');
  t.equal(bar.read32(PBA + 4), 0);
  bar.write32(entry(1) + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
  t.notOk(line.masked);
  await tick();
  t.equal(fires, 3, 'unmask delivered the latched fires (coalesced)');
  t.equal(line.deliveries, 2);
  t.equal(bar.read64(PBA), 0n, 'PBA clear again');
  dev.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, 1);
  t.equal(bar.read32(entry(1) + PCI_MSIX_ENTRY_VECTOR_CTRL), PCI_MSIX_ENTRY_CTRL_MASKBIT, 'unrouting masks the entry');
});

t.test('a reset keeps the table and the routes, and drops what masked vectors held pending (the PBA clears)', async (t) => {
  const fake = fakeAddon();
  using dev = open(fake);
  const bar = dev.bar(0);
  const masked = new IrqLine('v1');
  const unmasked = new IrqLine('v2');
  let fires = 0;
  masked.setConsumer({ fire: (n) => { fires += n; } });
  unmasked.setConsumer({ fire: (n) => { fires += n; } });
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 1, masked);
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 2, unmasked);
  bar.write32(entry(1) + PCI_MSIX_ENTRY_DATA, 0x4041);
  bar.write32(entry(1) + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
  kernelFires(fake, 1);
  t.equal(bar.read64(PBA), 1n << 1n, 'pending before the reset');
  const irqSetsBefore = fake.irqSets.length;
  dev.reset();
  t.equal(bar.read64(PBA), 0n, 'the reset cleared the pending bit');
  t.equal(bar.read32(entry(1) + PCI_MSIX_ENTRY_DATA), 0x4041, 'the entry keeps what the driver wrote');
  t.equal(fake.irqSets.length, irqSetsBefore, 'no SET_IRQS: the eventfds stay registered');
  bar.write32(entry(1) + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
  await tick();
  t.equal(fires, 0, 'nothing latched is delivered at unmask');
  kernelFires(fake, 1);
  kernelFires(fake, 2);
  t.equal(fires, 2, 'both routes still deliver');
});

t.test('Function Mask in Message Control masks every routed line; kept out of the device', async (t) => {
  const fake = fakeAddon();
  using dev = open(fake);
  const layout = findMsix(dev.config);
  if (layout === null) throw new Error('no MSI-X');
  const control = layout.offset + PCI_MSIX_FLAGS;
  const a = new IrqLine('v0');
  const b = new IrqLine('v64');
  a.setConsumer({ fire: () => {} });
  b.setConsumer({ fire: () => {} });
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, a);
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 64, b);
  dev.bar(0).write32(entry(64) + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
  t.ok(b.masked);
  dev.config.write16(control, dev.config.read16(control) | PCI_MSIX_FLAGS_MASKALL);
  t.equal(dev.config.read16(control) & PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_FLAGS_MASKALL, 'reads back set');
  t.equal(dev.config.read8(control + 1) & (PCI_MSIX_FLAGS_MASKALL >> 8), PCI_MSIX_FLAGS_MASKALL >> 8, 'byte read too');
  t.equal((dev.config.read32(layout.offset) >>> 16) & PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_FLAGS_MASKALL, 'dword read too');
  t.ok(a.masked && b.masked, 'every vector masked');
  kernelFires(fake, 64);
  t.equal(dev.bar(0).read32(PBA + 8), 1, 'PBA bit 64 (second qword)');
  dev.config.write8(control + 1, (dev.config.read16(control) & ~PCI_MSIX_FLAGS_MASKALL) >> 8);
  t.equal(dev.config.read16(control) & PCI_MSIX_FLAGS_MASKALL, 0);
  t.notOk(a.masked, 'Function Mask cleared: vector 0 unmasked');
  t.ok(b.masked, 'vector 64 still masked by its own bit');
  dev.config.write16(control, dev.config.read16(control) | PCI_MSIX_FLAGS_MASKALL);
  t.ok(a.masked);
  const c = new IrqLine('v2');
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 2, c);
  t.equal(dev.config.read16(control) & PCI_MSIX_FLAGS_MASKALL, 0, 'routing a vector clears the Function Mask (as the kernel enabling it)');
  t.notOk(a.masked, '… and unmasks the lines it alone masked');
  t.ok(b.masked);
  dev.irq.disable(VFIO_PCI_MSIX_IRQ_INDEX);
  t.equal(dev.bar(0).read32(PBA + 8), 0, 'disabled: no routed line, no pending bit');
});

t.test('a device without MSI-X keeps its whole-BAR view', async (t) => {
  // The standard fixture's edu (MSI only) with a scripted addon of its own.
  const fake = fakeAddon();
  const plain = { ...fake.addon, vfioDeviceGetRegionInfo: (fd: number, index: number) => {
    const info = (fake.addon.vfioDeviceGetRegionInfo as (f: number, i: number) => RegionInfo)(fd, index);
    return info;
  }, regionRead: (_fd: number, _ro: bigint, _rs: bigint, offset: number) => (offset === 0x06 || offset === 0x34 ? 0 : 0x1234) } as NativeAddon;
  using dev = openVfioDevice(NVME, {
    addon: plain, sysfs: new Sysfs(fixture.sys), vfioDir: join(fixture.dev, 'vfio'), iommuPath: join(fixture.dev, 'iommu'), enableBusMaster: false,
  });
  t.equal(findMsix(dev.config), null);
  t.not(dev.bar(0).view, null);
});
