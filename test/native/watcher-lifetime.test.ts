import t from 'tap';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { nativePath } from '../../lib/native/loader.ts';
import { native, skip } from './helpers.ts';

const SAFETY_TIMEOUT_MS = 30_000; // only so a regression cannot hang the suite; not an assertion

t.test('an unref()ed watcher lets a child process exit on its own', { skip }, async (t) => {
  native();
  const script = `
    const a = require(process.argv[1]);
    const fd = a.eventfdCreate();
    const w = new a.EventfdWatcher(fd, () => {});
    w.unref();
    process.on('exit', () => console.log('exited hasRef=' + w.hasRef));
  `;
  const child = spawnSync(process.execPath, ['-e', script, String(nativePath())], {
    encoding: 'utf8',
    timeout: SAFETY_TIMEOUT_MS,
    env: process.env,
  });
  t.equal(child.signal, null, 'not killed by the safety timeout');
  t.equal(child.status, 0, child.stderr);
  t.match(child.stdout, /exited hasRef=false/);
});

t.test('a watcher in a worker thread fires on the worker loop', { skip }, async (t) => {
  native();
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData);
    const fd = a.eventfdCreate(0, { nonblock: true });
    const w = new a.EventfdWatcher(fd, (count, boot, mono) => {
      w.close();
      a.close(fd);
      parentPort.postMessage({ count, boot, mono });
    });
    a.eventfdWrite(fd, 2);
    a.eventfdWrite(fd, 5);
  `;
  const worker = new Worker(code, { eval: true, workerData: nativePath() });
  const message = await new Promise<{ count: number; boot: bigint; mono: bigint }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  t.equal(message.count, 7);
  t.type(message.boot, 'bigint');
  t.type(message.mono, 'bigint');
  const exitCode = await new Promise<number>((resolve) => worker.once('exit', resolve));
  t.equal(exitCode, 0, 'worker exits once its watcher is closed');
});

t.test('terminating a worker with an open, ref()ed watcher closes it cleanly', { skip }, async (t) => {
  native();
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData);
    const fd = a.eventfdCreate(0, { nonblock: true });
    globalThis.keep = new a.EventfdWatcher(fd, () => {});
    parentPort.postMessage('ready');
  `;
  const worker = new Worker(code, { eval: true, workerData: nativePath() });
  await new Promise((resolve) => worker.once('message', resolve));
  const exitCode = await worker.terminate();
  t.equal(exitCode, 1, 'terminate() resolves (the env cleanup hook closed the uv_poll)');
});

t.test('a child process whose only handle is a dropped, ref()ed watcher stays alive until it fires', { skip }, async (t) => {
  native();
  // The watcher is held strongly while ref'd; GC must not collect it and lose the callback.
  const script = `
    const a = require(process.argv[1]);
    const fd = a.eventfdCreate(0, { nonblock: true });
    (() => { new a.EventfdWatcher(fd, (n) => { console.log('fired ' + n); process.exit(0); }); })();
    if (global.gc) global.gc();
    setImmediate(() => { if (global.gc) global.gc(); a.eventfdWrite(fd, 4); });
  `;
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script, String(nativePath())], {
    encoding: 'utf8',
    timeout: SAFETY_TIMEOUT_MS,
  });
  t.equal(child.status, 0, child.stderr);
  t.match(child.stdout, /fired 4/);
});

t.test('buffers, mappings and unref()ed watchers dropped by JS are finalized without crashing', { skip }, async (t) => {
  native();
  // Exercises the finalizers (munmap, uv_close) — the sanitizer build turns any misuse into a failure.
  const script = `
    const a = require(process.argv[1]);
    const fs = require('node:fs');
    const path = require('node:path').join(require('node:os').tmpdir(), 'vfio-ddk-gc-' + process.pid);
    fs.writeFileSync(path, Buffer.alloc(16384));
    const rfd = fs.openSync(path, 'r+');
    fs.unlinkSync(path);
    for (let i = 0; i < 100; i++) {
      a.dmaAlloc(4096 * (1 + (i % 4)));
      a.mmapRegion(rfd, 0n, 16384n, 4096, 4096);
      const fd = a.eventfdCreate(0, { nonblock: true });
      new a.EventfdWatcher(fd, () => {}).unref();
      a.eventfdWrite(fd, 1);
    }
    let n = 0;
    (function tick() { global.gc(); if (++n < 10) setImmediate(tick); else console.log('survived'); })();
  `;
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script, String(nativePath())], {
    encoding: 'utf8',
    timeout: SAFETY_TIMEOUT_MS,
  });
  t.equal(child.status, 0, child.stderr);
  t.match(child.stdout, /survived/);
});
