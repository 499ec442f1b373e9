/**
 * The IOMMU domain a `VfioDevice` maps DMA into, behind one interface with two implementations
 * (like libvfn's iommu ops): the legacy type1 container (spec/pci-vfio.md C.5 "Legacy (group) flow")
 * and an iommufd IOAS (C.5 "iommufd", Linux ≥ 6.6 with VFIO_DEVICE_CDEV). Both run on real devices
 * in the hardware suites: type1 on the Debian 6.1 guest, iommufd on the 6.12 guest kernel built by
 * scripts/guest/kernel-build.mjs (Debian's own kernels are built without IOMMUFD).
 */
import type { NativeAddon, U64 } from '../native/addon-types.ts';
import type { IovaRange } from './iova-allocator.ts';

export interface VfioIommu {
  readonly kind: 'type1' | 'iommufd';
  /** Usable IOVA ranges (inclusive ends); empty when the kernel reports no restriction. */
  readonly iovaRanges: readonly IovaRange[];
  /** Smallest IOMMU page size (mapping granularity). */
  readonly pageSize: bigint;
  /** Maps `size` bytes of this process at `vaddr` to `iova` (numbers or bigints). Throws the addon's error. */
  map(vaddr: U64, iova: U64, size: U64, read: boolean, write: boolean): void;
  unmap(iova: U64, size: U64): void;
  /** Closes the fds this domain owns (the container / the iommufd). Idempotent. */
  close(): void;
}

/** Lowest set bit of a page-size bitmap (VFIO_IOMMU_INFO_PGSIZES); 4 KiB when the kernel gives none. */
function smallestPage(bitmap: bigint): bigint {
  if (bitmap <= 0n) return 4096n;
  return bitmap & -bitmap;
}

export class Type1Iommu implements VfioIommu {
  readonly kind = 'type1' as const;
  readonly iovaRanges: readonly IovaRange[];
  readonly pageSize: bigint;
  readonly containerFd: number;
  readonly #addon: NativeAddon;
  #closed = false;

  /** `containerFd` must already have a group attached and VFIO_SET_IOMMU done. */
  constructor(addon: NativeAddon, containerFd: number) {
    this.#addon = addon;
    this.containerFd = containerFd;
    const info = addon.vfioIommuGetInfo(containerFd);
    this.iovaRanges = info.iovaRanges.map((r) => ({ start: r.start, end: r.end }));
    this.pageSize = smallestPage(info.iovaPgsizes);
  }

  map(vaddr: U64, iova: U64, size: U64, read: boolean, write: boolean): void {
    this.#addon.vfioIommuMapDma(this.containerFd, iova, vaddr, size, read, write);
  }

  unmap(iova: U64, size: U64): void {
    this.#addon.vfioIommuUnmapDma(this.containerFd, iova, size);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#addon.close(this.containerFd);
  }
}

export class IommufdIoas implements VfioIommu {
  readonly kind = 'iommufd' as const;
  readonly iovaRanges: readonly IovaRange[];
  readonly pageSize: bigint;
  readonly iommufd: number;
  readonly ioasId: number;
  readonly #addon: NativeAddon;
  #closed = false;

  /**
   * `ioasId` was allocated on `iommufd` and the device attached to it. The IOVA ranges are read
   * now, after the attach: attaching narrows them by the device's reserved regions (the MSI window),
   * include/uapi/linux/iommufd.h struct iommu_ioas_iova_ranges.
   */
  constructor(addon: NativeAddon, iommufd: number, ioasId: number) {
    this.#addon = addon;
    this.iommufd = iommufd;
    this.ioasId = ioasId;
    const r = addon.iommufdIoasIovaRanges(iommufd, ioasId);
    this.iovaRanges = r.ranges.map((x) => ({ start: x.start, end: x.last }));
    this.pageSize = r.alignment > 4096n ? r.alignment : 4096n;
  }

  map(vaddr: U64, iova: U64, size: U64, read: boolean, write: boolean): void {
    this.#addon.iommufdIoasMap(this.iommufd, this.ioasId, vaddr, size, iova, read, write);
  }

  unmap(iova: U64, size: U64): void {
    this.#addon.iommufdIoasUnmap(this.iommufd, this.ioasId, iova, size);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Closing the iommufd destroys the IOAS and every mapping in it.
    this.#addon.close(this.iommufd);
  }
}
