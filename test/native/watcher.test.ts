import t from 'tap';
import { IrqStamps } from '../../lib/irq/stamps.ts';
import { native, skip } from './helpers.ts';

type Fire = { count: number; boot: bigint; mono: bigint };

/** Resolves with the next callback of a fresh watcher on `fd`; the watcher closes itself. */
function nextFire(fd: number): Promise<Fire> {
  const a = native();
  return new Promise((resolve) => {
    const w = new a.EventfdWatcher(fd, (count, boot, mono) => {
      w.close();
      resolve({ count, boot, mono });
    });
  });
}

t.test('writes made before the loop runs arrive as one callback with the summed count', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(0, { nonblock: true });
  const calls: number[] = [];
  const done = new Promise<void>((resolve) => {
    const w = new a.EventfdWatcher(fd, (count) => {
      calls.push(count);
      w.close();
      resolve();
    });
  });
  a.eventfdWrite(fd, 1);
  a.eventfdWrite(fd, 1);
  a.eventfdWrite(fd, 1);
  await done;
  t.same(calls, [3]);
  t.equal(a.eventfdRead(fd), 0, 'the watcher consumed the counter');
  a.close(fd);
});

t.test('timestamps are taken at the read: between the write and the callback, both clocks', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(0, { nonblock: true });
  const fire1 = nextFire(fd);
  const boot0 = a.clockBootNs();
  const mono0 = a.clockMonoNs();
  a.eventfdWrite(fd, 2);
  const first = await fire1;
  const boot1 = a.clockBootNs();
  const mono1 = a.clockMonoNs();
  t.equal(first.count, 2);
  t.type(first.boot, 'bigint');
  t.ok(first.boot >= boot0 && first.boot <= boot1, 'boot timestamp inside [write, callback]');
  t.ok(first.mono >= mono0 && first.mono <= mono1, 'mono timestamp inside [write, callback]');
  t.ok(first.boot >= first.mono, 'CLOCK_BOOTTIME never runs behind CLOCK_MONOTONIC');
  const fire2 = nextFire(fd);
  a.eventfdWrite(fd, 1);
  const second = await fire2;
  t.ok(second.boot > first.boot && second.mono > first.mono, 'timestamps increase');
  a.close(fd);
});

t.test('a watcher closed before the loop runs never reads or calls back', { skip }, async (t) => {
  const a = native();
  const closedFd = a.eventfdCreate(0, { nonblock: true });
  const otherFd = a.eventfdCreate(0, { nonblock: true });
  let closedCalls = 0;
  const w = new a.EventfdWatcher(closedFd, () => closedCalls++);
  a.eventfdWrite(closedFd, 3);
  w.close();
  t.equal(w.closed, true);
  w.close(); // idempotent
  // Another watcher proves the loop has polled since: the closed one's fd is still unread.
  const other = nextFire(otherFd);
  a.eventfdWrite(otherFd, 1);
  await other;
  t.equal(closedCalls, 0);
  t.equal(a.eventfdRead(closedFd), 3, 'counter untouched');
  a.close(closedFd);
  a.close(otherFd);
});

t.test('a callback that closes its own watcher gets no further calls', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(0, { nonblock: true });
  let calls = 0;
  await new Promise<void>((resolve) => {
    const w = new a.EventfdWatcher(fd, () => {
      calls++;
      w.close();
      a.eventfdWrite(fd, 1); // would fire again if the poll were still active
      resolve();
    });
    a.eventfdWrite(fd, 1);
  });
  const other = a.eventfdCreate(0, { nonblock: true });
  const later = nextFire(other);
  a.eventfdWrite(other, 1);
  await later;
  t.equal(calls, 1);
  t.equal(a.eventfdRead(fd), 1);
  a.close(fd);
  a.close(other);
});

t.test('ref/unref toggle hasRef; bad arguments are rejected', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate();
  const w = new a.EventfdWatcher(fd, () => {});
  t.equal(w.hasRef, true);
  t.equal(w.unref(), w, 'chainable');
  t.equal(w.hasRef, false);
  w.ref();
  t.equal(w.hasRef, true);
  t.equal(w.fd, fd);
  w.close();
  t.equal(w.hasRef, false);
  a.close(fd);
  t.throws(() => new a.EventfdWatcher(fd, 'x' as never), { name: 'TypeError' });
  t.throws(() => new a.EventfdWatcher(-1, () => {}), { code: 'EBADF' });
  t.throws(() => new a.EventfdWatcher(fd, () => {}), { code: 'EBADF', fd }, 'closed fd');
});

t.test('Eventfd owns its fd and closes its watchers before it', { skip }, async (t) => {
  const a = native();
  const { Eventfd } = await import('../../lib/native/eventfd.ts');
  const efd = new Eventfd(a);
  const seen: number[] = [];
  let watcher!: ReturnType<typeof efd.watch>;
  const fired = new Promise<void>((resolve) => {
    watcher = efd.watch((count) => {
      seen.push(count);
      resolve();
    });
  });
  efd.write(2);
  efd.write(3n);
  await fired;
  t.same(seen, [5]);
  t.throws(() => efd.watch(() => {}), { code: 'EEXIST', message: /already has an open watcher/ }, 'one watcher per fd per loop');
  efd.close();
  t.equal(watcher.closed, true, 'watchers closed with the fd');
  t.equal(efd.closed, true);
  efd.close(); // idempotent
  t.throws(() => efd.watch(() => {}), RangeError);
  t.throws(() => a.eventfdRead(efd.fd), { code: 'EBADF' }, 'fd closed');
});

t.test('the record form: count and both clocks land in the wake record, the callback gets the count alone', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(0, { nonblock: true });
  const record = new IrqStamps();
  const args: unknown[][] = [];
  const got = new Promise<void>((resolve) => {
    const w = new a.EventfdWatcher(fd, (...callArgs: unknown[]) => {
      args.push(callArgs);
      if (record.count() >= 2 ** 33) { w.close(); resolve(); }
    }, record.words);
  });
  const mono0 = a.clockMonoNs();
  a.eventfdWrite(fd, 2 ** 33 + 5);
  await got;
  const mono1 = a.clockMonoNs();
  t.same(args, [[2 ** 33 + 5]], 'one argument: the count');
  t.equal(record.count(), 2 ** 33 + 5, 'the count in the record, exact past 32 bits');
  t.ok(record.monoNs() >= mono0 && record.monoNs() <= mono1, 'CLOCK_MONOTONIC of the read');
  t.ok(record.bootNs() >= record.monoNs(), 'CLOCK_BOOTTIME ≥ MONOTONIC');
  a.close(fd);
});

t.test('the record form refuses anything but an Int32Array of at least 6 elements', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(0, { nonblock: true });
  for (const bad of [new Int32Array(5), new Uint32Array(6), new BigUint64Array(3), [0, 0, 0, 0, 0, 0], {}]) {
    t.throws(() => new a.EventfdWatcher(fd, () => {}, bad as unknown as Int32Array), TypeError, `record ${Object.prototype.toString.call(bad)}`);
  }
  a.close(fd);
});

t.test('clockStamps writes both clocks into a record without touching its count', { skip }, async (t) => {
  const a = native();
  const record = new IrqStamps();
  record.words[4] = 7;
  const before = a.clockMonoNs();
  a.clockStamps(record.words);
  t.ok(record.monoNs() >= before && record.monoNs() <= a.clockMonoNs());
  t.ok(record.bootNs() >= record.monoNs());
  t.equal(record.count(), 7);
  t.throws(() => a.clockStamps(new Int32Array(2)), TypeError);
});

t.test('a counter signalled again during the callback is taken in the same poll event, at most 8 times', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(0, { nonblock: true });
  const order: string[] = [];
  let calls = 0;
  await new Promise<void>((resolve) => {
    const w = new a.EventfdWatcher(fd, () => {
      calls++;
      order.push(`cb${calls}`);
      if (calls === 1) setImmediate(() => order.push('immediate'));
      if (calls < 10) a.eventfdWrite(fd, 1); // the device raises the next one at once
      else { w.close(); resolve(); }
    });
    a.eventfdWrite(fd, 1);
  });
  const immediate = order.indexOf('immediate');
  t.same(order.slice(0, 8), ['cb1', 'cb2', 'cb3', 'cb4', 'cb5', 'cb6', 'cb7', 'cb8'], 'the next seven taken before the loop ran on');
  t.equal(immediate, 8, 'then the loop ran (a setImmediate of the first callback) before the ninth');
  t.equal(calls, 10);
  a.close(fd);
});
