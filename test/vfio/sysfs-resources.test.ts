import t from 'tap';
import { formatSize, parseResources } from '../../lib/vfio/sysfs-resources.ts';

t.test('BARs, I/O ports, 64-bit prefetchable memory and the ROM are decoded', async (t) => {
  const text = [
    '0x00000000fe000000 0x00000000fe003fff 0x0000000000040200',
    '0x000000000000c000 0x000000000000c01f 0x0000000000040101',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
    '0x0000008000000000 0x00000080000fffff 0x000000000014220c',
    'garbage',
    '0x00000000feb80000 0x00000000febbffff 0x0000000000046200',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
  ].join('\n');
  t.same(parseResources(text), [
    { index: 0, kind: 'mem', start: 0xfe000000n, size: 0x4000n, is64: false, prefetchable: false },
    { index: 1, kind: 'io', start: 0xc000n, size: 0x20n, is64: false, prefetchable: false },
    { index: 4, kind: 'mem', start: 0x8000000000n, size: 0x100000n, is64: true, prefetchable: true },
    { index: 6, kind: 'rom', start: 0xfeb80000n, size: 0x40000n, is64: false, prefetchable: true },
  ]);
  t.same(parseResources(''), []);
});

t.test('sizes print in the largest exact unit', async (t) => {
  t.equal(formatSize(0x100000n), '1 MiB');
  t.equal(formatSize(0x4000n), '16 KiB');
  t.equal(formatSize(32n), '32 B');
  t.equal(formatSize(1536n), '1536 B');
});
