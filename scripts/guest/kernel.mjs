/**
 * The guest kernel: the host's installed Debian kernel (linux-image-amd64), booted uncompressed
 * through PVH because decompressing the xz bzImage costs ~5 s under TCG (shared qemu-guest.md).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';

/** xz stream header magic: FD 37 7A 58 5A 00. */
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

function compareVersions(a, b) {
  const pa = a.split(/[.-]/), pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '', y = pb[i] ?? '';
    const nx = Number(x), ny = Number(y);
    const d = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest kernel that has both /boot/vmlinuz-<ver> and /lib/modules/<ver>. */
export function findKernel() {
  const versions = existsSync('/lib/modules') ? readdirSync('/lib/modules') : [];
  const usable = versions.filter((v) => existsSync(`/boot/vmlinuz-${v}`)).sort(compareVersions);
  const version = usable.at(-1);
  if (!version) throw new Error('no kernel found (/boot/vmlinuz-<ver> with /lib/modules/<ver>): install linux-image-amd64');
  return { version, bzImage: `/boot/vmlinuz-${version}`, modules: `/lib/modules/${version}` };
}

/** Writes the uncompressed vmlinux embedded in `bzImage` to `out` (atomically). */
export function extractVmlinux(bzImage, out) {
  const fd = openSync(bzImage, 'r');
  let image;
  try {
    const chunks = [];
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) chunks.push(Buffer.from(buf.subarray(0, n)));
    image = Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
  const at = image.indexOf(XZ_MAGIC);
  if (at < 0) throw new Error(`${bzImage}: no xz stream in the bzImage (only xz-compressed kernels are supported)`);
  // The payload is followed by other data: decode exactly one stream and ignore the rest.
  const r = spawnSync('xz', ['-dc', '--single-stream'], { input: image.subarray(at), maxBuffer: 1 << 30 });
  if (r.status !== 0 || r.stdout.length < 4 || r.stdout.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error(`xz could not extract vmlinux from ${bzImage}: ${String(r.stderr)}`);
  }
  writeFileSync(`${out}.tmp`, r.stdout);
  renameSync(`${out}.tmp`, out);
}

/** ELF note of a PVH entry point (xen/include/public/elfnote.h XEN_ELFNOTE_PHYS32_ENTRY, owner "Xen"). */
const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const PT_NOTE = 4;

/** Whether an ELF64 image has the PVH entry note QEMU looks for (hw/i386/x86-common.c load_linux). */
export function hasPvhNote(image) {
  if (image.length < 64 || image[4] !== 2 || image[5] !== 1) return false; // ELFCLASS64, little-endian
  const phoff = Number(image.readBigUInt64LE(0x20));
  const phentsize = image.readUInt16LE(0x36);
  const phnum = image.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > image.length || image.readUInt32LE(ph) !== PT_NOTE) continue;
    const start = Number(image.readBigUInt64LE(ph + 8));
    const end = Math.min(image.length, start + Number(image.readBigUInt64LE(ph + 32)));
    for (let at = start; at + 12 <= end;) {
      const namesz = image.readUInt32LE(at), descsz = image.readUInt32LE(at + 4), type = image.readUInt32LE(at + 8);
      const name = image.subarray(at + 12, at + 12 + namesz).toString('latin1').replace(/\0+$/, '');
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      at += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3);
    }
  }
  return false;
}

/**
 * A user's kernel for `--kernel PATH`: an ELF vmlinux with a PVH entry, or a bzImage ("HdrS" at
 * 0x202, Documentation/arch/x86/boot.rst). Returns 'vmlinux' | 'bzImage'; throws (code ENOENT /
 * ENOEXEC) with what to do otherwise.
 */
export function checkBootableKernel(path) {
  return inspectKernel(path).format;
}

/** checkBootableKernel plus the release: { format: 'vmlinux' | 'bzImage', release: string | null }. */
export function inspectKernel(path) {
  let image;
  try {
    image = readFileSync(path);
  } catch (err) {
    throw Object.assign(new Error(`--kernel ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`), { code: 'ENOENT' });
  }
  if (image.length > 4 && image.readUInt32BE(0) === 0x7f454c46) {
    if (hasPvhNote(image)) return { format: 'vmlinux', release: kernelRelease(image) };
    throw Object.assign(new Error(`--kernel ${path}: this vmlinux has no PVH entry point (build it with CONFIG_PVH=y) — or pass the bzImage`), { code: 'ENOEXEC' });
  }
  if (image.length > 0x206 && image.toString('latin1', 0x202, 0x206) === 'HdrS') return { format: 'bzImage', release: kernelRelease(image) };
  throw Object.assign(new Error(`--kernel ${path}: not a kernel image (neither an ELF vmlinux nor a bzImage)`), { code: 'ENOEXEC' });
}

/**
 * The release ("6.1.0-57-amd64") of a kernel image: a bzImage's kernel_version string (setup header
 * field at 0x20e, an offset from 0x200, Documentation/arch/x86/boot.rst), or the "Linux version …"
 * banner in a vmlinux. Null when neither is found.
 */
export function kernelRelease(image) {
  if (image.length > 0x210 && image.toString('latin1', 0x202, 0x206) === 'HdrS') {
    const at = image.readUInt16LE(0x20e) + 0x200;
    const end = image.indexOf(0, at);
    if (at > 0x200 && end > at) return image.toString('latin1', at, end).split(' ')[0] || null;
  }
  const banner = image.indexOf('Linux version ');
  if (banner < 0) return null;
  const m = /^Linux version (\S+)/.exec(image.toString('latin1', banner, banner + 200));
  return m ? m[1] : null;
}
