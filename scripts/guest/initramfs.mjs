/**
 * The guest's initramfs: static busybox, the modules for virtio-9p and vfio-pci in dependency order,
 * and /init (init.sh beside this file). Uncompressed, so the guest spends no time decompressing it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** What the guest needs: virtio-pci + 9p for the host root, vfio-pci + type1 for the devices. */
export const GUEST_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'vfio_iommu_type1', 'vfio_pci'];

/**
 * Module files in load order, resolved by modprobe for this kernel version (never hard-coded):
 * each `insmod <path>` line of `modprobe --show-depends`, first occurrence wins; built-ins are skipped.
 */
export function moduleLoadOrder(version, modules = GUEST_MODULES) {
  const order = [];
  for (const name of modules) {
    const r = spawnSync('modprobe', ['-S', version, '--show-depends', name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`modprobe -S ${version} --show-depends ${name} failed: ${r.stderr.trim()}`);
    for (const line of r.stdout.split('\n')) {
      const m = /^insmod (\S+)/.exec(line);
      if (m && !order.includes(m[1])) order.push(m[1]);
    }
  }
  if (order.length === 0) throw new Error(`modprobe found no modules for ${modules.join(' ')} in kernel ${version}`);
  return order;
}

/** Copies a module into the image, decompressing .ko.xz / .ko.zst (busybox insmod takes plain .ko). */
function copyModule(path, dir) {
  const m = /^(.*\.ko)(?:\.(xz|zst|gz))?$/.exec(basename(path));
  if (!m) throw new Error(`unexpected module file name ${path}`);
  const out = join(dir, m[1]);
  if (!m[2]) copyFileSync(path, out);
  else {
    const tool = { xz: 'xz', zst: 'zstd', gz: 'gzip' }[m[2]];
    writeFileSync(out, execFileSync(tool, ['-dc', path], { maxBuffer: 1 << 28 }));
  }
  return m[1];
}

/**
 * Builds `out` (newc cpio) from busybox, the module files and init.sh. Files are owned by root in
 * the archive whoever builds it (cpio -R 0:0); no device nodes are needed (init mounts devtmpfs first).
 * `modules`: the module files to include in load order (default: those of GUEST_MODULES for kernel
 * `version`); [] for a kernel with everything built in (/modules.order is then empty).
 */
export function buildInitramfs({ version, initScript, busybox = '/bin/busybox', out, modules }) {
  const stage = `${out}.stage`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'bin'), { recursive: true });
  mkdirSync(join(stage, 'modules'));
  copyFileSync(busybox, join(stage, 'bin/busybox'));
  chmodSync(join(stage, 'bin/busybox'), 0o755);
  copyFileSync(initScript, join(stage, 'init'));
  chmodSync(join(stage, 'init'), 0o755);
  const files = (modules ?? moduleLoadOrder(version)).map((path) => copyModule(path, join(stage, 'modules')));
  writeFileSync(join(stage, 'modules.order'), files.map((f) => `${f}\n`).join(''));
  const list = execFileSync('find', ['.', '-mindepth', '1'], { cwd: stage, encoding: 'utf8' });
  const cpio = spawnSync('cpio', ['-o', '-H', 'newc', '-R', '0:0', '--quiet'],
    { cwd: stage, input: list, maxBuffer: 1 << 30 });
  if (cpio.status !== 0) throw new Error(`cpio failed: ${String(cpio.stderr)}`);
  writeFileSync(`${out}.tmp`, cpio.stdout);
  renameSync(`${out}.tmp`, out);
  rmSync(stage, { recursive: true, force: true });
  return files;
}
