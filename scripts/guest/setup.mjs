#!/usr/bin/env node
/**
 * Prepares the hardware-in-the-loop guest (shared qemu-guest.md): Debian packages, the uncompressed
 * kernel, the busybox initramfs. Three kernels (`kernel` option / --kernel):
 *   debian   the host's installed Debian kernel (6.1 on bookworm), modules in the initramfs; it has no
 *            CONFIG_IOMMUFD, so VFIO runs through the type1 container (default)
 *   iommufd  Linux 6.12 built from Debian's linux-source-6.12 with everything built in
 *            (kernel-build.mjs, cached per user); it has /dev/iommu and the VFIO device cdev
 *   PATH     a user's vmlinux (with a PVH entry) or bzImage: when /lib/modules/<its release> exists
 *            the initramfs gets the guest's modules from there (as for debian), otherwise the kernel
 *            needs virtio-pci, 9p over virtio, vfio-pci and an IOMMU driver built in
 * The initramfs is cached in .cache/guest/<kernel version>-<hash of these scripts>/ (Debian) or
 * .cache/guest/builtin-<hash>/ (the others); a second run finds it in well under a second.
 *
 *   node scripts/guest/setup.mjs [--kernel debian|iommufd|PATH] [--force]   prepare, print the folder
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePackages } from './packages.mjs';
import { extractVmlinux, findKernel, inspectKernel } from './kernel.mjs';
import { buildInitramfs } from './initramfs.mjs';
import { ensureBuiltKernel } from './kernel-build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = resolve(here, '../..');
export const CACHE_ROOT = join(PROJECT_ROOT, '.cache/guest');
/** The files whose content decides what is built: change one and the cache key changes. */
const KEYED_FILES = ['init.sh', 'initramfs.mjs', 'kernel.mjs', 'setup.mjs'];
/** The named kernels, with the VFIO IOMMU path each one gives a device (vfio-open.ts's auto choice). */
export const GUEST_KERNELS = { debian: { iommu: 'type1' }, iommufd: { iommu: 'iommufd' } };

function scriptsHash() {
  const h = createHash('sha256');
  for (const f of KEYED_FILES) h.update(f).update(readFileSync(join(here, f)));
  return h.digest('hex').slice(0, 12);
}

/** 'debian' | 'iommufd' | an absolute path; anything else with a '/' or a '.' is a path too. */
export function parseKernelChoice(value) {
  if (value === undefined || value === null || value === '') return 'debian';
  if (typeof value !== 'string') throw new TypeError('kernel must be a string');
  if (Object.hasOwn(GUEST_KERNELS, value)) return value;
  if (value.includes('/') || value.includes('.')) return resolve(value);
  const err = new Error(`unknown guest kernel '${value}': use debian, iommufd or the path of a vmlinux/bzImage`);
  err.code = 'EUSAGE';
  throw err;
}

/** Drops cached folders that match `pattern` but are not `keep` (stale keys, ~70 MB each). */
function dropStale(pattern, keep) {
  if (!existsSync(CACHE_ROOT)) return;
  for (const name of readdirSync(CACHE_ROOT)) {
    if (pattern.test(name) && join(CACHE_ROOT, name) !== keep) rmSync(join(CACHE_ROOT, name), { recursive: true, force: true });
  }
}

function cachedImage(dir, vmlinux, force) {
  const image = { dir, vmlinux, initramfs: join(dir, 'initramfs.cpio') };
  const ready = !force && existsSync(join(dir, 'ready')) && existsSync(vmlinux) && existsSync(image.initramfs);
  return { image, ready };
}

function debianImage(log, force, started) {
  const kernel = findKernel();
  const dir = join(CACHE_ROOT, `${kernel.version}-${scriptsHash()}`);
  const { image, ready } = cachedImage(dir, join(dir, 'vmlinux'), force);
  const named = { ...image, kernel: 'debian', version: kernel.version, label: `debian ${kernel.version}`, iommu: 'type1' };
  if (ready) return { ...named, cached: true };
  log(`building the guest image for kernel ${kernel.version} in ${dir}`);
  dropStale(/^\d.*-[0-9a-f]{12}$/, dir);
  rmSync(join(dir, 'ready'), { force: true });
  mkdirSync(dir, { recursive: true });
  extractVmlinux(kernel.bzImage, image.vmlinux);
  const modules = buildInitramfs({ version: kernel.version, initScript: join(here, 'init.sh'), out: image.initramfs });
  writeFileSync(join(dir, 'ready'), `${modules.join(' ')}\n`);
  log(`guest image ready (${modules.length} modules) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { ...named, cached: false };
}

/**
 * The initramfs for a kernel other than the host's: with the guest's modules of /lib/modules/<release>
 * when that exists (a distribution kernel), else none (everything built in). Cached per release.
 */
function initramfsFor(log, force, release) {
  const modular = release !== null && existsSync(join('/lib/modules', release));
  const name = modular ? `modules-${release}-${scriptsHash()}` : `builtin-${scriptsHash()}`;
  const dir = join(CACHE_ROOT, name);
  const initramfs = join(dir, 'initramfs.cpio');
  if (!force && existsSync(join(dir, 'ready')) && existsSync(initramfs)) return initramfs;
  if (!modular) dropStale(/^builtin-[0-9a-f]{12}$/, dir);
  mkdirSync(dir, { recursive: true });
  const modules = buildInitramfs({ initScript: join(here, 'init.sh'), out: initramfs, ...(modular ? { version: release } : { modules: [] }) });
  writeFileSync(join(dir, 'ready'), `${modules.join(' ')}\n`);
  log(modular ? `initramfs with ${modules.length} modules of /lib/modules/${release} ready in ${dir}` : `initramfs without modules ready in ${dir}`);
  return initramfs;
}

/**
 * Returns { kernel, label, version, iommu, vmlinux, initramfs, dir, cached } for the chosen kernel,
 * building what is missing. `iommu` is the VFIO path a device gets there ('type1', 'iommufd', or
 * null for a user's kernel: whatever it was built with). Throws an Error naming the fix (code EPERM
 * when packages are missing and we are not root, EUSAGE for a bad choice, EBUILD/ENOEXEC otherwise).
 */
export async function ensureGuestImage({ log = () => {}, force = false, kernel: choice = 'debian' } = {}) {
  const started = Date.now();
  const kernel = parseKernelChoice(choice);
  ensurePackages(log);
  if (kernel === 'debian') return debianImage(log, force, started);
  if (kernel === 'iommufd') {
    const built = await ensureBuiltKernel({ log, force });
    const initramfs = initramfsFor(log, force, null);
    return { kernel, label: `iommufd ${built.version.replace(/-.*$/, '')}`, version: built.version, iommu: 'iommufd',
      vmlinux: built.vmlinux, initramfs, dir: built.dir, cached: built.cached };
  }
  const { format, release } = inspectKernel(kernel);
  const initramfs = initramfsFor(log, force, release);
  return { kernel, label: `${kernel} (${format}${release ? ` ${release}` : ''})`, version: release, iommu: null, vmlinux: kernel, initramfs, dir: dirname(initramfs), cached: true };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--kernel');
  try {
    if (at >= 0 && argv[at + 1] === undefined) throw Object.assign(new Error('--kernel needs debian, iommufd or a path'), { code: 'EUSAGE' });
    const image = await ensureGuestImage({
      log: (m) => console.error(`[guest setup] ${m}`), force: argv.includes('--force'), kernel: at >= 0 ? argv[at + 1] : 'debian',
    });
    console.log(image.dir);
  } catch (err) {
    console.error(`[guest setup] ${err.message}`);
    process.exit(err.code === 'EPERM' ? 77 : err.code === 'EUSAGE' ? 2 : 1);
  }
}
