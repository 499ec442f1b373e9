/**
 * The QEMU command line of the hardware-in-the-loop guest, exactly as shared qemu-guest.md says:
 * PVH vmlinux + qboot, q35 with an Intel IOMMU doing interrupt remapping (VFIO type1 needs it),
 * 1 vCPU (MSI latency depends on which vCPU takes the interrupt otherwise), 2 GiB, 9p shares.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';

/** The devices a guest can have, with the PCI IDs init.sh binds to vfio-pci. */
export const GUEST_DEVICES = {
  edu: { id: '1234:11e8', args: () => ['-device', 'edu'] },
  nvme: {
    id: '1b36:0010',
    args: ({ nvmeImage }) => ['-drive', `file=${nvmeImage},if=none,format=raw,id=nvm0`, '-device', 'nvme,serial=deadbeef,drive=nvm0'],
  },
};

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

export function qemuBinary() {
  const bin = '/usr/bin/qemu-system-x86_64';
  if (!existsSync(bin)) throw new Error(`${bin} not found: run node scripts/guest/setup.mjs as root`);
  return bin;
}

/**
 * @param {{ vmlinux: string, initramfs: string, resultsDir: string, devices: string[], nvmeImage?: string,
 *           kvm: boolean, cmdline: string[] }} o
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
  ];
}
