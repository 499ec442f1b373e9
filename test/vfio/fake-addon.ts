/**
 * A scripted addon for the VfioDevice tests: an edu-like device (BAR0 1 MiB, 1 MSI, INTx) behind a
 * type1 container or an iommufd IOAS, recording what reaches the "kernel".
 */
import type { HotResetInfo, IrqSet, NativeAddon, RecordWatcherCallback, RegionInfo, WatcherCallback } from '../../lib/native/addon-types.ts';
import {
  VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_RESET, VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_NORESIZE,
  VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
} from '../../lib/native/vfio-uapi.ts';
import { buildConfig } from './fixtures.ts';

export const errno = (code: string): Error => Object.assign(new Error(`${code} (fake)`), { code, errno: 1, syscall: 'ioctl' });

export interface FakeOptions {
  setIommuError?: string;
  mapDmaError?: string;
  /** BAR0 sparse areas (default: whole BAR mmappable). */
  sparse?: { offset: bigint; size: bigint }[];
  groupViable?: boolean;
  /** Offer the device request index (VFIO_PCI_REQ_IRQ_INDEX, count 1), as vfio-pci does. */
  requestIrq?: boolean;
  /** An MSI-X index of `count` vectors in GET_IRQ_INFO; NORESIZE as `noresize` (Linux ≥ 6.5 clears it). */
  msix?: { count: number; noresize: boolean };
  /** The errno code SET_IRQS fails with for this request, or undefined to accept it (recorded either way). */
  setIrqsError?: (set: IrqSet) => string | undefined;
  /** The errno code creating an eventfd watcher fails with (asked at each creation), or undefined. */
  watcherError?: () => string | undefined;
  /** VFIO_DEVICE_FLAGS_RESET set and VFIO_DEVICE_RESET succeeding (default: no reset, EINVAL). */
  resetWorks?: boolean;
  /** What GET_PCI_HOT_RESET_INFO answers (an errno code throws it); default ENODEV (root bus). */
  hotResetInfo?: HotResetInfo | string;
  /** An errno code VFIO_DEVICE_PCI_HOT_RESET fails with (default: it succeeds). */
  hotResetError?: string;
}

/** A scripted addon: an edu-like device (BAR0 1 MiB, 1 MSI, INTx) behind a type1 container. */
export function fakeAddon(o: FakeOptions = {}) {
  let nextFd = 100;
  const open = new Set<number>();
  const calls: string[] = [];
  const irqSets: IrqSet[] = [];
  /** The group fds of each VFIO_DEVICE_PCI_HOT_RESET that reached the "kernel". */
  const hotResets: number[][] = [];
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
      /** As the native watcher: with a wake record, count and timestamps go there and `cb(count)` is called. */
      constructor(n: number, cb: WatcherCallback | RecordWatcherCallback, record?: Int32Array) {
        const refused = o.watcherError?.();
        if (refused !== undefined) throw errno(refused);
        this.fd = n;
        const slots = record === undefined ? null : new BigUint64Array(record.buffer, record.byteOffset, 3);
        watchers.set(n, (count, boot, mono) => {
          if (slots === null) { (cb as WatcherCallback)(count, boot, mono); return; }
          slots[0] = boot;
          slots[1] = mono;
          slots[2] = BigInt(count);
          (cb as RecordWatcherCallback)(count);
        });
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
    vfioIommuMapDma: (_fd: number, iova: number | bigint, _vaddr: number | bigint, size: number | bigint) => {
      if (o.mapDmaError) throw errno(o.mapDmaError);
      maps.push({ iova: BigInt(iova), size: BigInt(size) });
    },
    vfioIommuUnmapDma: (_fd: number, iova: number | bigint, size: number | bigint) => {
      const i = maps.findIndex((m) => m.iova === BigInt(iova));
      if (i >= 0) maps.splice(i, 1);
      return Number(size);
    },
    vfioOpenGroup: (group: number) => fd(`group ${group}`),
    vfioGroupGetStatus: () => ({ flags: 1, viable: o.groupViable ?? true, containerSet: false }),
    vfioGroupSetContainer: () => {},
    vfioGroupGetDeviceFd: (_g: number, bdf: string) => fd(`device ${bdf}`),
    vfioDeviceGetInfo: () => ({ flags: VFIO_DEVICE_FLAGS_PCI | (o.resetWorks === true ? VFIO_DEVICE_FLAGS_RESET : 0), numRegions: 9, numIrqs: 5 }),
    vfioDeviceGetRegionInfo: (_fd: number, index: number) => region(index),
    vfioDeviceGetIrqInfo: (_fd: number, index: number) => {
      if (index === 2 && o.msix) {
        return { index, flags: VFIO_IRQ_INFO_EVENTFD | (o.msix.noresize ? VFIO_IRQ_INFO_NORESIZE : 0), count: o.msix.count };
      }
      return {
        index,
        flags: VFIO_IRQ_INFO_EVENTFD | (index === 0 ? VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED : VFIO_IRQ_INFO_NORESIZE),
        count: index <= 1 || (index === 4 && o.requestIrq === true) ? 1 : 0,
      };
    },
    vfioDeviceSetIrqs: (_fd: number, set: IrqSet) => {
      irqSets.push({ ...set, fds: set.fds ? [...set.fds] : undefined });
      const error = o.setIrqsError?.(set);
      if (error !== undefined) throw errno(error);
    },
    vfioDeviceReset: () => {
      if (o.resetWorks !== true) throw errno('EINVAL');
      calls.push('reset');
    },
    vfioDeviceGetPciHotResetInfo: () => {
      const info = o.hotResetInfo ?? 'ENODEV';
      if (typeof info === 'string') throw errno(info);
      return info;
    },
    vfioDevicePciHotReset: (_fd: number, groupFds: number[]) => {
      if (o.hotResetError !== undefined) throw errno(o.hotResetError);
      hotResets.push([...groupFds]);
    },
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
    iommufdIoasMap: (_fd: number, _ioas: number, _vaddr: number | bigint, length: number | bigint, iova: number | bigint) => {
      maps.push({ iova: BigInt(iova), size: BigInt(length) });
    },
    iommufdIoasUnmap: (_fd: number, _ioas: number, iova: number | bigint, length: number | bigint) => {
      const i = maps.findIndex((m) => m.iova === BigInt(iova));
      if (i >= 0) maps.splice(i, 1);
      return Number(length);
    },
  };
  return { addon: addon as unknown as NativeAddon, open, calls, irqSets, hotResets, maps, watchers, mapped, config };
}
