#!/usr/bin/env node
/**
 * Builds the `--kernel iommufd` guest kernel: Debian's linux-source-6.12 (pinned below) configured
 * with `make tinyconfig` + kernel-iommufd.config, everything built in. Debian's own kernels up to 7.2
 * are built without CONFIG_IOMMUFD (shared qemu-guest.md), so this is the kernel that exercises the
 * iommufd + VFIO device cdev path.
 *
 * Cached outside the clone, in ${VFIO_DDK_CACHE:-${XDG_CACHE_HOME:-~/.cache}/vfio-ddk}/kernels/
 * <source version>-<fragment hash>/vmlinux, so every clone on the machine shares one build. The build
 * runs in a temporary folder beside it and the result is renamed into place: an interrupted build
 * leaves no half-written kernel.
 *
 *   node scripts/guest/kernel-build.mjs          build if not cached, print the vmlinux path
 *   node scripts/guest/kernel-build.mjs --force  rebuild
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePackages } from './packages.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The pinned source: bookworm-security's linux-source-6.12 (the version the fragment was checked on). */
export const LINUX_SOURCE = { package: 'linux-source-6.12', version: '6.12.118-1~deb12u1' };
export const FRAGMENT = join(here, 'kernel-iommufd.config');
/** What `make vmlinux` needs besides gcc/make (tinyconfig: no modules, no signing, no BTF). */
export const BUILD_PACKAGES = ['gcc', 'make', 'libc6-dev', 'flex', 'bison', 'bc', 'libelf-dev', 'xz-utils'];
/** Objects a build of this fragment compiles (measured): the denominator of the progress line. */
const EXPECTED_OBJECTS = 1271;
const PROGRESS_EVERY_MS = 30_000;

export function cacheRoot(env = process.env) {
  if (env.VFIO_DDK_CACHE) return resolve(env.VFIO_DDK_CACHE);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(env.HOME || homedir(), '.cache');
  return join(base, 'vfio-ddk');
}

export function fragmentHash(text = readFileSync(FRAGMENT, 'utf8')) {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** `CONFIG_X=y` / `# CONFIG_X is not set` lines of a fragment, as [name, value | null]. */
export function fragmentOptions(text) {
  const out = [];
  for (const line of text.split('\n')) {
    let m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) { out.push([m[1], m[2]]); continue; }
    m = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line.trim());
    if (m) out.push([m[1], null]);
  }
  return out;
}

/** Fragment options that .config (after olddefconfig) does not have as asked: [name, wanted, got]. */
export function unmetOptions(fragmentText, configText) {
  const have = new Map();
  for (const [name, value] of fragmentOptions(configText)) have.set(name, value);
  return fragmentOptions(fragmentText)
    .filter(([name, value]) => (value === null ? have.get(name) != null && have.get(name) !== 'n' : have.get(name) !== value))
    .map(([name, value]) => [name, value ?? 'n', have.get(name) ?? 'n']);
}

export function kernelKey(version = LINUX_SOURCE.version, fragment = readFileSync(FRAGMENT, 'utf8')) {
  return `linux-${version.replace(/[^\w.+-]/g, '_')}-${fragmentHash(fragment)}`;
}

/** The cached vmlinux of the pinned source and current fragment, or null. */
export function cachedKernel(env = process.env) {
  const dir = join(cacheRoot(env), 'kernels', kernelKey());
  const vmlinux = join(dir, 'vmlinux');
  return existsSync(vmlinux) ? { vmlinux, dir, version: LINUX_SOURCE.version } : null;
}

function run(cmd, args, opts, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) {
    const err = new Error(`${what} failed (${cmd} ${args.join(' ')}: status ${r.status ?? r.signal}):\n${(r.stderr || r.stdout || String(r.error ?? '')).slice(-2000)}`);
    err.code = 'EBUILD';
    throw err;
  }
  return r.stdout;
}

/** `nice -n 10 make -j2 vmlinux`, logging to `logFile`, with a progress line every 30 s. */
function makeVmlinux(src, logFile, log) {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn('nice', ['-n', '10', 'make', '-j2', 'vmlinux'], { cwd: src, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    let objects = 0;
    const count = (chunk) => {
      chunks.push(chunk);
      objects += (String(chunk).match(/^\s+(CC|AS)\s/gm) ?? []).length;
    };
    child.stdout.on('data', count);
    child.stderr.on('data', (c) => chunks.push(c));
    const timer = setInterval(() => {
      const s = Math.round((Date.now() - started) / 1000);
      log(`compiling: ${objects} objects (~${Math.min(99, Math.round((100 * objects) / EXPECTED_OBJECTS))}%), ${Math.floor(s / 60)} min ${s % 60} s`);
    }, PROGRESS_EVERY_MS);
    child.on('error', (e) => { clearInterval(timer); reject(e); });
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      const text = Buffer.concat(chunks.map((c) => Buffer.from(c))).toString('utf8');
      writeFileSync(logFile, text);
      if (code === 0) return resolvePromise({ objects, seconds: (Date.now() - started) / 1000 });
      const err = new Error(`make vmlinux failed (status ${code ?? signal}); the log is ${logFile}:\n${text.slice(-1500)}`);
      err.code = 'EBUILD';
      reject(err);
    });
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * Takes the per-key build lock (a folder made atomically by mkdir, holding the owner's pid), waiting
 * while another live process holds it: test:hw runs on both kernels by default, so two clones (or two
 * runs) on one machine would otherwise build the same kernel twice at once. Returns a release
 * function, or null when the other build finished the kernel meanwhile.
 */
async function lockBuild(root, key, vmlinux, log) {
  const lock = join(root, `.lock-${key}`);
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), `${process.pid}\n`);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let pid = null;
    try { pid = Number(readFileSync(join(lock, 'pid'), 'utf8')); } catch { /* being written, or its owner died right after mkdir */ }
    const stale = pid === null ? Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 60_000 : !alive(pid);
    if (stale) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!told) log(`another build of this kernel is running (pid ${pid ?? '?'}): waiting for it`);
    told = true;
    await new Promise((r) => setTimeout(r, 5000));
    if (existsSync(vmlinux)) return null;
  }
}

/** Leftover temporary build folders of dead builds (pid gone): ~1.5 GB each. */
function removeStaleBuilds(root) {
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const m = /^\.build-.*-(\d+)$/.exec(name);
    if (!m) continue;
    if (!alive(Number(m[1]))) rmSync(join(root, name), { recursive: true, force: true });
  }
}

/**
 * Returns { vmlinux, dir, version, cached, seconds } for the iommufd kernel, building it if needed.
 * Throws an Error (code EPERM when packages are missing and we are not root, EBUILD when a step fails).
 */
export async function ensureBuiltKernel({ log = () => {}, force = false, env = process.env } = {}) {
  const started = Date.now();
  const fragment = readFileSync(FRAGMENT, 'utf8');
  const root = join(cacheRoot(env), 'kernels');
  const key = kernelKey(LINUX_SOURCE.version, fragment);
  const dir = join(root, key);
  const vmlinux = join(dir, 'vmlinux');
  if (!force && existsSync(vmlinux)) return { vmlinux, dir, version: LINUX_SOURCE.version, cached: true, seconds: 0 };

  log(`building the iommufd guest kernel (${LINUX_SOURCE.package} ${LINUX_SOURCE.version}, tinyconfig + ${FRAGMENT}) into ${dir}`);
  log('the first build takes 15–25 min on 2 cores; it is cached for every clone on this machine');
  mkdirSync(root, { recursive: true });
  const release = await lockBuild(root, key, vmlinux, log);
  if (release === null) return { vmlinux, dir, version: LINUX_SOURCE.version, cached: true, seconds: (Date.now() - started) / 1000 };
  removeStaleBuilds(root);
  const work = join(root, `.build-${key}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    if (!force && existsSync(vmlinux)) {
      // Built by the lock's previous owner between our first look and taking the lock.
      return { vmlinux, dir, version: LINUX_SOURCE.version, cached: true, seconds: (Date.now() - started) / 1000 };
    }
    ensurePackages(log, BUILD_PACKAGES);
    log(`downloading ${LINUX_SOURCE.package}=${LINUX_SOURCE.version}`);
    const pin = `${LINUX_SOURCE.package}=${LINUX_SOURCE.version}`;
    const dl = spawnSync('apt-get', ['download', pin], { cwd: work, encoding: 'utf8' });
    if (dl.status !== 0) {
      // The lists may predate the pinned version: refresh once (as root) and retry.
      if (process.getuid?.() === 0) spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      run('apt-get', ['download', pin], { cwd: work }, `downloading ${pin} (if the mirror no longer has it, ` +
        `set LINUX_SOURCE.version in scripts/guest/kernel-build.mjs to one \`apt-cache policy ${LINUX_SOURCE.package}\` lists)`);
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    log('unpacking the source');
    run('dpkg-deb', ['-x', join(work, deb), join(work, 'pkg')], {}, 'dpkg-deb -x');
    const tarball = join(work, 'pkg/usr/src', `${LINUX_SOURCE.package}.tar.xz`);
    run('tar', ['-xf', tarball, '-C', work], {}, 'unpacking the kernel source');
    rmSync(join(work, 'pkg'), { recursive: true, force: true });
    rmSync(join(work, deb), { force: true });
    const src = join(work, LINUX_SOURCE.package);

    log('configuring: make tinyconfig + the fragment, make olddefconfig');
    run('make', ['tinyconfig'], { cwd: src }, 'make tinyconfig');
    // Later assignments in .config override earlier ones (scripts/kconfig/confdata.c conf_read_simple).
    writeFileSync(join(src, '.config'), `${readFileSync(join(src, '.config'), 'utf8')}\n${fragment}`);
    run('make', ['olddefconfig'], { cwd: src }, 'make olddefconfig');
    const unmet = unmetOptions(fragment, readFileSync(join(src, '.config'), 'utf8'));
    if (unmet.length > 0) {
      const err = new Error(`the kernel config fragment did not stick (${FRAGMENT}):\n` +
        unmet.map(([n, want, got]) => `  ${n}: wanted ${want}, got ${got} (a dependency is missing or the symbol was renamed)`).join('\n'));
      err.code = 'EBUILD';
      throw err;
    }

    log('compiling vmlinux (nice -n 10 make -j2)');
    const built = await makeVmlinux(src, join(work, 'build.log'), log);
    const out = join(work, 'out');
    mkdirSync(out);
    renameSync(join(src, 'vmlinux'), join(out, 'vmlinux'));
    renameSync(join(src, '.config'), join(out, 'config'));
    writeFileSync(join(out, 'source'), `${LINUX_SOURCE.package} ${LINUX_SOURCE.version}\nfragment ${fragmentHash(fragment)}\n` +
      `built ${new Date().toISOString()} in ${built.seconds.toFixed(0)} s, ${built.objects} objects\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
    const seconds = (Date.now() - started) / 1000;
    log(`kernel ready in ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s (${built.objects} objects, ` +
      `${(statSync(join(dir, 'vmlinux')).size / 1e6).toFixed(1)} MB vmlinux): ${dir}`);
    return { vmlinux, dir, version: LINUX_SOURCE.version, cached: false, seconds };
  } finally {
    rmSync(work, { recursive: true, force: true });
    release();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const k = await ensureBuiltKernel({ log: (m) => console.error(`[kernel] ${m}`), force: process.argv.includes('--force') });
    console.log(k.vmlinux);
  } catch (err) {
    console.error(`[kernel] ${err.message}`);
    process.exit(err.code === 'EPERM' ? 77 : 3);
  }
}
