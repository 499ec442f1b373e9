#!/usr/bin/env node
/**
 * npm run test:asan — the native tests (test/native) and the kit suites that drive the addon's
 * watchers and eventfds (test/zircon/blocking, test/vfio) against the ASan + UBSan build of the addon
 * (build/asan/Release, `npm run build:native:asan`), each file in its own node with libasan preloaded.
 * Any sanitizer report aborts that node (ASan's default; UBSan with halt_on_error), so a report fails
 * the run. Leak checking is off: V8's own allocations would drown it. Prints one "N passed, N failed"
 * line (files).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const addon = join(root, 'build/asan/Release/vfio_ddk.node');
const log = (m) => process.stderr.write(`[test:asan] ${m}\n`);

if (!existsSync(addon) || process.argv.includes('--rebuild')) {
  log('building the ASan + UBSan addon (npm run build:native:asan)');
  const b = spawnSync('npm', ['run', 'build:native:asan'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const libasan = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
if (!libasan.startsWith('/')) {
  log('gcc does not know libasan.so: install gcc (the sanitizer runtime comes with it)');
  process.exit(1);
}
const files = [
  ...readdirSync(join(root, 'test/native')).filter((f) => f.endsWith('.test.ts')).map((f) => join('test/native', f)),
  'test/zircon/blocking.test.ts', 'test/vfio/vfio-msi-enable.test.ts', 'test/vfio/vfio-device-fake.test.ts',
].filter((f) => f !== 'test/native/install-script.test.ts' && f !== 'test/native/loader.test.ts'); // those test the loader's choice of addon
const env = {
  ...process.env, VFIO_DDK_ADDON: addon, LD_PRELOAD: libasan,
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
};
let passed = 0;
let failed = 0;
for (const file of files) {
  const r = spawnSync(process.execPath, ['--import=./node_modules/@tapjs/typescript/dist/esm/import.mjs', '--conditions=vfio-ddk-source', file],
    { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
  const report = /ERROR: AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer/.test(r.stderr);
  const ok = r.status === 0 && !report;
  if (ok) passed++;
  else {
    failed++;
    process.stderr.write(r.stdout.split('\n').filter((l) => /not ok/.test(l)).join('\n') + '\n' + r.stderr.slice(-4000) + '\n');
  }
  log(`${ok ? 'ok    ' : 'FAILED'} ${file}${report ? ' (sanitizer report)' : ''}`);
}
console.log(`asan: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
