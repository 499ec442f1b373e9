/**
 * What the benchmarks need built before they run: dist/ (plain node resolves 'vfio-ddk/*' there) and
 * the C baseline (hw-tests/baseline, CMake target vfio-baseline, built into .cache/baseline-build —
 * the guest runs host binaries at the same path).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const RESULTS_DIR = join(PROJECT_ROOT, 'bench-results');
export const BASELINE_SOURCE = join(PROJECT_ROOT, 'hw-tests/baseline');
export const BASELINE_BUILD = join(PROJECT_ROOT, '.cache/baseline-build');
export const BASELINE_BINARY = join(BASELINE_BUILD, 'vfio-baseline');

function newestMtime(dir, suffix) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) newest = Math.max(newest, newestMtime(path, suffix));
    else if (name.endsWith(suffix)) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/** True when some lib/**\/*.ts is newer than dist/ (tsc rewrites every output, index.js included). */
export function distIsStale() {
  const marker = join(PROJECT_ROOT, 'dist/index.js');
  if (!existsSync(marker)) return true;
  return newestMtime(join(PROJECT_ROOT, 'lib'), '.ts') > statSync(marker).mtimeMs;
}

/** `npm run build:ts` when dist/ is stale. Returns false when tsc reported errors (output is kept). */
export function ensureDist(log) {
  if (!distIsStale()) {
    log('dist/ is up to date');
    return true;
  }
  log('building dist/ (tsc -p tsconfig.build.json)…');
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: PROJECT_ROOT, encoding: 'utf8',
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    log(`tsc reported errors (${seconds} s); continuing with what it emitted:\n${(r.stdout + r.stderr).trim().split('\n').slice(0, 10).join('\n')}`);
    return false;
  }
  log(`dist/ built (${seconds} s)`);
  return true;
}

/** Configures and builds the C baseline with cmake; throws with cmake's output when that fails. */
export function buildBaseline(log) {
  log('building the C baseline (cmake, target vfio-baseline)…');
  const run = (args) => {
    const r = spawnSync('cmake', args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
    if (r.error) throw new Error(`cmake could not run (${r.error.message}): install cmake (apt-get install cmake) and a C compiler`);
    if (r.status !== 0) throw new Error(`cmake ${args.join(' ')} failed:\n${(r.stdout + r.stderr).trim().split('\n').slice(-15).join('\n')}`);
  };
  run(['-S', BASELINE_SOURCE, '-B', BASELINE_BUILD, '-DCMAKE_BUILD_TYPE=Release']);
  run(['--build', BASELINE_BUILD, '--target', 'vfio-baseline']);
  if (!existsSync(BASELINE_BINARY)) throw new Error(`cmake built nothing at ${BASELINE_BINARY}`);
  return BASELINE_BINARY;
}

/** Reads `--name value` pairs and flags from argv against `spec` ({ name: 'number' | 'boolean' | 'string' }). */
export function parseOptions(argv, spec, usage) {
  const values = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : null;
    const type = name === null ? undefined : spec[name];
    if (a === '-h' || a === '--help') { console.log(usage); process.exit(0); }
    if (type === undefined) { console.error(`unknown argument ${a}\n${usage}`); process.exit(2); }
    if (type === 'boolean') { values[name] = true; continue; }
    const raw = argv[++i];
    if (raw === undefined) { console.error(`--${name} needs a value\n${usage}`); process.exit(2); }
    if (type === 'number') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) { console.error(`--${name} must be a positive integer, got ${raw}`); process.exit(2); }
      values[name] = n;
    } else values[name] = raw;
  }
  return values;
}
