import t from 'tap';
import { createTestDevice, EmuIommu } from 'vfio-ddk/emu';
import { allocHostMemory } from '../../lib/pci/host-memory.ts';

t.test('alloc: page-aligned IOVA below the mask, size rounded to pages; free unmaps', async (t) => {
  const dev = createTestDevice({});
  const a = dev.dma.alloc(100);
  const b = dev.dma.alloc(5000);
  t.equal(a.iova % 4096n, 0n);
  t.equal(a.size, 4096);
  t.equal(b.bytes.length, 8192);
  t.ok(b.iova >= a.iova + 4096n, 'no overlap');
  t.equal(dev.dma.mappings, 2);
  a.free();
  a.free();
  t.equal(dev.dma.mappings, 1);
  dev.close();
  t.equal(dev.dma.mappings, 0, 'close unmaps everything');
  b.free();
});

t.test('setMask narrows where alloc places buffers; ENOSPC when nothing fits; bad masks are RangeErrors', async (t) => {
  const iommu = new EmuIommu(0xffff_ffffn);
  iommu.setMask(0x1f_ffffn);
  t.equal(iommu.mask, 0x1f_ffffn);
  const buf = iommu.alloc(0x10_0000);
  t.ok(buf.iova + BigInt(buf.size) - 1n <= 0x1f_ffffn);
  t.throws(() => iommu.alloc(4096), { name: 'DdkError', code: 'ENOSPC' });
  t.throws(() => iommu.setMask(0x1234n), RangeError);
  t.throws(() => iommu.setMask(0x7ffn), RangeError);
  t.throws(() => iommu.setMask(5 as unknown as bigint), RangeError);
  t.throws(() => iommu.alloc(0), RangeError);
  iommu.close();
});

t.test('map at a chosen IOVA; overlaps are EEXIST, misaligned IOVAs and sizes RangeError', async (t) => {
  const iommu = new EmuIommu(0xffff_ffff_ffff_ffffn);
  const memory = allocHostMemory(8192);
  const m = iommu.map(memory, { iova: 0x4000_0000n });
  t.equal(m.iova, 0x4000_0000n);
  t.equal(m.size, 8192);
  t.throws(() => iommu.map(memory, { iova: 0x4000_1000n }), { name: 'DdkError', code: 'EEXIST' });
  t.throws(() => iommu.map(memory, { iova: 0x123n }), RangeError);
  t.throws(() => iommu.map(memory, { size: 9000 }), RangeError);
  t.throws(() => iommu.map(memory, { iova: 1n << 48n }), RangeError);
  m.unmap();
  m.unmap();
  t.equal(iommu.mappings, 0);
  iommu.close();
  t.throws(() => iommu.map(memory), { name: 'DdkError', code: 'ECLOSED' });
});

t.test('device DMA: translated through mappings, spanning adjacent ones; unmapped / read-only pages fault and nothing moves', async (t) => {
  const iommu = new EmuIommu(0xffff_ffffn);
  const low = allocHostMemory(4096);
  const high = allocHostMemory(4096);
  iommu.map(low, { iova: 0x10000n });
  iommu.map(high, { iova: 0x11000n, write: false });
  high.bytes.fill(7);
  const into = new Uint8Array(16);
  t.ok(iommu.deviceRead(0x10ff8, into, 0, 16), 'read across two mappings');
  t.same([...into.subarray(8)], [7, 7, 7, 7, 7, 7, 7, 7]);
  t.notOk(iommu.deviceWrite(0x10ff8, new Uint8Array(16).fill(1), 0, 16), 'second page is read-only');
  t.equal(low.bytes[0xff8], 0, 'the allowed part was not written either');
  t.match(iommu.faults.at(-1), { iova: 0x11000n, direction: 'write', reason: /without write permission/ });
  t.notOk(iommu.deviceRead(0x20000, into, 0, 4));
  t.match(iommu.faults.at(-1), { iova: 0x20000n, direction: 'read', reason: 'unmapped IOVA' });
  t.equal(typeof iommu.faults.at(-1)?.timeNs, 'bigint');
  iommu.close();
});
