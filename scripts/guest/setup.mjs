#!/usr/bin/env node
/**
 * Prepares the hardware-in-the-loop guest (shared qemu-guest.md): Debian packages, the uncompressed
 * kernel, the busybox initramfs. Cached in .cache/guest/<kernel version>-<hash of these scripts>/;
 * a second run finds the cache and returns in well under a second.
 *
 *   node scripts/guest/setup.mjs          prepare (idempotent) and print the cache folder
 *   node scripts/guest/setup.mjs --force  rebuild the cache
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePackages } from './packages.mjs';
import { extractVmlinux, findKernel } from './kernel.mjs';
import { buildInitramfs } from './initramfs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = resolve(here, '../..');
export const CACHE_ROOT = join(PROJECT_ROOT, '.cache/guest');
/** The files whose content decides what is built: change one and the cache key changes. */
const KEYED_FILES = ['init.sh', 'initramfs.mjs', 'kernel.mjs', 'setup.mjs'];

function scriptsHash() {
  const h = createHash('sha256');
  for (const f of KEYED_FILES) h.update(f).update(readFileSync(join(here, f)));
  return h.digest('hex').slice(0, 12);
}

/**
 * Returns { version, vmlinux, initramfs, dir, cached } for the current kernel, building what is missing.
 * Throws an Error naming the fix when packages are missing and we are not root.
 */
export function ensureGuestImage({ log = () => {}, force = false } = {}) {
  const started = Date.now();
  ensurePackages(log);
  const kernel = findKernel();
  const dir = join(CACHE_ROOT, `${kernel.version}-${scriptsHash()}`);
  const image = { version: kernel.version, dir, vmlinux: join(dir, 'vmlinux'), initramfs: join(dir, 'initramfs.cpio') };
  const stamp = join(dir, 'ready');
  if (!force && existsSync(stamp) && existsSync(image.vmlinux) && existsSync(image.initramfs)) {
    return { ...image, cached: true };
  }
  log(`building the guest image for kernel ${kernel.version} in ${dir}`);
  // Older keys are stale builds (other kernel or scripts): drop them, they are ~70 MB each.
  if (existsSync(CACHE_ROOT)) {
    for (const name of readdirSync(CACHE_ROOT)) {
      if (/^\d.*-[0-9a-f]{12}$/.test(name) && join(CACHE_ROOT, name) !== dir) rmSync(join(CACHE_ROOT, name), { recursive: true, force: true });
    }
  }
  rmSync(stamp, { force: true });
  mkdirSync(dir, { recursive: true });
  extractVmlinux(kernel.bzImage, image.vmlinux);
  const modules = buildInitramfs({ version: kernel.version, initScript: join(here, 'init.sh'), out: image.initramfs });
  writeFileSync(stamp, `${modules.join(' ')}\n`);
  log(`guest image ready (${modules.length} modules) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { ...image, cached: false };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const image = ensureGuestImage({ log: (m) => console.error(`[guest setup] ${m}`), force: process.argv.includes('--force') });
    console.log(image.dir);
  } catch (err) {
    console.error(`[guest setup] ${err.message}`);
    process.exit(err.code === 'EPERM' ? 77 : 1);
  }
}
