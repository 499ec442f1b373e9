/**
 * Page-aligned host memory for DMA and VMOs. With the native addon loaded this is anonymous mmap'd,
 * locked memory (the VFIO backend can MAP_DMA it); without it, a plain ArrayBuffer (enough for the
 * emulated IOMMU). The native layer replaces the allocator through `setHostMemoryAllocator`.
 */
import type { HostMemory } from './device.ts';

export const PAGE_SIZE = 4096;

/**
 * What backs the memory (native allocator only): `hugepage` — 2 MiB hugetlb pages; otherwise 4 KiB
 * pages, which `transparentHugepages: false` keeps from being merged into transparent huge pages
 * (true asks for them; unset, the system's THP mode decides).
 */
export interface HostMemoryOptions {
  hugepage?: boolean;
  transparentHugepages?: boolean;
}

export type HostMemoryAllocator = (size: number, options?: HostMemoryOptions) => HostMemory;

/** Host memory from the native allocator: also carries its virtual address, which the VFIO backend
 *  passes to VFIO_IOMMU_MAP_DMA / IOMMU_IOAS_MAP. `free()` detaches `bytes` (it becomes zero-length). */
export interface NativeHostMemory extends HostMemory {
  readonly native: true;
  readonly vaddr: bigint;
}

export function isNativeHostMemory(memory: HostMemory): memory is NativeHostMemory {
  return memory.native && typeof (memory as Partial<NativeHostMemory>).vaddr === 'bigint';
}

function roundToPages(size: number): number {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`host memory size must be a positive integer, got ${String(size)}`);
  return Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
}

const plainAllocator: HostMemoryAllocator = (size) => {
  const bytes = new Uint8Array(roundToPages(size));
  return { bytes, size: bytes.length, native: false, free: () => {} };
};

let allocator: HostMemoryAllocator = plainAllocator;

export function setHostMemoryAllocator(next: HostMemoryAllocator | null): void {
  allocator = next ?? plainAllocator;
}

/** `size` rounded up to whole pages (2 MiB pages with `hugepage`, native allocator only), zero-filled.
 *  Throws RangeError for a bad size; with the addon loaded, its error (code 'ENOMEM'/'EPERM' naming
 *  RLIMIT_MEMLOCK, or the missing huge pages) when the memory cannot be mapped or locked. */
export function allocHostMemory(size: number, options?: HostMemoryOptions): HostMemory {
  roundToPages(size);
  return allocator(size, options);
}
