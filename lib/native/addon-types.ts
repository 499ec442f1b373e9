/**
 * The native addon's interface (native/*.cc), exactly as it is exported. Thin and policy-free: every
 * function is one syscall or ioctl with validated arguments. fds are plain numbers owned by the caller
 * (close them with `close`). Every failure throws: system errors are `NativeSystemError`s (code
 * 'ENOENT', 'EBUSY'…, errno, syscall, and the path / bdf / fd involved); bad arguments throw a
 * TypeError (code 'ERR_INVALID_ARG_TYPE') or RangeError (code 'ERR_OUT_OF_RANGE'); a malformed BDF
 * throws code 'ERR_BAD_BDF' before any filesystem access.
 */

/** Shape of a system error thrown by the addon. `errno` is the positive Linux value. */
export interface NativeSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  readonly bdf?: string;
  readonly fd?: number;
}

import type { HostMemoryOptions } from '../pci/host-memory.ts';

/** A u64 argument: a non-negative safe integer or a bigint. */
export type U64 = number | bigint;

/** `count` (coalesced fires) saturates at Number.MAX_SAFE_INTEGER: never rounded. */
export type WatcherCallback = (count: number, bootNs: bigint, monoNs: bigint) => void;

/**
 * The interrupt path's form: the count alone; the timestamps of the read (and the count) are in the
 * wake record given to the watcher (native/wake_record.h, lib/irq/stamps.ts) — nothing is allocated.
 */
export type RecordWatcherCallback = (count: number) => void;

/** One uv_poll on an eventfd, on the creating thread's loop. Close it before closing the fd. */
export interface NativeEventfdWatcher {
  readonly fd: number;
  readonly closed: boolean;
  /** Whether it keeps the event loop (and the JS object) alive. */
  readonly hasRef: boolean;
  ref(): this;
  unref(): this;
  close(): void;
}

export interface IommuInfo {
  flags: number;
  iovaPgsizes: bigint;
  /** From the IOVA_RANGE capability; inclusive `end`. Empty when the kernel reports none. */
  iovaRanges: { start: bigint; end: bigint }[];
  dmaAvail?: number;
}

export interface GroupStatus {
  flags: number;
  viable: boolean;
  containerSet: boolean;
}

export interface DeviceInfo {
  flags: number;
  numRegions: number;
  numIrqs: number;
}

export interface RegionInfo {
  index: number;
  flags: number;
  size: bigint;
  /** File offset of the region on the device fd (use it; index << 40 is not ABI). */
  offset: bigint;
  sparseMmap?: { offset: bigint; size: bigint }[];
  type?: { type: number; subtype: number };
  msixMappable: boolean;
}

export interface IrqInfo {
  index: number;
  flags: number;
  count: number;
}

export interface IrqSet {
  index: number;
  /** One VFIO_IRQ_SET_DATA_* | one VFIO_IRQ_SET_ACTION_* (lib/native/vfio-uapi.ts). */
  flags: number;
  start?: number;
  count: number;
  /** DATA_EVENTFD: one fd per vector, −1 = unassign. */
  fds?: number[];
  /** DATA_BOOL: one per vector. */
  bools?: boolean[];
}

/**
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: every function a slot/bus reset of this device reaches. `groupId`
 * is the IOMMU group (type1 flow), or with VFIO_PCI_HOT_RESET_FLAG_DEV_ID (cdev flow, Linux ≥ 6.6) the
 * devid as a u32: VFIO_PCI_DEVID_OWNED 0, VFIO_PCI_DEVID_NOT_OWNED 0xffffffff (-1 in the kernel's __s32).
 */
export interface HotResetInfo {
  flags: number;
  devices: { groupId: number; segment: number; bus: number; devfn: number; bdf: string }[];
}

export interface DmaAllocation {
  buffer: ArrayBuffer;
  vaddr: bigint;
  /** Rounded up to whole (huge) pages. */
  size: number;
  hugepage: boolean;
}

export interface NativeAddon {
  /**
   * Largest DMA buffer or region mapping, in bytes (4 GiB: Node 20's largest external ArrayBuffer,
   * buffer.constants.MAX_LENGTH). dmaAlloc / mmapRegion refuse more with a RangeError before mapping.
   */
  readonly MAX_MAPPING_SIZE: number;

  clockBootNs(): bigint;
  clockMonoNs(): bigint;
  /** CLOCK_BOOTTIME and CLOCK_MONOTONIC now into a wake record's boot/mono slots (no allocation). */
  clockStamps(record: Int32Array): void;

  eventfdCreate(initial?: number, options?: { nonblock?: boolean; semaphore?: boolean }): number;
  /**
   * Counter value read, or 0 when nothing is pending (never blocks). A value above
   * Number.MAX_SAFE_INTEGER throws RangeError 'ERR_OUT_OF_RANGE' whose `value` is the exact (consumed)
   * count as a bigint; pass `{ bigint: true }` to always get a bigint.
   */
  eventfdRead(fd: number): number;
  eventfdRead(fd: number, options: { bigint: true }): bigint;
  eventfdRead(fd: number, options?: { bigint?: boolean }): number | bigint;
  eventfdWrite(fd: number, value?: U64): void;
  close(fd: number): void;
  /**
   * Blocks the calling thread until one of fds[0…count-1] is readable (reads it: the wake record gets
   * the count and the boot/mono ns of the read; returns its index), CLOCK_MONOTONIC reaches deadlineNs
   * (-1; 2^63-1 = never) or wakeFd fires (-2). native/blocking_wait.cc.
   */
  eventfdWaitAny(fds: Int32Array, count: number, deadlineNs: bigint, wakeFd: number, record: Int32Array): number;
  EventfdWatcher: {
    new (fd: number, callback: WatcherCallback): NativeEventfdWatcher;
    new (fd: number, callback: RecordWatcherCallback, record: Int32Array): NativeEventfdWatcher;
  };

  vfioOpenContainer(path?: string): number;
  vfioGetApiVersion(containerFd: number): number;
  vfioCheckExtension(containerFd: number, extension: number): number;
  vfioSetIommu(containerFd: number, type?: number): void;
  vfioIommuGetInfo(containerFd: number): IommuInfo;
  /** Positional (no object to read on the DMA path); read and write default to true. */
  vfioIommuMapDma(containerFd: number, iova: U64, vaddr: U64, size: U64, read?: boolean, write?: boolean): void;
  /** Returns the number of bytes unmapped. */
  vfioIommuUnmapDma(containerFd: number, iova: U64, size: U64): number;

  vfioOpenGroup(group: number, dir?: string): number;
  vfioGroupGetStatus(groupFd: number): GroupStatus;
  vfioGroupSetContainer(groupFd: number, containerFd: number): void;
  vfioGroupUnsetContainer(groupFd: number): void;
  vfioGroupGetDeviceFd(groupFd: number, bdf: string): number;

  vfioDeviceGetInfo(deviceFd: number): DeviceInfo;
  vfioDeviceGetRegionInfo(deviceFd: number, index: number): RegionInfo;
  vfioDeviceGetIrqInfo(deviceFd: number, index: number): IrqInfo;
  vfioDeviceSetIrqs(deviceFd: number, set: IrqSet): void;
  vfioDeviceReset(deviceFd: number): void;
  vfioDeviceGetPciHotResetInfo(deviceFd: number): HotResetInfo;
  /**
   * VFIO_DEVICE_PCI_HOT_RESET: a slot or secondary-bus reset of every function in the device's reset
   * set. `groupFds`: one open VFIO group fd per affected group (type1); `[]` for a cdev-opened device,
   * whose iommufd must own every affected device. At most 256 entries, read once (RangeError when the
   * array changes length while read). ENODEV: no slot/bus reset; EINVAL: ownership not proven.
   */
  vfioDevicePciHotReset(deviceFd: number, groupFds: number[]): void;

  iommufdOpen(path?: string): number;
  iommufdIoasAlloc(iommufd: number): number;
  iommufdDestroy(iommufd: number, id: number): void;
  /**
   * Maps at `iova` (IOMMU_IOAS_MAP_FIXED_IOVA: returns undefined), or where the kernel picks when `iova`
   * is undefined (returns that IOVA). Positional; read and write default to true.
   */
  iommufdIoasMap(iommufd: number, ioasId: number, vaddr: U64, length: U64, iova?: U64, read?: boolean, write?: boolean): bigint | undefined;
  /** Returns the number of bytes unmapped. */
  iommufdIoasUnmap(iommufd: number, ioasId: number, iova: U64, length: U64): number;
  iommufdIoasIovaRanges(iommufd: number, ioasId: number): { alignment: bigint; ranges: { start: bigint; last: bigint }[] };
  /** `n` → /dev/vfio/devices/vfio<n>; a string is the path itself. */
  vfioCdevOpen(cdev: number | string): number;
  vfioDeviceBindIommufd(deviceFd: number, iommufd: number): number;
  vfioDeviceAttachIommufdPt(deviceFd: number, ptId: number): number;
  vfioDeviceDetachIommufdPt(deviceFd: number): void;

  /**
   * Exact-width pread at regionOffset + offset; width 8 returns a bigint. mmapRegion maps only VFIO
   * device fds (anon inode "[vfio-device]" or a /dev/vfio/devices character device) and, as a stand-in,
   * regular files within their size; any other fd is Error 'ENODEV' (syscall 'mmap').
   */
  regionRead(fd: number, regionOffset: U64, regionSize: U64, offset: U64, width: 1 | 2 | 4 | 8): number | bigint;
  regionWrite(fd: number, regionOffset: U64, regionSize: U64, offset: U64, width: 1 | 2 | 4 | 8, value: U64): void;
  mmapRegion(fd: number, regionOffset: U64, regionSize: U64, offset: U64, size: U64): ArrayBuffer;
  /** Detaches the ArrayBuffer (views become zero-length) and unmaps it. */
  munmapRegion(buffer: ArrayBuffer): void;

  /**
   * `hugepage`: 2 MiB hugetlb pages. `transparentHugepages` (4 KiB pages): false = never a transparent
   * huge page (MADV_NOHUGEPAGE), true = MADV_HUGEPAGE, absent = the system's THP mode decides.
   */
  dmaAlloc(size: number, options?: HostMemoryOptions): DmaAllocation;
  dmaFree(buffer: ArrayBuffer): void;

  ioctlNumbers(): Record<string, number>;
  structSizes(): Record<string, number>;
}
