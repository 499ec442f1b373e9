/**
 * Diagnostics for one device: does it have an IOMMU group, is the group viable (each member and its
 * driver, naming the culprit), is it bound to vfio-pci, can this user open /dev/vfio/<group>, and
 * which VFIO IOMMU path (type1 / iommufd) an open would take and why (vfio-iommu-choice.ts).
 */
import { join } from 'node:path';
import { checkDeviceNode, FINDING_STATUS } from './doctor.ts';
import type { DoctorFinding, DoctorRoots } from './doctor.ts';
import type { PciFunctionInfo, Sysfs } from './sysfs.ts';
import { isVfioDriver, keepsGroupViable } from './sysfs-viability.ts';
import { VFIO_DDK_IOMMU_ENV, decideIommuPath, iommuChoiceFromEnv } from './vfio-iommu-choice.ts';
import type { IommuPathDecision } from './vfio-iommu-choice.ts';

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

/**
 * The IOMMU path `openVfioDevice(bdf)` would take here (VFIO_DDK_IOMMU from `env`), as a finding:
 * ok naming the path and the reason; fail when VFIO_DDK_IOMMU is malformed or forces a path the
 * kernel lacks.
 */
export function iommuPathFinding(sysfs: Sysfs, roots: DoctorRoots, bdf: string, env: NodeJS.ProcessEnv = process.env):
  { finding: DoctorFinding; decision: IommuPathDecision | null } {
  let choice;
  try {
    choice = iommuChoiceFromEnv(env);
  } catch (err) {
    const summary = err instanceof Error ? err.message : String(err);
    return { finding: { id: 'iommu-path', status: FINDING_STATUS.FAIL, summary, fix: `unset ${VFIO_DDK_IOMMU_ENV}` }, decision: null };
  }
  const decision = decideIommuPath(bdf, {
    sysfsRoot: sysfs.root, vfioDir: join(roots.dev, 'vfio'), iommuPath: join(roots.dev, 'iommu'), choice, source: choice === 'auto' ? 'default' : 'env',
  });
  if (decision.unavailable !== null) {
    return { finding: { id: 'iommu-path', status: FINDING_STATUS.FAIL, summary: `${bdf}: ${decision.unavailable} (${decision.reason})`,
      fix: `unset ${VFIO_DDK_IOMMU_ENV} (or ${VFIO_DDK_IOMMU_ENV}=type1), or boot a kernel with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV` }, decision };
  }
  return { finding: { id: 'iommu-path', status: FINDING_STATUS.OK, summary: `${bdf} opens through the ${decision.kind} IOMMU path: ${decision.reason}`, fix: null }, decision };
}

/** Checks `bdf` (throws ERR_BAD_BDF / ENOENT from `sysfs.device`). */
export function diagnoseDevice(sysfs: Sysfs, roots: DoctorRoots, bdf: string, env: NodeJS.ProcessEnv = process.env): DeviceDiagnosis {
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
    findings.push(iommuPathFinding(sysfs, roots, b, env).finding);
  } else {
    const now = device.driver === null ? 'is not bound to any driver' : `is bound to ${device.driver}`;
    findings.push({ id: 'bound', status: FINDING_STATUS.WARN, summary: `${b} ${now}, not vfio-pci`, fix: `sudo vfio-ddk bind ${b}` });
  }
  return { device, members, findings };
}
