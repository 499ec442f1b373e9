/**
 * VfioRegion's accessors take a fast path (one test, then the typed-array load/store) for aligned integer
 * offsets inside the mapping that starts at offset 0 and below any trapped range, with a value that fits
 * the width. These tests hold the fast path to the checked path's answers: every offset and value the
 * checked path refuses is refused with the same error, a trapped or sparse range never reaches the
 * mapping, and nothing reaches the mapping once the device starts closing.
 */
import t from 'tap';
import type { NativeAddon, RegionInfo } from '../../lib/native/addon-types.ts';
import { VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE } from '../../lib/native/vfio-uapi.ts';
import { DeviceGate } from '../../lib/vfio/vfio-gate.ts';
import type { RegionTrap } from '../../lib/vfio/vfio-msix-shadow.ts';
import { VfioRegion } from '../../lib/vfio/vfio-region.ts';

const RW_MMAP = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP;

/** An addon whose mmap hands out plain ArrayBuffers and whose pread/pwrite are recorded. */
function mappingAddon() {
  const preads: number[] = [];
  const pwrites: { offset: number; width: number; value: unknown }[] = [];
  const buffers: ArrayBuffer[] = [];
  const addon = {
    mmapRegion: (_fd: number, _ro: bigint, _rs: bigint, _offset: bigint, size: bigint) => {
      const b = new ArrayBuffer(Number(size));
      buffers.push(b);
      return b;
    },
    munmapRegion: () => {},
    regionRead: (_fd: number, _ro: bigint, _rs: bigint, offset: number, width: number) => { preads.push(offset); return width === 8 ? 0x55n : 0x55; },
    regionWrite: (_fd: number, _ro: bigint, _rs: bigint, offset: number, width: number, value: unknown) => { pwrites.push({ offset, width, value }); },
  } as unknown as NativeAddon;
  return { addon, preads, pwrites, buffers };
}

function region(options: { size?: bigint; sparse?: { offset: bigint; size: bigint }[]; trap?: RegionTrap } = {}) {
  const m = mappingAddon();
  const gate = new DeviceGate('0000:00:01.0');
  const info: RegionInfo = { index: 0, flags: RW_MMAP, size: options.size ?? 0x4000n, offset: 0n, msixMappable: false, ...(options.sparse ? { sparseMmap: options.sparse } : {}) };
  return { ...m, gate, bar: new VfioRegion(m.addon, 3, info, gate, options.trap ?? null) };
}

function outcome(run: () => unknown): string {
  try {
    const v = run();
    return `ok ${String(v)}`;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

t.test('fast path loads and stores the mapping at each width', async (t) => {
  const { bar, buffers, preads, pwrites } = region();
  const u32 = new Uint32Array(buffers[0] as ArrayBuffer);
  bar.write32(0x10, 0xdeadbeef);
  t.equal(u32[4], 0xdeadbeef);
  t.equal(bar.read32(0x10), 0xdeadbeef);
  t.equal(bar.read16(0x12), 0xdead);
  t.equal(bar.read8(0x13), 0xde);
  bar.write16(0x20, -2);
  bar.write8(0x22, -1);
  t.equal(bar.read32(0x20), 0x00fffffe);
  bar.write32(0x30, -1);
  t.equal(bar.read32(0x30), 0xffffffff, 'a signed value is stored as its unsigned bits');
  bar.write64(0x40, -1n);
  t.equal(bar.read64(0x40), 0xffff_ffff_ffff_ffffn);
  t.equal(bar.read32(0x4000 - 4), 0, 'the last word is served');
  t.same(preads, [], 'nothing went through pread');
  t.same(pwrites, [], 'nothing went through pwrite');
});

t.test('every offset the checked path refuses is refused, with the same message', async (t) => {
  const { bar } = region();
  const badOffsets: unknown[] = [-4, 0x4000, 0x4000 - 2, 2, 1.5, NaN, '4', 2 ** 32, 2 ** 32 + 4, Infinity, null, 4n, { valueOf: () => 4 }];
  for (const offset of badOffsets) {
    for (const [name, run] of [
      ['read32', () => bar.read32(offset as number)], ['write32', () => bar.write32(offset as number, 1)],
      ['read16', () => bar.read16(offset as number)], ['write16', () => bar.write16(offset as number, 1)],
    ] as const) {
      const result = outcome(run);
      if (name.endsWith('16') && (offset === 2 || offset === 0x4000 - 2)) t.match(result, /^ok/, `${name}(${String(offset)}) is valid at 16 bits`);
      else t.match(result, /^RangeError: BAR0: /, `${name}(${String(offset)})`);
    }
  }
  t.match(outcome(() => bar.read8(0x4000)), /^RangeError: BAR0: access of 1 byte\(s\) at offset 16384 is outside \[0, 16384\)/);
  t.match(outcome(() => bar.read64(0x3ff4)), /^RangeError: BAR0: 8-byte access at offset 0x3ff4 is not 8-byte aligned/);
});

t.test('every value the shared rule refuses is refused, at each width', async (t) => {
  const { bar, buffers } = region();
  const u8 = new Uint8Array(buffers[0] as ArrayBuffer);
  const cases: [string, (v: number) => void, unknown[], number[]][] = [
    ['write8', (v) => bar.write8(0, v), [0x100, -0x81, 0.5, 'a', NaN, undefined], [0xff, -0x80, -1, 0]],
    ['write16', (v) => bar.write16(0, v), [0x1_0000, -0x8001, 1.5, '1', NaN], [0xffff, -0x8000, -1]],
    ['write32', (v) => bar.write32(0, v), [2 ** 32 + 5, 2 ** 32, -(2 ** 31) - 1, NaN, '7', 0.9, Infinity, null, 7n, {}], [0xffffffff, -(2 ** 31), -1, 0]],
  ];
  for (const [name, write, rejected, accepted] of cases) {
    for (const value of rejected) t.throws(() => write(value as number), RangeError, `${name}(${String(value)})`);
    t.equal(u8[0], 0, `${name}: nothing was stored for a refused value`);
    for (const value of accepted) t.doesNotThrow(() => write(value), `${name}(${value})`);
    u8.fill(0, 0, 4);
  }
});

t.test('a trapped range and what lies beyond it never take the fast path', async (t) => {
  const served: string[] = [];
  const trap: RegionTrap = {
    start: 0x2000,
    covers: (o, w) => o >= 0x2000 && o + w <= 0x2010,
    read: (o) => { served.push(`read ${o.toString(16)}`); return 0x77; },
    read64: () => 0x77n,
    write: (o, _w, v) => { served.push(`write ${o.toString(16)}=${v}`); },
    write64: () => {},
  };
  // The kernel's sparse areas: [0, 0x3000) and [0x3000, 0x4000), the trap inside the first.
  const { bar, preads } = region({ sparse: [{ offset: 0n, size: 0x3000n }, { offset: 0x3000n, size: 0x1000n }], trap });
  t.equal(bar.view, null, 'no whole-BAR view over a trapped range');
  bar.write32(0x1ffc, 5);
  t.equal(bar.read32(0x1ffc), 5, 'below the trap: the mapping');
  t.equal(bar.read32(0x2000), 0x77, 'the trap serves its range');
  bar.write32(0x2004, 9);
  bar.write32(0x3000, 3);
  t.equal(bar.read32(0x3000), 3, 'the second area still reads through its own mapping');
  t.same(served, ['read 2000', 'write 2004=9']);
  t.same(preads, []);
});

t.test('a BAR without mmap goes through pread/pwrite with the same checks', async (t) => {
  const m = mappingAddon();
  const gate = new DeviceGate('0000:00:01.0');
  const bar = new VfioRegion(m.addon, 3, { index: 2, flags: VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, size: 0x100n, offset: 2n << 40n, msixMappable: false }, gate);
  t.equal(bar.read32(4), 0x55);
  bar.write16(6, -1);
  t.same(m.pwrites, [{ offset: 6, width: 2, value: 0xffff }]);
  t.throws(() => bar.write32(8, 2 ** 32), { name: 'RangeError', message: /BAR2 write32: value must be/ });
  t.throws(() => bar.read32(0x100), { name: 'RangeError', message: /^BAR2: / });
});

t.test('once the device starts closing, no access reaches the mapping', async (t) => {
  const { bar, gate, buffers } = region();
  const u32 = new Uint32Array(buffers[0] as ArrayBuffer);
  gate.closed = true;
  bar.invalidate();
  t.throws(() => bar.read32(0), { code: 'ECLOSED' });
  t.throws(() => bar.write32(0, 1), { code: 'ECLOSED' });
  t.throws(() => bar.read8(0), { code: 'ECLOSED' });
  t.throws(() => bar.write64(0, 1n), { code: 'ECLOSED' });
  t.equal(u32[0], 0, 'the store never happened');
});
