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
import { DdkError } from '../errors.ts';
import { IovaAllocator } from './iova-allocator.ts';
import type { VfioIommu } from './vfio-iommu.ts';
import type { DeviceGate } from './vfio-gate.ts';
import { errnoCode, memlockError } from './vfio-diagnostics.ts';

export const VFIO_DEFAULT_DMA_MASK = 0xffff_ffffn;

function checkMask(mask: bigint): void {
  if (typeof mask !== 'bigint' || mask < 0xfffn || mask > 0xffff_ffff_ffff_ffffn || (mask & (mask + 1n)) !== 0n) {
    throw new RangeError(`DMA mask must be a bigint 2^n − 1 with 12 ≤ n ≤ 64, got ${String(mask)}`);
  }
}

interface Live {
  readonly iova: bigint;
  readonly length: bigint;
  /** Frees the host memory too (alloc) or not (map). */
  release(): void;
}

export class VfioDma implements PciDma {
  readonly #addon: NativeAddon;
  readonly #iommu: VfioIommu;
  readonly #gate: DeviceGate;
  readonly #iovas: IovaAllocator;
  readonly #live = new Set<Live>();
  #mask: bigint;

  constructor(addon: NativeAddon, iommu: VfioIommu, gate: DeviceGate, mask = VFIO_DEFAULT_DMA_MASK) {
    checkMask(mask);
    this.#addon = addon;
    this.#iommu = iommu;
    this.#gate = gate;
    this.#mask = mask;
    this.#iovas = new IovaAllocator(iommu.iovaRanges, iommu.pageSize > 4096n ? iommu.pageSize : 4096n);
  }

  get mask(): bigint {
    return this.#mask;
  }

  setMask(mask: bigint): void {
    this.#gate.check();
    checkMask(mask);
    this.#mask = mask;
  }

  /** The IOVA allocator (its ranges come from the IOMMU), for diagnostics and tests. */
  get iovaRanges(): readonly { start: bigint; end: bigint }[] {
    return this.#iovas.ranges;
  }

  /** Live mappings (alloc'd buffers included). */
  get mappings(): number {
    return this.#live.size;
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
    const length = BigInt(allocation.size);
    let iova: bigint;
    try {
      iova = this.#mapAt(vaddr, length, undefined, true, true);
    } catch (error) {
      this.#addon.dmaFree(buffer);
      throw error;
    }
    const bytes = new Uint8Array(buffer);
    const live: Live = {
      iova,
      length,
      release: () => this.#addon.dmaFree(buffer),
    };
    this.#live.add(live);
    return { iova, size: allocation.size, bytes, free: () => this.#drop(live) };
  }

  map(memory: HostMemory, options: DmaMapOptions & { size?: number } = {}): DmaMapping {
    this.#gate.check();
    if (!isNativeHostMemory(memory)) {
      throw new DdkError('EINVAL', 'dma.map: memory is not native page-aligned memory; allocate it with allocHostMemory after the addon is loaded (or use dma.alloc)');
    }
    const size = options.size ?? memory.size;
    if (!Number.isSafeInteger(size) || size <= 0 || size > memory.bytes.length) {
      throw new RangeError(`dma.map: size must be in (0, ${memory.bytes.length}], got ${String(size)}`);
    }
    const page = Number(this.#iommu.pageSize > 4096n ? this.#iommu.pageSize : 4096n);
    const length = BigInt(Math.ceil(size / page) * page);
    if (length > BigInt(memory.bytes.length)) throw new RangeError(`dma.map: ${size} bytes round up to ${length}, more than the memory's ${memory.bytes.length}`);
    const iova = this.#mapAt(memory.vaddr, length, options.iova, options.read ?? true, options.write ?? true, options);
    const live: Live = { iova, length, release: () => {} };
    this.#live.add(live);
    return { iova, size: Number(length), unmap: () => this.#drop(live) };
  }

  #mapAt(vaddr: bigint, length: bigint, fixed: bigint | undefined, read: boolean, write: boolean, place: DmaMapOptions = {}): bigint {
    let iova: bigint;
    if (fixed === undefined) {
      const { minIova = 0n, maxIova, align = 1n } = place;
      if (typeof minIova !== 'bigint' || minIova < 0n || (maxIova !== undefined && (typeof maxIova !== 'bigint' || maxIova < minIova))) {
        throw new RangeError(`dma.map: minIova/maxIova must be bigints with 0 ≤ minIova ≤ maxIova, got ${String(minIova)}/${String(maxIova)}`);
      }
      const limit = maxIova !== undefined && maxIova < this.#mask ? maxIova : this.#mask;
      iova = this.#iovas.alloc(length, limit, minIova, align);
    }
    else {
      this.#iovas.reserve(fixed, length, this.#mask);
      iova = fixed;
    }
    try {
      this.#iommu.map(vaddr, iova, length, read, write);
    } catch (error) {
      this.#iovas.release(iova, length);
      const code = errnoCode(error);
      // type1 refuses to pin past RLIMIT_MEMLOCK with ENOMEM (vfio_pin_pages_remote).
      throw code === 'ENOMEM' ? memlockError(length, error) : error;
    }
    return iova;
  }

  /** Unmaps (if the device is still open), releases the IOVA and the memory. Idempotent. */
  #drop(live: Live): void {
    if (!this.#live.delete(live)) return;
    try {
      this.#iommu.unmap(live.iova, live.length);
    } finally {
      this.#iovas.release(live.iova, live.length);
      live.release();
    }
  }

  /** Device close: unmap and free everything (the IOMMU fd is closed after this). */
  closeAll(): void {
    for (const live of [...this.#live]) {
      try {
        this.#drop(live);
      } catch {
        /* closing the container drops the mappings anyway */
      }
    }
  }
}
