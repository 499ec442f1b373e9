/**
 * `PciDma` over the device's IOMMU domain (VFIO_IOMMU_MAP_DMA / IOMMU_IOAS_MAP): host memory from the
 * addon (anonymous mmap, mlock'd, page aligned) mapped at IOVAs from an `IovaAllocator` that keeps
 * inside the IOMMU's usable ranges and below the device's DMA mask. The device reaches nothing else:
 * a DMA to any other IOVA is blocked by the IOMMU (and logged by the host kernel as a DMAR fault).
 *
 * The default mask is 32 bits, as Linux gives every PCI device until its driver widens it
 * (dma_set_mask); drivers call `setMask` (edu: 28 bits, spec/edu.md D.5).
 *
 * Errors: RangeError for bad sizes / IOVAs / masks; DdkError 'EINVAL' (memory not from the addon),
 * 'EEXIST' / 'ERANGE' / 'ENOSPC' (IOVA), 'ERR_MEMLOCK' (locked-memory limit), 'ECLOSED'.
 */
import type { DmaBuffer, DmaMapOptions, DmaMapping, HostMemory, PciDma } from '../pci/device.ts';
import { isNativeHostMemory } from '../pci/host-memory.ts';
import type { NativeAddon } from '../native/addon-types.ts';
import { DdkError, errnoCode } from '../errors.ts';
import { IovaAllocator } from './iova-allocator.ts';
import type { VfioIommu } from './vfio-iommu.ts';
import type { DeviceGate } from './vfio-gate.ts';
import { memlockError } from './vfio-diagnostics.ts';

export const VFIO_DEFAULT_DMA_MASK = 0xffff_ffffn;

/** 2 MiB: the large page the IOMMU (VT-d, AMD-Vi) and hugetlb share. */
const LARGE_PAGE = 2 << 20;
const LARGE_PAGE_MASK = BigInt(LARGE_PAGE - 1);

/** `map` / `alloc` without options. */
const NO_PLACEMENT: DmaMapOptions & { size?: number } = Object.freeze({});

function checkMask(mask: bigint): void {
  if (typeof mask !== 'bigint' || mask < 0xfffn || mask > 0xffff_ffff_ffff_ffffn || (mask & (mask + 1n)) !== 0n) {
    throw new RangeError(`DMA mask must be a bigint 2^n − 1 with 12 ≤ n ≤ 64, got ${String(mask)}`);
  }
}

/** A live mapping, in IOMMU pages: its own bookkeeping and what the caller gets, one object. */
class Live implements DmaMapping {
  readonly size: number;
  readonly first: number;
  readonly pages: number;
  readonly #dma: VfioDma;
  /** The IOVA as a bigint, made when first read (a map + unmap that never reads it allocates none). */
  #iova: bigint | undefined;
  /** Its index in the owner's live list; −1 once unmapped. Private, so a caller cannot corrupt the list. */
  #slot = -1;

  static slotOf(live: Live): number {
    return live.#slot;
  }

  static setSlot(live: Live, slot: number): void {
    live.#slot = slot;
  }

  constructor(dma: VfioDma, size: number, first: number, pages: number) {
    this.#dma = dma;
    this.size = size;
    this.first = first;
    this.pages = pages;
  }

  get iova(): bigint {
    return (this.#iova ??= this.#dma.iovaOf(this.first));
  }

  /** Unmaps it (idempotent). A bound function, like every backend's, so `t.teardown(m.unmap)` works. */
  readonly unmap = (): void => {
    this.#dma.drop(this);
  };
}

/** A dma.alloc buffer: the mapping plus the host memory it frees. */
class LiveBuffer extends Live implements DmaBuffer {
  readonly bytes: Uint8Array;
  readonly #free: () => void;

  constructor(dma: VfioDma, size: number, first: number, pages: number, buffer: ArrayBuffer, free: () => void) {
    super(dma, size, first, pages);
    this.bytes = new Uint8Array(buffer);
    this.#free = free;
  }

  readonly free = (): void => {
    this.unmap();
  };

  /** @internal the host memory goes after the IOMMU mapping. */
  release(): void {
    this.#free();
  }
}

/** A byte address or length as the addon takes it: a number while exact, else a bigint. */
function u64(pages: number, page: number): number | bigint {
  const bytes = pages * page;
  return bytes <= Number.MAX_SAFE_INTEGER ? bytes : BigInt(pages) * BigInt(page);
}

export class VfioDma implements PciDma {
  readonly #addon: NativeAddon;
  readonly #iommu: VfioIommu;
  readonly #gate: DeviceGate;
  readonly #iovas: IovaAllocator;
  /** The IOMMU's mapping granule (at least 4 KiB), as a number and as a bigint. */
  readonly #page: number;
  readonly #pageBig: bigint;
  /** Live mappings, each at its `slot` (swap-remove: no hashing, no allocation per map). */
  readonly #live: Live[] = [];
  #mask: bigint;
  /** The last page at or below the mask: allocations end there. */
  #maskLastPage: number;

  constructor(addon: NativeAddon, iommu: VfioIommu, gate: DeviceGate, mask = VFIO_DEFAULT_DMA_MASK) {
    checkMask(mask);
    this.#addon = addon;
    this.#iommu = iommu;
    this.#gate = gate;
    this.#pageBig = iommu.pageSize > 4096n ? iommu.pageSize : 4096n;
    this.#page = Number(this.#pageBig);
    this.#iovas = new IovaAllocator(iommu.iovaRanges, this.#pageBig);
    this.#mask = mask;
    this.#maskLastPage = this.#iovas.lastPageBelow(mask);
  }

  get mask(): bigint {
    return this.#mask;
  }

  setMask(mask: bigint): void {
    this.#gate.check();
    checkMask(mask);
    this.#mask = mask;
    this.#maskLastPage = this.#iovas.lastPageBelow(mask);
  }

  /** The IOVA allocator (its ranges come from the IOMMU), for diagnostics and tests. */
  get iovaRanges(): readonly { start: bigint; end: bigint }[] {
    return this.#iovas.ranges;
  }

  /** Live mappings (alloc'd buffers included). */
  get mappings(): number {
    return this.#live.length;
  }

  alloc(size: number, options?: { hugepage?: boolean }): DmaBuffer {
    this.#gate.check();
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`dma.alloc: size must be a positive integer, got ${String(size)}`);
    let allocation;
    try {
      allocation = this.#addon.dmaAlloc(size, { hugepage: options?.hugepage === true });
    } catch (error) {
      const code = errnoCode(error);
      throw code === 'EPERM' || code === 'EAGAIN' || code === 'ENOMEM' ? memlockError(size, error) : error;
    }
    const { buffer, vaddr } = allocation;
    if (allocation.size % this.#page !== 0) {
      this.#addon.dmaFree(buffer);
      throw new RangeError(`dma.alloc: ${allocation.size} bytes are not a whole number of the IOMMU's ${this.#page}-byte pages`);
    }
    let first: number;
    const pages = allocation.size / this.#page;
    try {
      first = this.#mapPages(vaddr, pages, undefined, true, true, NO_PLACEMENT);
    } catch (error) {
      this.#addon.dmaFree(buffer);
      throw error;
    }
    const live = new LiveBuffer(this, allocation.size, first, pages, buffer, () => this.#addon.dmaFree(buffer));
    this.#track(live);
    return live;
  }

  map(memory: HostMemory, options: DmaMapOptions & { size?: number } = NO_PLACEMENT): DmaMapping {
    this.#gate.check();
    if (!isNativeHostMemory(memory)) {
      throw new DdkError('EINVAL', 'dma.map: memory is not native page-aligned memory; allocate it with allocHostMemory after the addon is loaded (or use dma.alloc)');
    }
    const size = options.size ?? memory.size;
    if (!Number.isSafeInteger(size) || size <= 0 || size > memory.bytes.length) {
      throw new RangeError(`dma.map: size must be in (0, ${memory.bytes.length}], got ${String(size)}`);
    }
    const pages = Math.ceil(size / this.#page);
    if (pages * this.#page > memory.bytes.length) {
      throw new RangeError(`dma.map: ${size} bytes round up to ${pages * this.#page}, more than the memory's ${memory.bytes.length}`);
    }
    const first = this.#mapPages(memory.vaddr, pages, options.iova, options.read ?? true, options.write ?? true, options);
    const live = new Live(this, pages * this.#page, first, pages);
    this.#track(live);
    return live;
  }

  /** @internal (Live.iova): the byte address of IOVA page `first`. */
  iovaOf(first: number): bigint {
    const bytes = first * this.#page;
    return bytes <= Number.MAX_SAFE_INTEGER ? BigInt(bytes) : BigInt(first) * this.#pageBig;
  }

  /** IOVA pages for the mapping (allocated, or the caller's `fixed` IOVA reserved), then the IOMMU map. */
  #mapPages(vaddr: bigint, pages: number, fixed: bigint | undefined, read: boolean, write: boolean, place: DmaMapOptions): number {
    let first: number;
    if (fixed === undefined) {
      const placed = place.minIova !== undefined || place.maxIova !== undefined || place.align !== undefined;
      first = placed ? this.#placed(pages, place) : this.#iovas.allocPages(pages, this.#maskLastPage, 0, this.#largePageAlign(vaddr, pages));
    } else {
      this.#iovas.reserve(fixed, BigInt(pages) * this.#pageBig, this.#mask);
      first = Number(fixed / this.#pageBig);
    }
    try {
      this.#iommu.map(vaddr, u64(first, this.#page), u64(pages, this.#page), read, write);
    } catch (error) {
      this.#iovas.releasePages(first, pages);
      const code = errnoCode(error);
      // type1 refuses to pin past RLIMIT_MEMLOCK with ENOMEM (vfio_pin_pages_remote).
      throw code === 'ENOMEM' ? memlockError(pages * this.#page, error) : error;
    }
    return first;
  }

  /**
   * Memory that starts on a 2 MiB boundary and spans at least 2 MiB (a hugetlb buffer, or THP-backed)
   * gets a 2 MiB-aligned IOVA, so the IOMMU can map it with 2 MiB pages where the physical memory is
   * contiguous, as the kernel's own DMA API aligns IOVAs to their size (drivers/iommu/dma-iommu.c
   * iommu_dma_alloc_iova: size-aligned allocations). Anything else: page alignment.
   */
  #largePageAlign(vaddr: bigint, pages: number): number {
    const large = LARGE_PAGE / this.#page;
    if (large <= 1 || pages < large || (vaddr & LARGE_PAGE_MASK) !== 0n) return 1;
    return large;
  }

  /** An allocator-chosen IOVA inside [minIova, maxIova] (maxIova lowered to the mask), `align`ed. */
  #placed(pages: number, place: DmaMapOptions): number {
    const { minIova = 0n, maxIova, align = 1n } = place;
    if (typeof minIova !== 'bigint' || minIova < 0n || (maxIova !== undefined && (typeof maxIova !== 'bigint' || maxIova < minIova))) {
      throw new RangeError(`dma.map: minIova/maxIova must be bigints with 0 ≤ minIova ≤ maxIova, got ${String(minIova)}/${String(maxIova)}`);
    }
    if (typeof align !== 'bigint' || align <= 0n || (align & (align - 1n)) !== 0n) {
      throw new RangeError(`IOVA alignment must be a power-of-two bigint, got ${String(align)}`);
    }
    const lastPage = maxIova !== undefined && maxIova < this.#mask ? this.#iovas.lastPageBelow(maxIova) : this.#maskLastPage;
    const minPage = Number((minIova + this.#pageBig - 1n) / this.#pageBig);
    const alignPages = align > this.#pageBig ? Number(align / this.#pageBig) : 1;
    return this.#iovas.allocPages(pages, lastPage, minPage, alignPages);
  }

  #track(live: Live): void {
    Live.setSlot(live, this.#live.length);
    this.#live.push(live);
  }

  /** False when `live` was already dropped. */
  #untrack(live: Live): boolean {
    const at = Live.slotOf(live);
    if (at < 0) return false;
    const last = this.#live.pop() as Live;
    if (last !== live) {
      this.#live[at] = last;
      Live.setSlot(last, at);
    }
    Live.setSlot(live, -1);
    return true;
  }

  /**
   * @internal (Live.unmap): unmaps (if the device is still open), releases the IOVA and the memory.
   * Idempotent.
   */
  drop(live: Live): void {
    if (!this.#untrack(live)) return;
    try {
      this.#iommu.unmap(u64(live.first, this.#page), u64(live.pages, this.#page));
    } finally {
      this.#iovas.releasePages(live.first, live.pages);
      if (live instanceof LiveBuffer) live.release();
    }
  }

  /** Device close: unmap and free everything (the IOMMU fd is closed after this). */
  closeAll(): void {
    for (const live of this.#live.slice()) {
      try {
        this.drop(live);
      } catch {
        /* closing the container drops the mappings anyway */
      }
    }
  }
}
