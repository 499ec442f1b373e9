/**
 * What `list` and `info` say about a function: sysfs facts, names, interrupt capabilities from its
 * config bytes, and VFIO readiness judged against its IOMMU group.
 */
import type { PciIds } from '../vfio/pci-ids.ts';
import { interruptCapabilities } from '../vfio/sysfs-config.ts';
import type { InterruptCapabilities } from '../vfio/sysfs-config.ts';
import { vfioReadiness } from '../vfio/sysfs-viability.ts';
import type { ReadinessVerdict } from '../vfio/sysfs-viability.ts';
import type { PciFunctionInfo, Sysfs } from '../vfio/sysfs.ts';
import { hex } from './output.ts';

export interface DeviceReport extends PciFunctionInfo {
  /** "1234:11e8" */
  readonly ids: string;
  readonly vendorName: string | null;
  readonly deviceName: string | null;
  readonly className: string | null;
  readonly interrupts: InterruptCapabilities;
  readonly vfio: ReadinessVerdict;
}

/** Builds reports for `functions`; `all` is every function on the bus (to judge groups without re-reading). */
export function deviceReports(sysfs: Sysfs, ids: PciIds, functions: readonly PciFunctionInfo[], all: readonly PciFunctionInfo[]): DeviceReport[] {
  const byGroup = new Map<number, PciFunctionInfo[]>();
  for (const f of all) {
    if (f.iommuGroup === null) continue;
    const list = byGroup.get(f.iommuGroup) ?? [];
    list.push(f);
    byGroup.set(f.iommuGroup, list);
  }
  return functions.map((f) => ({
    ...f,
    ids: `${hex(f.vendorId, 4)}:${hex(f.deviceId, 4)}`,
    vendorName: ids.vendorName(f.vendorId),
    deviceName: ids.deviceName(f.vendorId, f.deviceId),
    className: ids.className(f.classCode),
    interrupts: interruptCapabilities(sysfs.readConfig(f.bdf)),
    vfio: vfioReadiness(f, f.iommuGroup === null ? [] : membersOf(sysfs, f.iommuGroup, byGroup)),
  }));
}

/** Members of a group: from the bus listing, plus any the group directory names that it missed. */
function membersOf(sysfs: Sysfs, group: number, byGroup: Map<number, PciFunctionInfo[]>): PciFunctionInfo[] {
  const known = byGroup.get(group) ?? [];
  const extra = sysfs.groupDevices(group).filter((b) => !known.some((k) => k.bdf === b) && sysfs.has(b));
  return [...known, ...extra.map((b) => sysfs.device(b))];
}
