/**
 * Host diagnostics for VFIO: each check returns a finding with a status and, when not ok, the exact
 * command that fixes it. Everything is read from files (roots injectable for tests), never from dmesg,
 * which unprivileged users often cannot read.
 *
 * Interrupt remapping (VFIO type1 refuses to attach a group without it unless
 * vfio_iommu_type1.allow_unsafe_interrupts=1, drivers/vfio/vfio_iommu_type1.c) is judged in this order:
 * 1. /proc/interrupts lists chips with an "IR-" prefix (IR-PCI-MSI, IR-IO-APIC): remapping is in use.
 * 2. /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts is Y: works, but unsafe.
 * 3. /sys/class/iommu/<dmar>/intel-iommu/ecap bit 3 (IR, Intel VT-d spec §11.4.3) set: the hardware
 *    can remap but the kernel is not doing it (intremap=off?).
 * Otherwise it fails.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readText } from './sysfs-files.ts';

export const FINDING_STATUS = { OK: 'ok', WARN: 'warn', FAIL: 'fail' } as const;
export type FindingStatus = (typeof FINDING_STATUS)[keyof typeof FINDING_STATUS];

export interface DoctorFinding {
  /** Stable identifier for scripts ("iommu", "interrupt-remapping", …). */
  readonly id: string;
  readonly status: FindingStatus;
  /** What was found, one line. */
  readonly summary: string;
  /** The exact command (or edit) that fixes it; null when ok or nothing to run. */
  readonly fix: string | null;
}

export interface DoctorRoots {
  readonly sys: string;
  readonly proc: string;
  readonly dev: string;
  /** Effective uid (root needs no memlock limit and may open any /dev/vfio node). */
  readonly uid: number;
}

/** Locked memory an unprivileged VFIO user should have: DMA mappings are pinned and counted (type1). */
export const MEMLOCK_RECOMMENDED_BYTES = 64 * 1024 * 1024;

/** Intel VT-d Extended Capability register bit 3: Interrupt Remapping support (VT-d spec §11.4.3). */
const DMAR_ECAP_IR = 1n << 3n;

const ok = (id: string, summary: string): DoctorFinding => ({ id, status: FINDING_STATUS.OK, summary, fix: null });
const warn = (id: string, summary: string, fix: string | null): DoctorFinding => ({ id, status: FINDING_STATUS.WARN, summary, fix });
const fail = (id: string, summary: string, fix: string | null): DoctorFinding => ({ id, status: FINDING_STATUS.FAIL, summary, fix });

function cpuVendor(proc: string): 'intel' | 'amd' | 'unknown' {
  const info = readText(join(proc, 'cpuinfo')) ?? '';
  if (info.includes('GenuineIntel')) return 'intel';
  if (info.includes('AuthenticAMD')) return 'amd';
  return 'unknown';
}

/** IOMMU on: /sys/kernel/iommu_groups has groups (the one fact VFIO depends on). */
export function checkIommu(r: DoctorRoots): DoctorFinding {
  const groups = listDir(join(r.sys, 'kernel', 'iommu_groups')) ?? [];
  const units = listDir(join(r.sys, 'class', 'iommu')) ?? [];
  const cmdline = readText(join(r.proc, 'cmdline')) ?? '';
  const flags = cmdline.split(/\s+/).filter((w) => /^(intel_iommu|amd_iommu|iommu)=/.test(w));
  const on = flags.length > 0 ? ` (cmdline: ${flags.join(' ')})` : '';
  if (groups.length > 0) return ok('iommu', `IOMMU on: ${groups.length} IOMMU group(s), units: ${units.join(', ') || 'none listed'}${on}`);
  const param = cpuVendor(r.proc) === 'amd' ? 'amd_iommu=on' : 'intel_iommu=on';
  const fix = `sudo sed -i 's/^GRUB_CMDLINE_LINUX="/&${param} iommu=pt /' /etc/default/grub && sudo update-grub && sudo reboot`
    + ' (in a VM: give it a vIOMMU, e.g. QEMU -device intel-iommu,intremap=on)';
  const why = units.length === 0 ? 'no IOMMU unit in /sys/class/iommu' : `IOMMU units ${units.join(', ')} but no groups`;
  return fail('iommu', `IOMMU off: /sys/kernel/iommu_groups is empty; ${why}${on}`, fix);
}

/** Interrupt remapping, by the method in the file comment. */
export function checkInterruptRemapping(r: DoctorRoots): DoctorFinding {
  const path = join(r.proc, 'interrupts');
  let interrupts: string | null;
  try {
    interrupts = readText(path);
  } catch (err) {
    // readText throws DdkError "cannot read <path>: EACCES (…)" for anything but a missing file.
    return fail('interrupt-remapping', `${err instanceof Error ? err.message : String(err)}: interrupt remapping cannot be judged without it`, 'run as root, or remount /proc without hidepid');
  }
  // Without it the remaining methods could call an IR-capable host "not remapping": fail, saying so.
  if (interrupts === null) return fail('interrupt-remapping', `cannot read ${path}: no such file (is /proc mounted?); interrupt remapping cannot be judged without it`, 'sudo mount -t proc proc /proc');
  if (/\sIR-[A-Za-z]/.test(interrupts)) return ok('interrupt-remapping', 'interrupt remapping in use ("IR-" chips in /proc/interrupts)');
  const unsafe = readText(join(r.sys, 'module', 'vfio_iommu_type1', 'parameters', 'allow_unsafe_interrupts'));
  if (unsafe === 'Y' || unsafe === '1') {
    return warn('interrupt-remapping', 'no interrupt remapping; VFIO allowed anyway by allow_unsafe_interrupts=Y (a device can inject arbitrary MSIs)',
      'enable remapping: boot with intremap=on (VM: -device intel-iommu,intremap=on)');
  }
  const capable = (listDir(join(r.sys, 'class', 'iommu')) ?? []).filter((unit) => {
    const ecap = readText(join(r.sys, 'class', 'iommu', unit, 'intel-iommu', 'ecap'));
    return ecap !== null && /^(0x)?[0-9a-f]+$/i.test(ecap) && (BigInt(`0x${ecap.replace(/^0x/i, '')}`) & DMAR_ECAP_IR) !== 0n;
  });
  const unsafeFix = 'or (unsafe) echo 1 | sudo tee /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts';
  if (capable.length > 0) {
    return warn('interrupt-remapping', `${capable.join(', ')} support interrupt remapping (ecap bit 3) but no "IR-" chips in /proc/interrupts`,
      `remove intremap=off from the kernel command line and reboot, ${unsafeFix}`);
  }
  return fail('interrupt-remapping', 'no interrupt remapping: VFIO_SET_IOMMU will fail with EPERM',
    `boot with intremap=on on an IOMMU that supports it (VM: -device intel-iommu,intremap=on), ${unsafeFix}`);
}

/** vfio, vfio_iommu_type1 and vfio-pci registered. */
export function checkVfioModules(r: DoctorRoots): DoctorFinding {
  const driver = (listDir(join(r.sys, 'bus', 'pci', 'drivers')) ?? []).includes('vfio-pci');
  const type1 = (listDir(join(r.sys, 'module')) ?? []).includes('vfio_iommu_type1');
  if (driver && type1) return ok('vfio-modules', 'vfio-pci and vfio_iommu_type1 loaded');
  const missing = [...(driver ? [] : ['vfio-pci']), ...(type1 ? [] : ['vfio_iommu_type1'])];
  return fail('vfio-modules', `not loaded: ${missing.join(', ')}`, `sudo modprobe -a ${missing.join(' ')}`);
}

function accessible(path: string): 'rw' | 'denied' | 'missing' {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return 'rw';
  } catch (err) {
    return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT' ? 'missing' : 'denied';
  }
}

/** A /dev/vfio node is present and readable+writable by this user. */
export function checkDeviceNode(r: DoctorRoots, name: string): DoctorFinding {
  const path = join(r.dev, 'vfio', name);
  const id = name === 'vfio' ? 'dev-vfio' : `dev-vfio-${name}`;
  const state = accessible(path);
  // The container node is char 10:196 (drivers/vfio/container.c, misc device "vfio"): a regular file
  // left by a mistaken `echo > /dev/vfio/vfio` passes the access check but is no VFIO at all.
  if (state === 'rw' && name === 'vfio' && !statSync(path).isCharacterDevice()) {
    return fail(id, `${path} is not a character device (VFIO's container node is char 10:196)`, `sudo rm ${path} && sudo modprobe -r vfio_pci vfio_iommu_type1 vfio && sudo modprobe vfio-pci`);
  }
  if (state === 'rw') return ok(id, `${path} is readable and writable by uid ${r.uid}`);
  if (state === 'missing') {
    return fail(id, `${path} does not exist`, name === 'vfio' ? 'sudo modprobe vfio' : 'sudo vfio-ddk bind <bdf> (the group node appears once a member is bound to vfio-pci)');
  }
  return fail(id, `${path} is not accessible to uid ${r.uid}`, `sudo chown "$(id -un)" ${path}`);
}

/** Soft RLIMIT_MEMLOCK from /proc/self/limits, in bytes (Infinity: unlimited), or null if unreadable. */
export function readMemlockLimit(proc: string): number | null {
  const limits = readText(join(proc, 'self', 'limits'));
  const m = limits === null ? null : /^Max locked memory\s+(\S+)/m.exec(limits);
  if (m === null || m[1] === undefined) return null;
  return m[1] === 'unlimited' ? Infinity : /^\d+$/.test(m[1]) ? Number(m[1]) : null;
}

export function checkMemlock(r: DoctorRoots): DoctorFinding {
  const limit = readMemlockLimit(r.proc);
  const fix = 'sudo prlimit --pid $$ --memlock=unlimited:unlimited (this shell), or for good: add "<user> - memlock unlimited" to /etc/security/limits.conf';
  if (limit === null) return warn('memlock', 'cannot read "Max locked memory" from /proc/self/limits', null);
  const shown = limit === Infinity ? 'unlimited' : `${Math.floor(limit / 1024)} KiB`;
  if (r.uid === 0) return ok('memlock', `running as root (CAP_IPC_LOCK): DMA pinning is not limited (RLIMIT_MEMLOCK ${shown})`);
  if (limit >= MEMLOCK_RECOMMENDED_BYTES) return ok('memlock', `RLIMIT_MEMLOCK ${shown}`);
  return warn('memlock', `RLIMIT_MEMLOCK is ${shown}: DMA mappings beyond it fail with ENOMEM (recommended ≥ 64 MiB)`, fix);
}

/** The host-wide checks, in the order a user fixes them. */
export function hostChecks(r: DoctorRoots): DoctorFinding[] {
  return [checkIommu(r), checkInterruptRemapping(r), checkVfioModules(r), checkDeviceNode(r, 'vfio'), checkMemlock(r)];
}
