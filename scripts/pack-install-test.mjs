#!/usr/bin/env node
// `npm run test:pack`: what a new user gets from the packed tarball (issue 16, item 1).
//   1. `npm pack` a copy of this checkout: prepack runs prebuildify through scripts/prebuild-node-gyp.mjs
//      (cmake-js), so the tarball must hold prebuilds/<platform>-<arch>/*.node and the compiled dist/.
//   2. Install it into a fresh app with a PATH that has node, npm and sh but no cmake, make, cc, g++:
//      nothing may compile; `npx vfio-ddk demo` must pass all steps on the emulated edu; the addon must
//      load (openVfioDevice of an absent BDF fails on the device, not on a missing addon).
//   3. The same tarball without prebuilds/, installed the same way under a pseudo-terminal (`script`,
//      as a person at a shell sees npm): one line says the VFIO backend is unavailable and names
//      `npm rebuild vfio-ddk`; the loader's error names it too; the emulated demo still passes.
//   4. That advice works: with the compiler back on PATH, `npm rebuild vfio-ddk` builds and loads it.
// Prints one "ok"/"not ok" line per check and "N passed, M failed"; exit 1 when any failed.
// Needs the compiler for step 1 only, and the npm cache or registry for the dependencies.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'vfio-ddk-pack-'));
const keep = process.argv.includes('--keep');
const prebuildDir = `${process.platform}-${process.arch}`;
let passed = 0;
let failed = 0;
const started = performance.now();

function check(ok, what, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}${ok || detail === '' ? '' : `\n  ${detail.trim().split('\n').slice(-25).join('\n  ')}`}`);
  return ok;
}

function run(command, args, options = {}) {
  const t0 = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`# ${[command, ...args].join(' ')}  (${seconds} s, status ${result.status})`);
  return { status: result.status ?? 1, out: `${result.stdout ?? ''}${result.stderr ?? ''}`, error: result.error };
}

/** A bin folder with node, npm, npx and sh only: no compiler, make or cmake can be found through it. */
function bareBin() {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const nodeBin = dirname(process.execPath);
  symlinkSync(process.execPath, join(bin, 'node'));
  for (const tool of ['npm', 'npx']) symlinkSync(join(nodeBin, tool), join(bin, tool));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

/** A copy of the checkout's files (tracked and new, not ignored) with its node_modules linked. */
function sourceCopy() {
  const listed = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repo });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.out}`);
  const src = join(work, 'src');
  for (const file of listed.out.split('\0').filter((f) => f !== '' && existsSync(join(repo, f)))) {
    mkdirSync(dirname(join(src, file)), { recursive: true });
    cpSync(join(repo, file), join(src, file));
  }
  symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'));
  return src;
}

function freshApp(name) {
  const app = join(work, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2));
  return app;
}

const PROBE = `import('vfio-ddk/vfio').then((m) => { try { m.openVfioDevice('0000:ff:1f.7'); } catch (e) { console.log('PROBE ' + e.code + ' ' + e.message); } })`;

try {
  const src = sourceCopy();
  const pack = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: src });
  if (!check(pack.status === 0, 'npm pack (prepack: prebuildify through cmake-js, prepare: tsc)', pack.out)) throw new Error('no tarball');
  const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')));
  const listing = run('tar', ['tzf', tarball]).out.split('\n');
  check(listing.some((f) => f.startsWith(`package/prebuilds/${prebuildDir}/`) && f.endsWith('.node')), `the tarball holds prebuilds/${prebuildDir}/*.node`, listing.filter((f) => f.includes('prebuilds')).join('\n'));
  check(listing.includes('package/dist/cli/main.js'), 'the tarball holds the compiled CLI (dist/cli/main.js)');

  const bin = bareBin();
  const env = { ...process.env, PATH: bin, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') && !key.startsWith('npm_config_')) delete env[key];
  delete env['VFIO_DDK_ADDON'];
  const which = run('sh', ['-c', 'command -v cmake make cc gcc g++ c++ || true'], { env });
  check(which.out.trim() === '', 'no cmake, make or compiler on the install PATH', which.out);

  // 2: with the prebuild.
  const app = freshApp('app-prebuild');
  const install = run('npm', ['install', '--prefer-offline', '--foreground-scripts', tarball], { cwd: app, env });
  check(install.status === 0, 'npm install of the tarball without a compiler succeeds', install.out);
  check(/using the prebuilt addon/.test(install.out) && !/cmake-js build/.test(install.out), 'the install uses the prebuild and compiles nothing', install.out);
  check(!existsSync(join(app, 'node_modules', 'vfio-ddk', 'build')), 'no build/ folder in the installed package');
  const demo = run('npx', ['vfio-ddk', 'demo'], { cwd: app, env });
  check(demo.status === 0 && /all \d+ steps passed/.test(demo.out), '`npx vfio-ddk demo` passes on the emulated edu', demo.out);
  const probe = run('node', ['-e', PROBE], { cwd: app, env });
  check(/^PROBE /m.test(probe.out) && !/ERR_ADDON_(MISSING|LOAD)/.test(probe.out), 'the prebuilt addon loads (openVfioDevice fails on the absent device, not the addon)', probe.out);

  // 3: the same package without prebuilds/.
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  run('tar', ['xzf', tarball, '-C', unpacked]);
  rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  const bare = join(work, 'vfio-ddk-noprebuild.tgz');
  run('tar', ['czf', bare, '-C', unpacked, 'package']);
  const app2 = freshApp('app-source');
  // `script` gives npm a terminal, as at a shell: npm hides install-script output, so the line must
  // reach the terminal itself.
  // Without `script` (util-linux), --foreground-scripts shows the install script's stderr instead.
  const line = `npm install --prefer-offline ${bare}`;
  const install2 = existsSync('/usr/bin/script')
    ? run('/usr/bin/script', ['-qec', line, '/dev/null'], { cwd: app2, env })
    : run('npm', ['install', '--prefer-offline', '--foreground-scripts', bare], { cwd: app2, env });
  const shown = install2.out.split(/\r?\n/).filter((l) => /VFIO backend (is )?unavailable/.test(l));
  check(install2.status === 0, 'without a prebuild or a compiler the install still succeeds', install2.out);
  check(shown.length === 1 && shown[0].includes('npm rebuild vfio-ddk') && /cmake/.test(shown[0]) && /g\+\+/.test(shown[0]),
    'the install shows one line: VFIO backend unavailable, install cmake and g++, `npm rebuild vfio-ddk`', install2.out);
  const probe2 = run('node', ['-e', PROBE], { cwd: app2, env });
  check(/PROBE ERR_ADDON_MISSING .*npm rebuild vfio-ddk/.test(probe2.out), 'the loader\'s error names `npm rebuild vfio-ddk`', probe2.out);
  const demo2 = run('npx', ['vfio-ddk', 'demo'], { cwd: app2, env });
  check(demo2.status === 0 && /all \d+ steps passed/.test(demo2.out), 'the emulated demo still passes without the addon', demo2.out);

  // 4: the advice works: with cmake and g++ back on PATH, `npm rebuild vfio-ddk` builds the addon.
  const fullEnv = { ...env, PATH: process.env.PATH };
  const rebuild = run('npm', ['rebuild', 'vfio-ddk', '--foreground-scripts'], { cwd: app2, env: fullEnv });
  check(rebuild.status === 0 && /built build\/Release\/vfio_ddk\.node/.test(rebuild.out), '`npm rebuild vfio-ddk` with cmake and g++ on PATH builds the addon', rebuild.out);
  const probe3 = run('node', ['-e', PROBE], { cwd: app2, env });
  check(/^PROBE /m.test(probe3.out) && !/ERR_ADDON_(MISSING|LOAD)/.test(probe3.out), 'after the rebuild the addon loads', probe3.out);
} catch (err) {
  check(false, 'pack-install test ran to the end', String(err?.stack ?? err));
} finally {
  if (keep) console.log(`# kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`# pack-install: ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
