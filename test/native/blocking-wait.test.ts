/**
 * eventfdWaitAny (native/blocking_wait.cc) and the per-thread registry of lib/irq/blocking.ts: which
 * fd fired, the count read and the timestamps at the read; the deadline; the wake fd written by
 * another thread; bad arguments as errors, never a hang.
 */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { addNativeSource, removeNativeSource, waitNativeSources, NO_DEADLINE } from '../../lib/irq/blocking.ts';
import { IrqStamps, wakeStamps } from '../../lib/irq/stamps.ts';
import { native, skip, thrown } from './helpers.ts';

const mono = (): bigint => process.hrtime.bigint();

t.test('the fd that fired, its count and both clocks; a deadline in the past polls', { skip }, async (t) => {
  const addon = native();
  const a = addon.eventfdCreate(0, { nonblock: true });
  const b = addon.eventfdCreate(0, { nonblock: true });
  const fds = Int32Array.of(a, b);
  const record = new IrqStamps();
  const out = record.words;
  addon.eventfdWrite(b, 3);
  const before = mono();
  t.equal(addon.eventfdWaitAny(fds, 2, NO_DEADLINE, -1, out), 1, 'index of b');
  t.equal(record.count(), 3, 'the count read, in the wake record');
  t.ok(record.monoNs() >= before, 'CLOCK_MONOTONIC at the read');
  t.ok(record.monoNs() <= mono(), 'taken before the call returned');
  t.ok(record.bootNs() >= record.monoNs(), 'CLOCK_BOOTTIME ≥ MONOTONIC');
  addon.eventfdWrite(b, 2 ** 40 + 7);
  t.equal(addon.eventfdWaitAny(fds, 2, NO_DEADLINE, -1, out), 1);
  t.equal(record.count(), 2 ** 40 + 7, 'a count above 32 bits, exact');
  t.equal(addon.eventfdRead(b), 0, 'the read consumed it');
  t.equal(addon.eventfdWaitAny(fds, 2, 0n, -1, out), -1, 'nothing ready, deadline passed: -1 at once');
  t.equal(addon.eventfdWaitAny(fds, 2, -(1n << 70n), -1, out), -1, 'a deadline far below int64: long past, -1 at once');
  addon.eventfdWrite(a, 1);
  t.equal(addon.eventfdWaitAny(fds, 2, 1n << 70n, -1, out), 0, 'a deadline far above int64: never, the event ends it');
  const start = mono();
  t.equal(addon.eventfdWaitAny(fds, 2, mono() + 30_000_000n, -1, out), -1);
  t.ok(mono() - start >= 30_000_000n, 'waited the whole 30 ms, not less');
  for (const fd of [a, b]) addon.close(fd);
});

t.test('a small set is read before it is polled (preadv2 RWF_NOWAIT): blocking eventfds too, never past the deadline', { skip }, async (t) => {
  const addon = native();
  const blocking = addon.eventfdCreate(0, { nonblock: false });
  const other = addon.eventfdCreate(0, { nonblock: true });
  const fds = Int32Array.of(other, blocking);
  const record = new IrqStamps();
  addon.eventfdWrite(blocking, 5);
  t.equal(addon.eventfdWaitAny(fds, 2, NO_DEADLINE, -1, record.words), 1, 'pending on a blocking eventfd: read at once');
  t.equal(record.count(), 5);
  const start = mono();
  t.equal(addon.eventfdWaitAny(fds, 2, mono() + 20_000_000n, -1, record.words), -1, 'nothing pending: the read does not block');
  t.ok(mono() - start >= 20_000_000n, 'the deadline, not a hang');
  addon.eventfdWrite(other, 1);
  addon.eventfdWrite(blocking, 1);
  t.equal(addon.eventfdWaitAny(fds, 2, NO_DEADLINE, -1, record.words), 0, 'both pending: the lower index first, as poll scans');
  t.equal(addon.eventfdWaitAny(fds, 2, NO_DEADLINE, -1, record.words), 1);
  for (const fd of [blocking, other]) addon.close(fd);
});

t.test('another thread ends the wait: an event on a watched fd, or the wake fd', { skip }, async (t) => {
  const addon = native();
  const irq = addon.eventfdCreate(0, { nonblock: true });
  const wake = addon.eventfdCreate(0, { nonblock: true });
  const writer = (fd: number, value: number): Worker => new Worker(`
    const { workerData } = require('node:worker_threads');
    const { writeSync } = require('node:fs');
    setTimeout(() => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(workerData.value)); writeSync(workerData.fd, b); }, 30);
  `, { eval: true, workerData: { fd, value } });
  const record = new IrqStamps();
  const out = record.words;
  const w1 = writer(irq, 5);
  t.equal(addon.eventfdWaitAny(Int32Array.of(irq), 1, NO_DEADLINE, wake, out), 0, 'blocked until the other thread wrote');
  t.equal(record.count(), 5);
  await new Promise((r) => w1.on('exit', r));
  const w2 = writer(wake, 1);
  t.equal(addon.eventfdWaitAny(Int32Array.of(irq), 1, NO_DEADLINE, wake, out), -2, 'the wake fd: -2');
  await new Promise((r) => w2.on('exit', r));
  t.equal(addon.eventfdRead(wake), 0, 'its count consumed');
  for (const fd of [irq, wake]) addon.close(fd);
});

t.test('the registry dispatches to the source that fired, as the watcher would', { skip }, async (t) => {
  const addon = native();
  const fd = addon.eventfdCreate(0, { nonblock: true });
  const got: [number, bigint][] = [];
  // The registry hands over the count; the read's timestamps are in the thread's wake record.
  const source = { fd, deliver: (count: number) => { got.push([count, wakeStamps.monoNs()]); } };
  addNativeSource(source, addon);
  addon.eventfdWrite(fd, 2);
  t.equal(waitNativeSources(NO_DEADLINE), 'event');
  t.equal(got.length, 1);
  t.equal(got[0]?.[0], 2);
  t.equal(waitNativeSources(mono() + 5_000_000n), 'timeout');
  removeNativeSource(source);
  t.equal(waitNativeSources(NO_DEADLINE), 'none', 'no source, no wake fd, no deadline: it cannot end, so it does not start');
  const start = mono();
  t.equal(waitNativeSources(mono() + 20_000_000n), 'timeout', 'with a deadline it sleeps until then');
  t.ok(mono() - start >= 20_000_000n);
  addon.close(fd);
});

t.test('bad arguments: errors, never a hang', { skip }, async (t) => {
  const addon = native();
  const out = new IrqStamps().words;
  t.throws(() => addon.eventfdWaitAny([3] as unknown as Int32Array, 1, 0n, -1, out), TypeError);
  t.throws(() => addon.eventfdWaitAny(Int32Array.of(3), 2, 0n, -1, out), RangeError, 'count beyond the array');
  t.throws(() => addon.eventfdWaitAny(Uint32Array.of(3) as unknown as Int32Array, 1, 0n, -1, out), TypeError, 'fds of another type');
  const many = new Int32Array(100).fill(-1);
  t.match(thrown(() => addon.eventfdWaitAny(many, 100, 0n, -1, out)), { code: 'EBADF' }, 'a poll set past the stack size, checked the same way');
  t.throws(() => addon.eventfdWaitAny(Int32Array.of(3), 1, 0 as unknown as bigint, -1, out), TypeError, 'deadline must be a bigint');
  t.throws(() => addon.eventfdWaitAny(Int32Array.of(3), 1, 0n, -1, new Int32Array(5)), TypeError, 'wake record too short');
  t.throws(() => addon.eventfdWaitAny(Int32Array.of(3), 1, 0n, -1, new BigUint64Array(3) as unknown as Int32Array), TypeError, 'not an Int32Array');
  t.match(thrown(() => addon.eventfdWaitAny(Int32Array.of(-1), 1, 0n, -1, out)), { code: 'EBADF' });
  t.match(thrown(() => addon.eventfdWaitAny(Int32Array.of(999_999), 1, NO_DEADLINE, -1, out)), { code: 'EBADF' }, 'a closed fd: EBADF, not a hang');
});

t.test('the registry keeps every fd when it grows past its first 8 (a 65-vector NVMe registers 65)', { skip }, async (t) => {
  const addon = native();
  const got: number[] = [];
  const sources = Array.from({ length: 20 }, (_, i) => {
    const fd = addon.eventfdCreate(0, { nonblock: true });
    const source = { fd, deliver: () => { got.push(i); } };
    addNativeSource(source, addon);
    return source;
  });
  addon.eventfdWrite((sources[0] as { fd: number }).fd, 1);
  t.equal(waitNativeSources(mono() + 200_000_000n), 'event', 'the first source, registered before the growth, still fires');
  addon.eventfdWrite((sources[19] as { fd: number }).fd, 1);
  t.equal(waitNativeSources(mono() + 200_000_000n), 'event');
  t.same(got, [0, 19]);
  for (const s of sources) {
    removeNativeSource(s);
    addon.close(s.fd);
  }
});
