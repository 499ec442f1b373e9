/**
 * The errors `openVfioDevice` and the VFIO DMA path throw when the machine is not set up, each naming
 * the cause and the fix (DESIGN.md lib/vfio: "group 5 is not viable: 0000:00:03.1 is bound to e1000e").
 * Codes: 'ERR_NOT_VFIO' (device not bound to vfio-pci), 'ERR_GROUP_NOT_VIABLE', 'ERR_NO_VFIO'
 * (/dev/vfio missing), 'ERR_NO_IOMMU' (no IOMMU group / no type1 IOMMU / no interrupt remapping),
 * 'ERR_MEMLOCK' (RLIMIT_MEMLOCK too small for the pinned DMA memory), 'EACCES', 'EBUSY'.
 */
import { readFileSync } from 'node:fs';
import { DdkError } from '../errors.ts';
import type { GroupBlocker } from './sysfs-viability.ts';

export function notBoundError(bdf: string, driver: string | null): DdkError {
  const now = driver === null ? 'is not bound to any driver' : `is bound to ${driver}`;
  return new DdkError('ERR_NOT_VFIO',
    `${bdf} ${now}, not vfio-pci: run \`vfio-ddk bind ${bdf}\` as root ` +
    `(or: echo vfio-pci > /sys/bus/pci/devices/${bdf}/driver_override; ` +
    `${driver === null ? '' : `echo ${bdf} > /sys/bus/pci/devices/${bdf}/driver/unbind; `}` +
    `echo ${bdf} > /sys/bus/pci/drivers_probe)`);
}

export function groupNotViableError(bdf: string, group: number, blockers: readonly GroupBlocker[]): DdkError {
  const culprits = blockers.length === 0
    ? 'a device in it is bound to a host driver (see /sys/kernel/iommu_groups/' + String(group) + '/devices)'
    : blockers.map((b) => `${b.bdf} is bound to ${b.driver}`).join(', ');
  const fix = blockers.length === 0 ? 'bind every device of the group to vfio-pci' : blockers.map((b) => `vfio-ddk bind ${b.bdf}`).join('; ');
  return new DdkError('ERR_GROUP_NOT_VIABLE',
    `IOMMU group ${group} of ${bdf} is not viable: ${culprits}. VFIO hands out a group only when no device in it is driven ` +
    `by the host: bind them to vfio-pci (${fix}) or unbind them`);
}

export function noIommuGroupError(bdf: string): DdkError {
  return new DdkError('ERR_NO_IOMMU',
    `${bdf} has no IOMMU group: the IOMMU is off. Enable VT-d / AMD-Vi in the firmware and boot with ` +
    'intel_iommu=on (Intel) or amd_iommu=on (AMD); check with `vfio-ddk doctor`');
}

export function noVfioError(path: string): DdkError {
  return new DdkError('ERR_NO_VFIO',
    `${path} does not exist: the VFIO modules are not loaded. Run \`modprobe vfio-pci\` (and \`modprobe vfio_iommu_type1\`) as root`);
}

export function noType1Error(): DdkError {
  return new DdkError('ERR_NO_IOMMU',
    'the VFIO container offers no type1v2 IOMMU: run `modprobe vfio_iommu_type1`, and make sure the IOMMU is on (intel_iommu=on / amd_iommu=on)');
}

export function interruptRemappingError(cause: unknown): DdkError {
  return new DdkError('ERR_NO_IOMMU',
    'VFIO_SET_IOMMU was refused (EPERM): the IOMMU does not remap interrupts, so type1 will not isolate MSIs. ' +
    'Enable interrupt remapping (firmware x2APIC/IR; in QEMU -device intel-iommu,intremap=on) or, accepting the risk, ' +
    'load vfio_iommu_type1 with allow_unsafe_interrupts=1', { cause });
}

export function accessError(path: string, cause: unknown): DdkError {
  return new DdkError('EACCES',
    `permission denied opening ${path}: run as root, or give your user the device (chown or a udev rule for /dev/vfio/*) ` +
    'and a memlock limit large enough for DMA', { cause });
}

/**
 * The device (or its group) is open elsewhere. `here`: true when this process holds it (another
 * VfioDevice not closed yet), false when another process does, null when unknown.
 */
export function busyError(bdf: string, group: number, cause: unknown, here: boolean | null = null): DdkError {
  const who = here === true
    ? 'already open in this process (another VfioDevice on it is not closed): close it first'
    : here === false
      ? `already open in another process: close it there (\`fuser -v /dev/vfio/${group} /dev/vfio/devices/*\` names it)`
      : 'already open — by another process or another VfioDevice in this one: close it first';
  return new DdkError('EBUSY', `${bdf} (IOMMU group ${group}) is ${who}`, { cause });
}

/** RLIMIT_MEMLOCK soft limit in bytes (null: unlimited or unknown), from /proc/self/limits. */
export function memlockLimit(): bigint | null {
  try {
    const m = /^Max locked memory\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m === null || m[1] === 'unlimited') return null;
    return BigInt(m[1] as string);
  } catch {
    return null;
  }
}

/** VFIO_IOMMU_MAP_DMA (or the pinning mlock) failed for lack of lockable memory. */
export function memlockError(bytes: number | bigint, cause: unknown): DdkError {
  const limit = memlockLimit();
  const now = limit === null ? 'unknown' : `${limit} bytes`;
  return new DdkError('ERR_MEMLOCK',
    `cannot pin ${String(bytes)} bytes for DMA: the locked-memory limit (RLIMIT_MEMLOCK, now ${now}) is too small. ` +
    'Raise it (`ulimit -l unlimited` as root, LimitMEMLOCK=infinity in a systemd unit, or memlock in /etc/security/limits.conf) ' +
    'or run with CAP_IPC_LOCK', { cause });
}

