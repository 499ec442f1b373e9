/**
 * The QEMU command line of the hardware-in-the-loop guest, exactly as shared qemu-guest.md says:
 * PVH vmlinux + qboot, q35 with an Intel IOMMU doing interrupt remapping (VFIO type1 needs it),
 * 1 vCPU (MSI latency depends on which vCPU takes the interrupt otherwise), 2 GiB, 9p shares.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';

/** The devices a guest can have, with the PCI IDs init.sh binds to vfio-pci. */
export const GUEST_DEVICES = {
  edu: { id: '1234:11e8', spec: 'edu,id=edu0', args: () => ['-device', 'edu,id=edu0'] },
  nvme: {
    id: '1b36:0010',
    spec: 'nvme,serial=deadbeef,drive=nvm0,id=nvme0',
    args: ({ nvmeImage }) => ['-drive', `file=${nvmeImage},if=none,format=raw,id=nvm0`, '-device', 'nvme,serial=deadbeef,drive=nvm0,id=nvme0'],
  },
};

/**
 * The pcie.0 slot of the root port of extra device i (--device): 0x10 + i. Fixed so the guest's /init
 * can find the device behind it (ddk.ports) whatever bus number the guest gives the port; slots
 * 0x01–0x0f are left to edu, nvme and the 9p controllers, 0x1f is q35's ICH9.
 */
export const EXTRA_PORT_FIRST_SLOT = 0x10;
export const MAX_EXTRA_DEVICES = 8;

/**
 * `--device SPEC` → { spec, id, name, slot }: SPEC is a QEMU -device string ("e1000e",
 * "ivshmem-plain,memdev=m0"); it gets an id (its own, or ddkdevN) so QMP device_del can name it.
 */
export function parseExtraDevices(specs) {
  if (!Array.isArray(specs)) throw new TypeError('extra devices must be an array of QEMU -device strings');
  if (specs.length > MAX_EXTRA_DEVICES) throw usageError(`at most ${MAX_EXTRA_DEVICES} --device options`);
  return specs.map((spec, i) => {
    if (typeof spec !== 'string' || !/^[A-Za-z0-9_.-]+(,[^,\s]*)*$/.test(spec)) throw usageError(`bad --device ${JSON.stringify(spec)}: a QEMU -device string such as e1000e or ivshmem-plain,memdev=m0`);
    const name = spec.split(',')[0];
    if (/(^|,)bus=/.test(spec)) throw usageError(`--device ${spec}: leave out bus=, every extra device gets its own root port`);
    const own = /(?:^|,)id=([^,]+)/.exec(spec);
    const id = own ? own[1] : `ddkdev${i}`;
    return { spec: own ? spec : `${spec},id=${id}`, id, name, slot: EXTRA_PORT_FIRST_SLOT + i };
  });
}

export function usageError(message) {
  return Object.assign(new Error(message), { code: 'EUSAGE' });
}

/** The device names this QEMU knows (`-device help`: lines `name "e1000e", bus PCI, …`). */
export function qemuDeviceNames(bin) {
  const r = spawnSync(bin, ['-device', 'help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${bin} -device help failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return new Set([...r.stdout.matchAll(/^name "([^"]+)"/gm)].map((m) => m[1]));
}

/** Throws EUSAGE when an extra device's model is unknown to this QEMU (before anything boots). */
export function checkDeviceNames(bin, extra) {
  if (extra.length === 0) return;
  const known = qemuDeviceNames(bin);
  for (const d of extra) {
    if (!known.has(d.name)) throw usageError(`unknown QEMU device '${d.name}' (--device ${d.spec.replace(/,id=ddkdev\d+$/, '')}): run \`${bin} -device help\` for the models this QEMU has`);
  }
}

/** KVM only where /dev/kvm is writable *and* the CPU has hardware virtualisation; TCG otherwise. */
export function canUseKvm() {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  try {
    return /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** The QEMU to run: a user-built one (--qemu PATH; missing → ENOENT) or the distribution's. */
export function qemuBinary(path) {
  if (path !== undefined) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw Object.assign(new Error(`--qemu ${path}: no such executable: give the path of a qemu-system-x86_64 you built`), { code: 'ENOENT' });
    }
    return path;
  }
  const bin = '/usr/bin/qemu-system-x86_64';
  if (!existsSync(bin)) throw new Error(`${bin} not found: run node scripts/guest/setup.mjs as root`);
  return bin;
}

/**
 * @param {{ vmlinux: string, initramfs: string, resultsDir: string, devices: string[], nvmeImage?: string,
 *           kvm: boolean, cmdline: string[], extra?: { spec: string, slot: number }[], qemuArgs?: string[],
 *           qmpSocket?: string }} o
 */
export function qemuArgs(o) {
  const accel = o.kvm
    ? ['-accel', 'kvm', '-cpu', 'host', '-machine', 'q35,kernel-irqchip=split']
    : ['-accel', 'tcg,thread=multi', '-cpu', 'max', '-machine', 'q35'];
  const devices = [];
  for (const name of o.devices) {
    const dev = GUEST_DEVICES[name];
    if (!dev) throw new RangeError(`unknown guest device '${name}' (known: ${Object.keys(GUEST_DEVICES).join(', ')})`);
    devices.push(...dev.args(o));
  }
  // Each extra device on its own PCIe root port (shared qemu-guest.md "surprise removal works"):
  // its own IOMMU group, and hot-pluggable (pciehp) so QMP device_del/device_add work.
  // Native PCIe hotplug (pciehp) for those ports, not QEMU's default ACPI hotplug of q35 (acpiphp):
  // the iommufd kernel (kernel-iommufd.config) has only pciehp, and both kernels then behave alike.
  if ((o.extra ?? []).length > 0) devices.push('-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off');
  for (const [i, d] of (o.extra ?? []).entries()) {
    const port = `ddkrp${i}`;
    devices.push('-device', `pcie-root-port,id=${port},bus=pcie.0,chassis=${i + 1},slot=${i + 1},addr=0x${d.slot.toString(16)}`,
      '-device', `${d.spec},bus=${port}`);
  }
  return [
    ...accel,
    '-smp', '1', '-m', '2048',
    '-nodefaults', '-no-user-config', '-nographic', '-serial', 'stdio', '-no-reboot',
    '-device', 'intel-iommu,intremap=on,caching-mode=on',
    '-bios', '/usr/share/qemu/qboot.rom',
    '-kernel', o.vmlinux, '-initrd', o.initramfs,
    // no_timer_check: under TCG on a loaded host the IO-APIC timer check can miss its window and the
    // kernel panics ("timer doesn't work through Interrupt-remapped IO-APIC"); the timer does work.
    '-append', ['console=ttyS0', 'intel_iommu=on', 'panic=-1', 'quiet', 'no_timer_check', ...o.cmdline].join(' '),
    // The devices under test first, so edu lands at 00:01.0 (the 9p controllers come after).
    ...devices,
    '-fsdev', 'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    '-fsdev', `local,id=results,path=${o.resultsDir},security_model=none`,
    '-device', 'virtio-9p-pci,fsdev=results,mount_tag=results',
    // The monitor for hot-unplug/plug and reset (qmp.mjs); wait=off: the guest boots without a client.
    ...(o.qmpSocket ? ['-qmp', `unix:${o.qmpSocket},server=on,wait=off`] : []),
    ...(o.qemuArgs ?? []),
  ];
}
