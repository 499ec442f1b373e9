/**
 * `allocHostMemory` backed by the addon: anonymous mmap'd memory (2 MiB huge pages on request),
 * page-aligned and mlock'd, with its virtual address for VFIO_IOMMU_MAP_DMA / IOMMU_IOAS_MAP.
 * Failures (RLIMIT_MEMLOCK, no huge pages) throw the addon's error: once the addon is loaded there is
 * no silent fallback to unlocked memory, which the VFIO backend could not map.
 */
import type { NativeHostMemory, HostMemoryAllocator } from '../pci/host-memory.ts';
import type { NativeAddon } from './addon-types.ts';

export function nativeHostMemoryAllocator(addon: NativeAddon): HostMemoryAllocator {
  return (size, options) => {
    const { buffer, vaddr, size: rounded } = addon.dmaAlloc(size, {
      hugepage: options?.hugepage === true,
      ...(options?.transparentHugepages === undefined ? {} : { transparentHugepages: options.transparentHugepages }),
    });
    let freed = false;
    const memory: NativeHostMemory = {
      bytes: new Uint8Array(buffer),
      size: rounded,
      native: true,
      vaddr,
      free() {
        if (freed) return; // idempotent: the buffer is detached after the first free
        freed = true;
        addon.dmaFree(buffer);
      },
    };
    return memory;
  };
}
