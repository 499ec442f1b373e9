/**
 * The guest kernel: the host's installed Debian kernel (linux-image-amd64), booted uncompressed
 * through PVH because decompressing the xz bzImage costs ~5 s under TCG (shared qemu-guest.md).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readSync, renameSync, writeFileSync } from 'node:fs';

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
