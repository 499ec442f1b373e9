/**
 * The IOVA placement options ddi_dma_addr_bind_handle relies on (DmaMapOptions minIova / maxIova /
 * align, lib/pci/device.ts), on both backends' allocators: the emulated IOMMU's `map` and the VFIO
 * backend's IovaAllocator (which VfioDma.map passes them to).
 */
import t from 'tap';
import { EmuIommu } from 'vfio-ddk/emu';
import { allocHostMemory } from '../../lib/pci/host-memory.ts';
import { IovaAllocator } from '../../lib/vfio/iova-allocator.ts';

const PAGE = 0x1000n;

t.test('EmuIommu.map: minIova, maxIova and align place the IOVA; ENOSPC when nothing fits', async (t) => {
  const iommu = new EmuIommu((1n << 32n) - 1n);
  t.teardown(() => iommu.close());
  const mem = allocHostMemory(0x2000);
  const a = iommu.map(mem, { minIova: 0x30_0000n, align: 0x10_0000n });
  t.equal(a.iova, 0x30_0000n, 'at minIova, aligned');
  const b = iommu.map(mem, { minIova: 0x30_0000n, align: 0x10_0000n });
  t.equal(b.iova, 0x40_0000n, 'next aligned hole');
  const c = iommu.map(mem, { maxIova: 0x10_1fffn });
  t.equal(c.iova, 0x10_0000n, 'first fit below maxIova');
  t.throws(() => iommu.map(mem, { maxIova: 0x10_1fffn }), { code: 'ENOSPC' }, 'nothing left below maxIova');
  t.throws(() => iommu.map(mem, { align: 3n }), RangeError);
  t.throws(() => iommu.map(mem, { minIova: 5n, maxIova: 4n }), RangeError);
  const d = iommu.map(mem, {});
  t.equal(d.iova, 0x10_2000n, 'without options: as before');
});

t.test('IovaAllocator.alloc: min and align on the VFIO backend', async (t) => {
  const a = new IovaAllocator([{ start: 0n, end: (1n << 39n) - 1n }]);
  t.equal(a.alloc(PAGE, undefined, 0x5000n), 0x5000n, 'at min');
  t.equal(a.alloc(PAGE, undefined, 0n, 0x10000n), 0x10000n, 'aligned to 64 KiB');
  t.equal(a.alloc(PAGE), 0x1000n, 'defaults unchanged (page 1 first)');
  t.equal(a.alloc(PAGE, undefined, 0n, 0x10000n), 0x20000n, 'next 64 KiB slot');
  t.throws(() => a.alloc(PAGE, 0x3fffn, 0x3000n, 0x2000n), { code: 'ENOSPC' }, 'aligned slot beyond the limit');
  t.throws(() => a.alloc(PAGE, undefined, 0n, 0x3000n), RangeError, 'alignment not a power of two');
});
