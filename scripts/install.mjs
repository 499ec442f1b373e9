#!/usr/bin/env node
// npm "install" hook and `npm run build:native[:asan]`.
//   node scripts/install.mjs           a matching prebuild → nothing to compile; else cmake-js build.
//                                      No compiler, or a failed build, does not fail the install: the
//                                      package still works with the emulated backend (lib/emu) without
//                                      the addon, and one line on the terminal says how to build it.
//   node scripts/install.mjs --force   always build (build/Release/vfio_ddk.node); failure exits 1.
//   node scripts/install.mjs --asan    ASan+UBSan build into build/asan/Release (implies --force).
// Node's own headers (which include uv.h) are used when present, so nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const asan = args.has('--asan');
const force = asan || args.has('--force');
const log = (msg) => console.log(`vfio-ddk: ${msg}`);

/**
 * The command that builds the addon from where the user stands: `npm rebuild vfio-ddk` in a project
 * that installed the package (it lives under node_modules/), `npm run build:native` in a checkout.
 * lib/native/loader.ts buildCommand says the same (it cannot import this script).
 */
export function buildCommand(packageRoot = root) {
  return packageRoot.split(sep).includes('node_modules') ? 'npm rebuild vfio-ddk' : 'npm run build:native';
}

/** The build tools (cmake, a C++ compiler, make or ninja) that PATH does not reach. */
export function missingBuildTools(path = process.env.PATH ?? '') {
  const dirs = path.split(delimiter).filter((d) => d !== '');
  const found = (name) => dirs.some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  const missing = [];
  if (!found('cmake')) missing.push('cmake');
  if (!['g++', 'c++', 'clang++'].some(found)) missing.push('g++');
  if (!['make', 'ninja'].some(found)) missing.push('make');
  return missing;
}

/**
 * One line the user sees. npm hides the output of dependencies' install scripts unless they fail,
 * so when stderr is not a terminal the line also goes to the controlling terminal (/dev/tty).
 */
function notify(line) {
  process.stderr.write(`${line}\n`);
  if (process.stderr.isTTY) return;
  try {
    // "\r" + erase-line first: npm's progress spinner may be drawn on the terminal's current line.
    writeFileSync('/dev/tty', `\r\x1b[K${line}\n`);
  } catch {
    // No terminal (CI, a daemon): stderr is all there is; the loader's error says the same later.
  }
}

function unavailable(reason) {
  return `vfio-ddk: the VFIO backend is unavailable (${reason}); emulated devices still work. `
    + `To enable it, install cmake (>= 3.15) and g++ (C++17), then run \`${buildCommand()}\` in your project.`;
}

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
    const missing = missingBuildTools();
    if (missing.length > 0) {
      notify(unavailable(`no prebuilt addon for ${process.platform}-${process.arch} and no ${missing.join(', ')} on PATH to build one`));
      return 0;
    }
    log(`no prebuild for ${process.platform}-${process.arch}; building from source`);
  }
  const status = cmakeJsBuild(asan ? { out: join('build', 'asan'), sanitize: true } : {});
  if (status === 0) {
    log(`built ${asan ? 'build/asan' : 'build'}/Release/vfio_ddk.node`);
    return 0;
  }
  if (force) {
    log('build failed; the native addon needs cmake (>= 3.15) and g++ (C++17): install them, then `npm run build:native`');
    return 1;
  }
  notify(unavailable(`building the addon failed: \`${buildCommand()} --foreground-scripts\` shows why`));
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
