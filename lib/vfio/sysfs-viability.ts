/**
 * Whether a function can be opened through VFIO, and if not, why — decided from sysfs facts only.
 *
 * An IOMMU group is the unit of isolation: VFIO hands out a group only when it is *viable*, i.e. every
 * device in it is either unbound or bound to a driver that leaves DMA ownership to its user. Since
 * Linux 5.19 that is the driver's `driver_managed_dma` flag (include/linux/device/driver.h), set by
 * vfio-pci (and its variant drivers), pci-stub and pcieport; before, drivers/vfio/vfio.c kept an
 * equivalent allow-list (pci-stub) plus a bridge exception. Any other bound driver makes the whole group
 * unusable ("group N is not viable"), which is the message users otherwise decode from dmesg.
 */
import type { PciFunctionInfo } from './sysfs.ts';

/** The vfio-pci driver's name under /sys/bus/pci/drivers. */
export const VFIO_PCI_DRIVER = 'vfio-pci';

/** Drivers that do not own DMA and so keep a group viable (driver_managed_dma = true). */
const DMA_NEUTRAL_DRIVERS: ReadonlySet<string> = new Set(['pci-stub', 'pcieport']);

/** vfio-pci and its device-specific variants (mlx5_vfio_pci, hisi_acc_vfio_pci, …). */
export function isVfioDriver(driver: string | null): boolean {
  return driver !== null && (driver === VFIO_PCI_DRIVER || /vfio[-_]pci$/.test(driver));
}

/** True when a function bound to `driver` (null: unbound) does not break its group's viability. */
export function keepsGroupViable(driver: string | null): boolean {
  return driver === null || isVfioDriver(driver) || DMA_NEUTRAL_DRIVERS.has(driver);
}

export interface GroupBlocker {
  readonly bdf: string;
  readonly driver: string;
}

/** The members of a group whose drivers make it not viable (empty: viable). */
export function groupBlockers(members: readonly PciFunctionInfo[]): GroupBlocker[] {
  const blockers: GroupBlocker[] = [];
  for (const m of members) if (m.driver !== null && !keepsGroupViable(m.driver)) blockers.push({ bdf: m.bdf, driver: m.driver });
  return blockers;
}

export const VFIO_READINESS = {
  /** Bound to vfio-pci and the group is viable: can be opened now. */
  READY: 'ready',
  /** Has an IOMMU group; `vfio-ddk bind` would make it ready. */
  BINDABLE: 'bindable',
  /** Bound to vfio-pci (or bindable) but another member of its group blocks the group. */
  GROUP_NOT_VIABLE: 'group-not-viable',
  /** No IOMMU group: the IOMMU is off or does not cover this device. */
  NO_IOMMU_GROUP: 'no-iommu-group',
} as const;
export type VfioReadiness = (typeof VFIO_READINESS)[keyof typeof VFIO_READINESS];

export interface ReadinessVerdict {
  readonly state: VfioReadiness;
  /** One line a user can act on. */
  readonly reason: string;
}

/** Judges `fn` given the other members of its IOMMU group (including itself or not: both work). */
export function vfioReadiness(fn: PciFunctionInfo, groupMembers: readonly PciFunctionInfo[]): ReadinessVerdict {
  if (fn.iommuGroup === null) {
    return { state: VFIO_READINESS.NO_IOMMU_GROUP, reason: 'no IOMMU group (IOMMU off? see `vfio-ddk doctor`)' };
  }
  const others = groupBlockers(groupMembers.filter((m) => m.bdf !== fn.bdf));
  if (others.length > 0) {
    const list = others.map((b) => `${b.bdf} is bound to ${b.driver}`).join(', ');
    return { state: VFIO_READINESS.GROUP_NOT_VIABLE, reason: `group ${fn.iommuGroup} not viable: ${list}` };
  }
  if (isVfioDriver(fn.driver)) return { state: VFIO_READINESS.READY, reason: `VFIO-ready (${fn.driver ?? ''}, group ${fn.iommuGroup})` };
  const now = fn.driver === null ? 'no driver' : `bound to ${fn.driver}`;
  return { state: VFIO_READINESS.BINDABLE, reason: `${now}: run \`vfio-ddk bind ${fn.bdf}\`` };
}
