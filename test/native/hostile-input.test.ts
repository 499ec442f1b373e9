/**
 * The addon under hostile input (issue 15, rows 1–5): sizes past what Node can hand out, arrays and
 * option objects whose getters mutate or throw, fds that are not VFIO device fds, counters past 2^53.
 * Each crash repro runs in a child process, so an abort fails the test instead of killing tap.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativePath } from '../../lib/native/loader.ts';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD } from '../../lib/native/vfio-uapi.ts';
import { native, skip, thrown } from './helpers.ts';

const GiB = 2 ** 30;

/**
 * Runs `body` (plain JS, `a` is the addon) in a child; it returns a value that is printed as JSON.
 * Thrown errors are reported as { name, code, message } so the parent can check them.
 */
function inChild(body: string): { status: number | null; signal: NodeJS.Signals | null; stderr: string; result: unknown } {
  const script = `
    const a = require(process.argv[1]);
    const describe = (e) => ({ name: e && e.name, code: e && e.code, message: String(e && e.message), value: e && typeof e.value === 'bigint' ? String(e.value) : undefined });
    const attempt = (fn) => { try { return { returned: fn() }; } catch (e) { return { threw: describe(e) }; } };
    const out = (() => { ${body} })();
    process.stdout.write(JSON.stringify(out, (k, v) => typeof v === 'bigint' ? String(v) : v));
  `;
  const child = spawnSync(process.execPath, ['-e', script, String(nativePath())], { encoding: 'utf8', timeout: 60_000 });
  let result: unknown = null;
  try { result = JSON.parse(child.stdout); } catch { result = null; }
  return { status: child.status, signal: child.signal, stderr: child.stderr, result };
}

t.test('row 1: a DMA buffer over the 4 GiB limit is a RangeError before anything is allocated', { skip }, async (t) => {
  t.equal(native().MAX_MAPPING_SIZE, 4 * GiB, 'the limit is exported');
  const r = inChild(`
    const before = require('node:fs').readFileSync('/proc/self/status', 'utf8').match(/VmLck:\\s+(\\d+)/)[1];
    const res = attempt(() => a.dmaAlloc(2 ** 32 + 4096));
    const after = require('node:fs').readFileSync('/proc/self/status', 'utf8').match(/VmLck:\\s+(\\d+)/)[1];
    const huge = attempt(() => a.dmaAlloc(2 ** 32 + 1, { hugepage: true }));
    return { res, lockedKb: Number(after) - Number(before), huge };
  `);
  t.equal(r.status, 0, `child exited cleanly (signal ${String(r.signal)}): ${r.stderr}`);
  t.match(r.result, {
    res: { threw: { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /4294967296/ } },
    lockedKb: 0,
    huge: { threw: { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' } },
  });
});

t.test('row 1: mmapRegion over the 4 GiB limit is a RangeError, not a double free', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-big-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sparse');
  writeFileSync(path, '');
  const fd = openSync(path, 'r+');
  // Sparse: costs no disk; the range is inside the file, so only the size limit can refuse it.
  const { ftruncateSync } = await import('node:fs');
  ftruncateSync(fd, 2 ** 32 + 8192);
  closeSync(fd);
  const r = inChild(`
    const fd = require('node:fs').openSync(${JSON.stringify(path)}, 'r+');
    return attempt(() => a.mmapRegion(fd, 0n, BigInt(2 ** 32 + 8192), 0, 2 ** 32 + 4096));
  `);
  t.equal(r.status, 0, `child exited cleanly (signal ${String(r.signal)}): ${r.stderr}`);
  t.match(r.result, { threw: { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /4294967296/ } });
});

const EVENTFD_TRIGGER = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
const BOOL_TRIGGER = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;

t.test('row 2: an fds/bools array that grows or shrinks while read is a RangeError', { skip }, async (t) => {
  const r = inChild(`
    const fd = a.eventfdCreate(0, { nonblock: true });
    const mutating = (first, mutate) => {
      const arr = [first, first];
      Object.defineProperty(arr, 0, { get() { mutate(arr); return first; }, enumerable: true, configurable: true });
      return arr;
    };
    const grow = (arr) => { for (let i = 0; i < 100000; i++) arr.push(arr[1]); };
    const shrink = (arr) => { arr.length = 1; };
    return {
      fdsGrow: attempt(() => a.vfioDeviceSetIrqs(fd, { index: 0, flags: ${EVENTFD_TRIGGER}, count: 2, fds: mutating(-1, grow) })),
      fdsShrink: attempt(() => a.vfioDeviceSetIrqs(fd, { index: 0, flags: ${EVENTFD_TRIGGER}, count: 2, fds: mutating(-1, shrink) })),
      boolsGrow: attempt(() => a.vfioDeviceSetIrqs(fd, { index: 0, flags: ${BOOL_TRIGGER}, count: 2, bools: mutating(true, grow) })),
      boolsShrink: attempt(() => a.vfioDeviceSetIrqs(fd, { index: 0, flags: ${BOOL_TRIGGER}, count: 2, bools: mutating(true, shrink) })),
    };
  `);
  t.equal(r.status, 0, `child exited cleanly (signal ${String(r.signal)}): ${r.stderr}`);
  const changed = { threw: { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /changed length/ } };
  t.match(r.result, { fdsGrow: changed, fdsShrink: changed, boolsGrow: changed, boolsShrink: changed });
});

t.test('row 3: a throwing getter in an option object propagates its own exception', { skip }, async (t) => {
  const r = inChild(`
    const fd = a.eventfdCreate(0, { nonblock: true });
    const boom = (key, base) => Object.defineProperty({ ...base }, key, { get() { throw new Error('boom:' + key); }, enumerable: true });
    const trap = new Proxy({}, { get(_, key) { throw new Error('boom:proxy'); } });
    const cases = {
      irqIndex: () => a.vfioDeviceSetIrqs(fd, boom('index', {})),
      irqStart: () => a.vfioDeviceSetIrqs(fd, boom('start', { index: 0, flags: ${EVENTFD_TRIGGER} })),
      irqCount: () => a.vfioDeviceSetIrqs(fd, boom('count', { index: 0, flags: ${EVENTFD_TRIGGER} })),
      irqFds: () => a.vfioDeviceSetIrqs(fd, boom('fds', { index: 0, flags: ${EVENTFD_TRIGGER}, count: 1 })),
      irqElement: () => a.vfioDeviceSetIrqs(fd, { index: 0, flags: ${EVENTFD_TRIGGER}, count: 1, fds: Object.defineProperty([0], 0, { get() { throw new Error('boom:0'); } }) }),
      irqProxy: () => a.vfioDeviceSetIrqs(fd, trap),
      eventfdOptions: () => a.eventfdCreate(0, boom('nonblock', {})),
      dmaOptions: () => a.dmaAlloc(4096, boom('hugepage', {})),
    };
    const out = {};
    for (const [name, fn] of Object.entries(cases)) out[name] = attempt(fn);
    return out;
  `);
  t.equal(r.status, 0, `child exited cleanly (signal ${String(r.signal)}): ${r.stderr}`);
  const res = r.result as Record<string, { threw?: { message: string } }>;
  for (const [name, outcome] of Object.entries(res ?? {})) {
    t.match(outcome, { threw: { message: /^boom:/ } }, `${name}: the getter's error, not a new one`);
  }
  t.equal(Object.keys(res ?? {}).length, 8, 'every case ran');
});

t.test('row 3: the DMA map calls take positional numbers or bigints and never coerce an object', { skip }, async (t) => {
  const r = inChild(`
    const fd = a.eventfdCreate(0, { nonblock: true });
    const evil = { valueOf() { throw new Error('boom:valueOf'); }, [Symbol.toPrimitive]() { throw new Error('boom:prim'); } };
    const cases = {
      mapIova: () => a.vfioIommuMapDma(fd, evil, 0, 4096),
      mapVaddr: () => a.vfioIommuMapDma(fd, 0, evil, 4096),
      mapSize: () => a.vfioIommuMapDma(fd, 0, 0, evil),
      mapRead: () => a.vfioIommuMapDma(fd, 0, 0, 4096, evil),
      mapNegative: () => a.vfioIommuMapDma(fd, -4096, 0, 4096),
      mapHuge: () => a.vfioIommuMapDma(fd, 1n << 64n, 0, 4096),
      unmapIova: () => a.vfioIommuUnmapDma(fd, evil, 4096),
      ioasId: () => a.iommufdIoasMap(fd, evil, 0, 4096),
      ioasVaddr: () => a.iommufdIoasMap(fd, 1, evil, 4096),
      ioasIova: () => a.iommufdIoasMap(fd, 1, 0, 4096, evil),
      ioasWrite: () => a.iommufdIoasMap(fd, 1, 0, 4096, 0, true, evil),
      ioasUnmap: () => a.iommufdIoasUnmap(fd, 1, evil, 4096),
    };
    const out = {};
    for (const [name, fn] of Object.entries(cases)) out[name] = attempt(fn);
    return out;
  `);
  t.equal(r.status, 0, `child exited cleanly (signal ${String(r.signal)}): ${r.stderr}`);
  const res = r.result as Record<string, { threw?: { name: string; message: string } }>;
  for (const [name, outcome] of Object.entries(res ?? {})) {
    t.match(outcome, { threw: { name: /^(TypeError|RangeError)$/, message: /must be/ } }, `${name}: refused before any ioctl, nothing coerced`);
    t.notMatch(outcome.threw?.message ?? '', /boom/, `${name}: valueOf was never called`);
  }
  t.equal(Object.keys(res ?? {}).length, 12, 'every case ran');
});

t.test('row 4: mmapRegion past the end of a regular file is refused, so no read can SIGBUS', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-short-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'short');
  writeFileSync(path, Buffer.alloc(4096, 0x11));
  const r = inChild(`
    const fd = require('node:fs').openSync(${JSON.stringify(path)}, 'r+');
    const res = attempt(() => { const b = a.mmapRegion(fd, 0n, 16384n, 0, 8192); return new Uint8Array(b)[4096]; });
    const inside = attempt(() => { const b = a.mmapRegion(fd, 0n, 16384n, 0, 4096); const v = new Uint8Array(b)[1]; a.munmapRegion(b); return v; });
    return { res, inside };
  `);
  t.equal(r.status, 0, `child exited cleanly (signal ${String(r.signal)}): ${r.stderr}`);
  t.match(r.result, {
    res: { threw: { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /end of the file/ } },
    inside: { returned: 0x11 },
  });
});

t.test('row 4: fds that are neither VFIO device fds nor regular files are refused before mmap', { skip }, async (t) => {
  const a = native();
  const efd = a.eventfdCreate(0, { nonblock: true });
  t.teardown(() => a.close(efd));
  const error = thrown(() => a.mmapRegion(efd, 0n, 8192n, 0, 4096));
  t.equal(error.code, 'ENODEV');
  t.equal(error.syscall, 'mmap');
  t.match(error.message, /anon_inode:\[eventfd\]\) is not a VFIO device fd/);
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-dir-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dfd = openSync(dir, 'r');
  t.teardown(() => closeSync(dfd));
  t.match(thrown(() => a.mmapRegion(dfd, 0n, 8192n, 0, 4096)), { code: 'ENODEV', message: /not a VFIO device fd/ });
});

t.test('row 5: eventfd counters above 2^53 are exact as a bigint, or a RangeError carrying the value', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(0, { nonblock: true });
  t.teardown(() => a.close(fd));
  const big = 2n ** 53n + 1n;
  a.eventfdWrite(fd, big);
  const error = thrown(() => a.eventfdRead(fd));
  t.equal(error.name, 'RangeError');
  t.equal(error.code, 'ERR_OUT_OF_RANGE');
  t.equal(error['value'], big, 'the consumed value is on the error, exact');
  a.eventfdWrite(fd, big);
  t.equal(a.eventfdRead(fd, { bigint: true }), big);
  a.eventfdWrite(fd, 5);
  t.equal(a.eventfdRead(fd), 5, 'small counts stay numbers');
  t.equal(a.eventfdRead(fd, { bigint: true }), 0n, 'nothing pending: 0n');
  t.equal(thrown(() => a.eventfdRead(fd, { bigint: 1 as never })).name, 'TypeError');
});

t.test('row 1: createTestDevice({}).dma.alloc over the limit throws the same RangeError', { skip }, async (t) => {
  native();
  const { createTestDevice } = await import('../../lib/emu/test-device.ts');
  const device = createTestDevice({});
  const error = thrown(() => device.dma.alloc(2 ** 32 + 4096));
  t.equal(error.name, 'RangeError');
  t.equal(error.code, 'ERR_OUT_OF_RANGE');
  t.match(error.message, /MAX_MAPPING_SIZE/);
});
