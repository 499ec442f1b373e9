#!/usr/bin/env node
/**
 * Runs a command inside the hardware-in-the-loop QEMU guest (edu and NVMe bound to vfio-pci) at the
 * current directory, streaming its console, and exits with the command's exit status.
 *
 *   node scripts/guest/run.mjs [--devices edu,nvme] [--timeout 300] -- <command…>
 *   node scripts/guest/run.mjs --shell            interactive shell in the guest (exit to power off)
 *   --append 'vfio_iommu_type1.allow_unsafe_interrupts=1'   extra kernel command line (repeatable)
 *   --kernel debian|iommufd|PATH   the guest kernel (setup.mjs; default debian)
 *   --device SPEC      an extra QEMU device ("e1000e", "pci-testdev", your model) on its own root port,
 *                      bound to vfio-pci (repeatable; VFIO_DDK_DEVICES describes them in the guest)
 *   --qemu-arg ARG     passed to QEMU as-is (repeatable: -object/-drive/-netdev a device needs)
 *   --qemu PATH        a QEMU you built (default /usr/bin/qemu-system-x86_64)
 */
import { runInGuest } from './guest.mjs';

function usage(message) {
  if (message) console.error(`run.mjs: ${message}`);
  console.error('usage: node scripts/guest/run.mjs [--kernel debian|iommufd|PATH] [--devices edu,nvme] [--timeout SECONDS] [--append KERNEL-ARGS] [--device SPEC]… [--qemu-arg ARG]… [--qemu PATH] (--shell | -- COMMAND…)');
  process.exit(2);
}

const argv = process.argv.slice(2);
const options = { devices: ['edu', 'nvme'] };
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') { i++; break; }
  if (a === '--shell') options.shell = true;
  else if (a === '--devices') {
    const v = argv[++i];
    if (v === undefined) usage('--devices needs a value');
    options.devices = v === 'none' || v === '' ? [] : v.split(',');
  } else if (a === '--kernel') {
    const v = argv[++i];
    if (v === undefined || v === '') usage('--kernel needs debian, iommufd or the path of a vmlinux/bzImage');
    options.kernel = v;
  } else if (a === '--device' || a === '--qemu-arg' || a === '--qemu') {
    const v = argv[++i];
    if (v === undefined || v === '') usage(`${a} needs a value`);
    if (a === '--device') (options.extraDevices ??= []).push(v);
    else if (a === '--qemu-arg') (options.qemuArgs ??= []).push(v);
    else options.qemu = v;
  } else if (a === '--append') {
    const v = argv[++i];
    if (v === undefined) usage('--append needs a value');
    (options.append ??= []).push(...v.split(/\s+/).filter(Boolean));
  } else if (a === '--timeout') {
    const v = Number(argv[++i]);
    if (!(v > 0)) usage('--timeout needs a number of seconds');
    options.timeoutMs = v * 1000;
  } else if (a === '-h' || a === '--help') usage();
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else break;
}
const command = argv.slice(i);
if (!options.shell && command.length === 0) usage('no command');
if (options.shell && command.length > 0) usage('--shell takes no command');
if (!options.shell) options.command = command.length === 1 ? command[0] : command.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ');

try {
  const r = await runInGuest(options);
  console.error(`[guest] done: status ${r.status}, boot ${r.bootSeconds?.toFixed(1) ?? '?'} s, total ${r.seconds.toFixed(1)} s (${r.accel}, ${r.kernel})`);
  process.exit(r.status);
} catch (err) {
  console.error(`[guest] ${err.message}`);
  process.exit(err.code === 'EPERM' ? 77 : err.code === 'EUSAGE' ? 2 : err.code === 'ENOENT' ? 3 : 1);
}
