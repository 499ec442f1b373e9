/**
 * Diagnostics for one device: does it have an IOMMU group, is the group viable (each member and its
 * driver, naming the culprit), is it bound to vfio-pci, can this user open /dev/vfio/<group>.
 */
import { checkDeviceNode, FINDING_STATUS } from './doctor.ts';
import type { DoctorFinding, DoctorRoots } from './doctor.ts';
import type { PciFunctionInfo, Sysfs } from './sysfs.ts';
import { isVfioDriver, keepsGroupViable } from './sysfs-viability.ts';

export interface GroupMemberReport {
  readonly bdf: string;
  readonly driver: string | null;
  readonly keepsViable: boolean;
}

export interface DeviceDiagnosis {
  readonly device: PciFunctionInfo;
  readonly members: GroupMemberReport[];
  readonly findings: DoctorFinding[];
}

/** Checks `bdf` (throws ERR_BAD_BDF / ENOENT from `sysfs.device`). */
export function diagnoseDevice(sysfs: Sysfs, roots: DoctorRoots, bdf: string): DeviceDiagnosis {
  const device = sysfs.device(bdf);
  const findings: DoctorFinding[] = [];
  const b = device.bdf;
  if (device.iommuGroup === null) {
    findings.push({ id: 'iommu-group', status: FINDING_STATUS.FAIL, summary: `${b} has no IOMMU group`, fix: 'enable the IOMMU: see the "iommu" finding above' });
    return { device, members: [], findings };
  }
  const group = device.iommuGroup;
  findings.push({ id: 'iommu-group', status: FINDING_STATUS.OK, summary: `${b} is in IOMMU group ${group}`, fix: null });

  const members: GroupMemberReport[] = sysfs.groupDevices(group).map((m) => {
    const driver = sysfs.driverOf(m);
    return { bdf: m, driver, keepsViable: keepsGroupViable(driver) };
  });
  const blockers = members.filter((m) => !m.keepsViable);
  if (blockers.length === 0) {
    findings.push({ id: 'group-viable', status: FINDING_STATUS.OK, summary: `group ${group} is viable (${members.length} device(s))`, fix: null });
  } else {
    const list = blockers.map((m) => `${m.bdf} is bound to ${m.driver ?? ''}`).join(', ');
    const others = blockers.filter((m) => m.bdf !== b);
    const fix = others.length > 0 ? `sudo vfio-ddk bind --group ${b}` : `sudo vfio-ddk bind ${b}`;
    findings.push({ id: 'group-viable', status: FINDING_STATUS.FAIL, summary: `group ${group} is not viable: ${list}`, fix });
  }

  if (isVfioDriver(device.driver)) {
    findings.push({ id: 'bound', status: FINDING_STATUS.OK, summary: `${b} is bound to ${device.driver ?? ''}`, fix: null });
    findings.push(checkDeviceNode(roots, String(group)));
  } else {
    const now = device.driver === null ? 'is not bound to any driver' : `is bound to ${device.driver}`;
    findings.push({ id: 'bound', status: FINDING_STATUS.WARN, summary: `${b} ${now}, not vfio-pci`, fix: `sudo vfio-ddk bind ${b}` });
  }
  return { device, members, findings };
}
