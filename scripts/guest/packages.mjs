/**
 * The Debian packages the guest is built from (shared qemu-guest.md "Packages"): installed with apt
 * when running as root, otherwise a message with the exact command to run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

/** tiny-initramfs satisfies linux-image's initramfs dependency without pulling in udev. */
export const GUEST_PACKAGES = [
  'qemu-system-x86', 'busybox-static', 'cpio', 'kmod', 'xz-utils', 'linux-image-amd64', 'tiny-initramfs',
];

export function installCommand(packages = GUEST_PACKAGES) {
  return `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/** Packages of the list that dpkg does not report as installed. */
export function missingPackages(packages = GUEST_PACKAGES) {
  if (spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('dpkg-query not found: the guest setup needs a Debian-based host (see shared qemu-guest.md)');
  }
  return packages.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/** apt's lists are empty or older than a day: refresh them before installing. */
function aptListsStale() {
  const lists = '/var/lib/apt/lists';
  try {
    const partial = `${lists}/partial`;
    const mtime = statSync(existsSync(partial) ? partial : lists).mtimeMs;
    return Date.now() - mtime > 24 * 3600 * 1000;
  } catch {
    return true;
  }
}

/** Installs what is missing. Throws (with the command to run) when that needs root and we are not. */
export function ensurePackages(log, packages = GUEST_PACKAGES) {
  const missing = missingPackages(packages);
  if (missing.length === 0) return false;
  if (process.getuid?.() !== 0) {
    const err = new Error(
      `the QEMU guest needs these Debian packages: ${missing.join(' ')}\n` +
      `install them as root:\n  sudo sh -c '${installCommand(missing)}'`);
    err.code = 'EPERM';
    throw err;
  }
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing],
    { stdio: ['ignore', 'pipe', 'pipe'], env, encoding: 'utf8' });
  if (aptListsStale()) execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  let r = install();
  if (r.status !== 0) {
    // A stale list makes apt ask for package versions the mirror no longer has: refresh once, retry.
    execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    r = install();
  }
  if (r.status !== 0) {
    throw new Error(`apt-get install failed (status ${r.status}):\n${(r.stderr || r.stdout).slice(-2000)}`);
  }
  return true;
}
