import t from 'tap';
import type { Test } from 'tap';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native, skip, thrown } from './helpers.ts';

// A regular file stands in for a device fd: pread/pwrite/mmap at "region offset + off" behave the same.
const REGION_OFFSET = 8192n;
const REGION_SIZE = 8192n;

function fakeRegion(t: Test): { fd: number; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-region-'));
  const path = join(dir, 'region');
  const bytes = new Uint8Array(Number(REGION_OFFSET + REGION_SIZE));
  for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r+');
  t.teardown(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  return { fd, path };
}

t.test('reads and writes use region offset + off at the exact width', { skip }, async (t) => {
  const a = native();
  const { fd, path } = fakeRegion(t);
  t.equal(a.regionRead(fd, REGION_OFFSET, REGION_SIZE, 0, 1), 0x00);
  t.equal(a.regionRead(fd, REGION_OFFSET, REGION_SIZE, 4, 2), 0x0504);
  t.equal(a.regionRead(fd, REGION_OFFSET, REGION_SIZE, 8, 4), 0x0b0a0908);
  t.equal(a.regionRead(fd, REGION_OFFSET, REGION_SIZE, 16, 8), 0x1716151413121110n);
  a.regionWrite(fd, REGION_OFFSET, REGION_SIZE, 32, 4, 0xdeadbeef);
  a.regionWrite(fd, REGION_OFFSET, REGION_SIZE, 40, 8, 0x0102030405060708n);
  a.regionWrite(fd, REGION_OFFSET, REGION_SIZE, 48, 2, 0xabcd);
  const file = readFileSync(path);
  const base = Number(REGION_OFFSET);
  t.equal(file.readUInt32LE(base + 32), 0xdeadbeef);
  t.equal(file.readBigUInt64LE(base + 40), 0x0102030405060708n);
  t.equal(file.readUInt16LE(base + 48), 0xabcd);
  t.equal(file[base + 50], 50 & 0xff, 'neighbouring byte untouched');
});

t.test('out-of-range, misaligned or odd-width accesses are RangeErrors', { skip }, async (t) => {
  const a = native();
  const { fd } = fakeRegion(t);
  const size = 0x100n;
  const cases: [string, () => unknown][] = [
    ['past the end', () => a.regionRead(fd, REGION_OFFSET, size, 0x100, 1)],
    ['straddles the end', () => a.regionRead(fd, REGION_OFFSET, size, 0xfc + 2, 4)],
    ['misaligned', () => a.regionRead(fd, REGION_OFFSET, size, 2, 4)],
    ['width 3', () => a.regionRead(fd, REGION_OFFSET, size, 0, 3 as never)],
    ['negative offset', () => a.regionRead(fd, REGION_OFFSET, size, -4, 4)],
    ['huge offset', () => a.regionRead(fd, REGION_OFFSET, size, 2n ** 64n - 4n, 4)],
    ['value too wide', () => a.regionWrite(fd, REGION_OFFSET, size, 0, 1, 0x100)],
    ['write past the end', () => a.regionWrite(fd, REGION_OFFSET, size, 0x100, 4, 0)],
  ];
  for (const [what, call] of cases) t.equal(thrown(call).name, 'RangeError', what);
  t.equal(thrown(() => a.regionRead(fd, REGION_OFFSET, size, '0' as never, 4)).name, 'TypeError');
});

t.test('mmapRegion maps the range; munmapRegion detaches the buffer', { skip }, async (t) => {
  const a = native();
  const { fd } = fakeRegion(t);
  const buffer = a.mmapRegion(fd, REGION_OFFSET, REGION_SIZE, 4096, 4096);
  const view = new Uint8Array(buffer);
  t.equal(view.length, 4096);
  t.equal(view[1], (Number(REGION_OFFSET) + 4096 + 1) & 0xff, 'maps region offset + off');
  view[2] = 0x5a;
  t.equal(a.regionRead(fd, REGION_OFFSET, REGION_SIZE, 4096 + 2, 1), 0x5a, 'MAP_SHARED: writes reach the file');
  a.munmapRegion(buffer);
  t.equal(buffer.byteLength, 0);
  t.equal(view.length, 0, 'views of an unmapped region are zero-length, not dangling');
  t.equal(thrown(() => a.munmapRegion(buffer)).code, 'ERR_NOT_MAPPED');
});

t.test('mmap ranges outside the region or not page-aligned are RangeErrors', { skip }, async (t) => {
  const a = native();
  const { fd } = fakeRegion(t);
  const cases: [string, () => unknown][] = [
    ['past the end', () => a.mmapRegion(fd, REGION_OFFSET, REGION_SIZE, 4096, 8192)],
    ['empty', () => a.mmapRegion(fd, REGION_OFFSET, REGION_SIZE, 0, 0)],
    ['unaligned offset', () => a.mmapRegion(fd, REGION_OFFSET, REGION_SIZE, 100, 4096)],
    ['unaligned size', () => a.mmapRegion(fd, REGION_OFFSET, REGION_SIZE, 0, 100)],
    ['offset beyond region', () => a.mmapRegion(fd, REGION_OFFSET, REGION_SIZE, 2n ** 63n, 4096)],
  ];
  for (const [what, call] of cases) t.equal(thrown(call).name, 'RangeError', what);
  const efd = a.eventfdCreate();
  t.teardown(() => a.close(efd));
  t.equal(thrown(() => a.mmapRegion(efd, 0n, 8192n, 0, 4096)).syscall, 'mmap', 'an unmappable fd is a system error');
});
