import t from 'tap';
import { readFileSync } from 'node:fs';
import { allocHostMemory, isNativeHostMemory } from '../../lib/pci/host-memory.ts';
import { native, skip, thrown } from './helpers.ts';

const PAGE = 4096;

t.test('dmaAlloc returns zeroed, page-aligned, page-rounded memory and its vaddr', { skip }, async (t) => {
  const a = native();
  const dma = a.dmaAlloc(5000);
  t.equal(dma.size, 2 * PAGE);
  t.equal(dma.buffer.byteLength, 2 * PAGE);
  t.equal(dma.hugepage, false);
  t.equal(dma.vaddr % BigInt(PAGE), 0n, 'vaddr page-aligned');
  const bytes = new Uint8Array(dma.buffer);
  t.ok(bytes.every((b) => b === 0), 'zero-filled');
  bytes[PAGE + 1] = 0xa5;
  t.equal(bytes[PAGE + 1], 0xa5);
  a.dmaFree(dma.buffer);
  t.equal(dma.buffer.byteLength, 0, 'detached, not dangling');
  t.equal(bytes.length, 0, 'existing views become zero-length');
  t.equal(bytes[PAGE + 1], undefined);
});

t.test('dmaFree rejects a second free and foreign buffers', { skip }, async (t) => {
  const a = native();
  const dma = a.dmaAlloc(PAGE);
  a.dmaFree(dma.buffer);
  t.equal(thrown(() => a.dmaFree(dma.buffer)).code, 'ERR_NOT_MAPPED');
  t.equal(thrown(() => a.dmaFree(new ArrayBuffer(PAGE))).code, 'ERR_NOT_MAPPED');
  t.equal(thrown(() => a.dmaFree(new Uint8Array(8) as never)).code, 'ERR_INVALID_ARG_TYPE');
  const region = thrown(() => a.munmapRegion(a.dmaAlloc(PAGE).buffer));
  t.equal(region.code, 'ERR_NOT_MAPPED', 'a DMA buffer is not a region mapping');
});

t.test('dmaAlloc validates the size', { skip }, async (t) => {
  const a = native();
  for (const size of [0, -1, 1.5, 2 ** 60, Number.NaN]) {
    t.equal(thrown(() => a.dmaAlloc(size)).name, 'RangeError', `size ${size}`);
  }
  t.equal(thrown(() => a.dmaAlloc('4096' as never)).name, 'TypeError');
  t.equal(thrown(() => a.dmaAlloc(PAGE, { hugepage: 'yes' as never })).name, 'TypeError');
});

t.test('a 2 MiB huge page buffer, or an error saying how to reserve huge pages', { skip }, async (t) => {
  const a = native();
  const reserved = Number(readFileSync('/proc/sys/vm/nr_hugepages', 'utf8').trim());
  const free = Number(/HugePages_Free:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? '0');
  if (reserved === 0 || free === 0) {
    const error = thrown(() => a.dmaAlloc(PAGE, { hugepage: true }));
    t.equal(error.code, 'ENOMEM');
    t.equal(error.syscall, 'mmap');
    t.match(error.message, /2 MiB huge pages.*nr_hugepages/);
  } else {
    const dma = a.dmaAlloc(PAGE, { hugepage: true });
    t.equal(dma.size, 2 * 1024 * 1024);
    t.equal(dma.vaddr % BigInt(2 * 1024 * 1024), 0n);
    a.dmaFree(dma.buffer);
  }
});

t.test('with the addon loaded, allocHostMemory returns native locked memory with a vaddr', { skip }, async (t) => {
  native(); // loading installs the native allocator
  const memory = allocHostMemory(100);
  t.equal(memory.native, true);
  t.equal(memory.size, PAGE);
  t.ok(isNativeHostMemory(memory));
  if (isNativeHostMemory(memory)) t.equal(memory.vaddr % BigInt(PAGE), 0n);
  memory.bytes[0] = 7;
  memory.free();
  t.equal(memory.bytes.length, 0, 'free detaches the bytes');
  memory.free(); // idempotent
  t.throws(() => allocHostMemory(0), RangeError);
});

/** The VmFlags line of the mapping at `vaddr` in /proc/self/smaps ("nh": MADV_NOHUGEPAGE, "hg": MADV_HUGEPAGE). */
function vmFlags(vaddr: bigint): string[] {
  const smaps = readFileSync('/proc/self/smaps', 'utf8').split('\n');
  const start = smaps.findIndex((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l) && BigInt(`0x${l.split('-')[0]}`) === vaddr);
  if (start < 0) return [];
  const flags = smaps.slice(start + 1).find((l) => l.startsWith('VmFlags:')) ?? '';
  return flags.replace('VmFlags:', '').trim().split(/\s+/);
}

t.test('dmaAlloc transparentHugepages: false refuses THP, true asks for it, unset leaves it to the system', { skip }, async (t) => {
  const a = native();
  const none = a.dmaAlloc(2 << 20, { transparentHugepages: false });
  const asked = a.dmaAlloc(2 << 20, { transparentHugepages: true });
  const plain = a.dmaAlloc(2 << 20);
  t.ok(vmFlags(none.vaddr).includes('nh'), 'MADV_NOHUGEPAGE on the mapping');
  t.ok(vmFlags(asked.vaddr).includes('hg'), 'MADV_HUGEPAGE on the mapping');
  const flags = vmFlags(plain.vaddr);
  t.notOk(flags.includes('nh') || flags.includes('hg'), 'no advice without the option');
  for (const d of [none, asked, plain]) a.dmaFree(d.buffer);
  t.throws(() => a.dmaAlloc(4096, { transparentHugepages: 'yes' as unknown as boolean }), TypeError);
});
