/**
 * The IOVA allocator behind `VfioDevice.dma`: inside the IOMMU's usable ranges (x86 excludes the MSI
 * window 0xfee00000–0xfeefffff), below the DMA mask, never at IOVA 0, no overlaps.
 */
import t from 'tap';
import { IovaAllocator } from '../../lib/vfio/iova-allocator.ts';

const PAGE = 0x1000n;
/** What QEMU's intel-iommu (39-bit, MSI window excluded) reports through type1's IOVA_RANGE cap. */
const X86_RANGES = [{ start: 0n, end: 0xfedfffffn }, { start: 0xfef00000n, end: (1n << 39n) - 1n }];

t.test('first fit from page 1, no overlaps, released ranges reused', async (t) => {
  const a = new IovaAllocator(X86_RANGES);
  t.equal(a.alloc(PAGE), 0x1000n, 'IOVA 0 is never handed out');
  t.equal(a.alloc(3n * PAGE), 0x2000n);
  t.equal(a.alloc(PAGE), 0x5000n);
  a.release(0x2000n, 3n * PAGE);
  t.equal(a.alloc(2n * PAGE), 0x2000n, 'the freed hole is reused');
  t.equal(a.alloc(2n * PAGE), 0x6000n, 'a hole too small is skipped');
  a.release(0x1234000n, PAGE);
  t.equal(a.used.length, 4, 'releasing an unknown range changes nothing');
  t.same(a.used.map((r) => r.start), [0x1000n, 0x2000n, 0x5000n, 0x6000n], 'kept sorted');
  a.release(0x1000n, PAGE);
  a.release(0x5000n, PAGE);
  t.same(a.used, [{ start: 0x2000n, end: 0x4000n }, { start: 0x6000n, end: 0x8000n }], 'released from the front and the middle');
});

t.test('the DMA mask bounds allocation: ENOSPC when nothing fits', async (t) => {
  const a = new IovaAllocator(X86_RANGES);
  const mask = 0x3fffn; // 16 KiB addressable
  t.equal(a.alloc(2n * PAGE, mask), 0x1000n);
  t.equal(a.alloc(PAGE, mask), 0x3000n);
  t.throws(() => a.alloc(PAGE, mask), { code: 'ENOSPC' });
  t.equal(a.alloc(PAGE), 0x4000n, 'a wider mask still finds room');
});

t.test('the excluded MSI window is never allocated', async (t) => {
  const a = new IovaAllocator(X86_RANGES);
  a.reserve(0x1000n, 0xfed00000n - 0x1000n);
  const next = a.alloc(0x200000n);
  t.equal(next, 0xfef00000n, 'an allocation that would cross 0xfee00000 moves above the window');
  t.throws(() => a.reserve(0xfee00000n, PAGE), { code: 'ERANGE' }, 'a fixed IOVA in the window is refused');
});

t.test('reserve: alignment, overlap, mask', async (t) => {
  const a = new IovaAllocator([]);
  a.reserve(0x10000n, 2n * PAGE);
  t.throws(() => a.reserve(0x11000n, PAGE), { code: 'EEXIST' });
  t.throws(() => a.reserve(0x20001n, PAGE), RangeError);
  t.throws(() => a.reserve(0x20000n, PAGE, 0xffffn), { code: 'ERANGE' });
  t.equal(a.alloc(PAGE), 0x1000n);
  t.throws(() => a.alloc(0n), RangeError);
  t.throws(() => a.alloc(100n), RangeError);
  t.throws(() => new IovaAllocator([{ start: 10n, end: 5n }]), RangeError);
  t.throws(() => new IovaAllocator([], 3000n), RangeError);
});
