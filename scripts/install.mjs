#!/usr/bin/env node
// npm "install" hook and `npm run build:native[:asan]`.
//   node scripts/install.mjs           a matching prebuild → nothing to compile; else cmake-js build.
//                                      A failed build does not fail the install: the package still
//                                      works with the emulated backend (lib/emu) without the addon.
//   node scripts/install.mjs --force   always build (build/Release/vfio_ddk.node); failure exits 1.
//   node scripts/install.mjs --asan    ASan+UBSan build into build/asan/Release (implies --force).
// Node's own headers (which include uv.h) are used when present, so nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const asan = args.has('--asan');
const force = asan || args.has('--force');
const log = (msg) => console.log(`vfio-ddk: ${msg}`);

function findPrebuild() {
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(dir)) return null;
  const file = readdirSync(dir).find((f) => f.endsWith('.node'));
  return file ? join(dir, file) : null;
}

/** Runs cmake-js; returns its exit status. `out` is relative to the package root. */
export function cmakeJsBuild({ out = 'build', sanitize = false, extraArgs = [] } = {}) {
  const require = createRequire(import.meta.url);
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    log('cmake-js is not installed (npm install cmake-js)');
    return 1;
  }
  const env = { ...process.env };
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node.h')) && !env.npm_config_nodedir) {
    env.npm_config_nodedir = prefix; // cmake-js: use these headers instead of downloading them
  }
  const argv = [cmakeJs, 'build', '--directory', root, '--out', join(root, out), '--parallel', '2', ...extraArgs];
  if (sanitize) argv.push('--CDVFIO_DDK_SANITIZE=ON');
  log(`running cmake-js build (out: ${out}${sanitize ? ', ASan+UBSan' : ''})`);
  const result = spawnSync(process.execPath, argv, { cwd: root, env, stdio: 'inherit' });
  if (result.error) log(`could not run cmake-js: ${result.error.message}`);
  return result.status ?? 1;
}

function main() {
  if (!force) {
    const prebuild = findPrebuild();
    if (prebuild) {
      log(`using the prebuilt addon ${relative(root, prebuild)}; nothing to compile`);
      return 0;
    }
    log(`no prebuild for ${process.platform}-${process.arch}; building from source`);
  }
  const status = cmakeJsBuild(asan ? { out: join('build', 'asan'), sanitize: true } : {});
  if (status === 0) {
    log(`built ${asan ? 'build/asan' : 'build'}/Release/vfio_ddk.node`);
    return 0;
  }
  const help = 'the native addon needs cmake (>= 3.15) and g++ (C++17): install them, then `npm run build:native`';
  if (force) {
    log(`build failed; ${help}`);
    return 1;
  }
  log(`build failed; continuing without the addon (emulated devices still work). ${help}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
