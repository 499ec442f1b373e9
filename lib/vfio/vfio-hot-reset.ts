/**
 * A hot reset (secondary-bus or slot reset) of a VFIO device: which functions it reaches and what the
 * kernel needs as proof that this process owns all of them (drivers/vfio/pci/vfio_pci_core.c, Linux
 * 6.12: vfio_pci_ioctl_get_pci_hot_reset_info, vfio_pci_ioctl_pci_hot_reset, vfio_pci_dev_set_hot_reset).
 *
 * * type1 (group flow): one open VFIO group fd per IOMMU group of an affected function
 *   (vfio_pci_ioctl_pci_hot_reset_groups → vfio_dev_in_groups). The fds come from this process's open
 *   `VfioDevice`s; a function whose group nobody here has open blocks the reset.
 * * iommufd (cdev flow, Linux ≥ 6.6): an empty array; every affected function must be bound to this
 *   device's iommufd (vfio_iommufd_get_dev_id > 0 or -ENOENT). GET_PCI_HOT_RESET_INFO says so up front:
 *   VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED, else each blocker has devid VFIO_PCI_DEVID_NOT_OWNED.
 *
 * ENODEV from either ioctl means neither the slot nor the bus can be reset (pci_probe_reset_slot and
 * pci_probe_reset_bus fail): a function on the root bus, like the guest's edu and NVMe.
 */
import type { HotResetInfo, NativeAddon } from '../native/addon-types.ts';
import { VFIO_PCI_DEVID_NOT_OWNED, VFIO_PCI_HOT_RESET_FLAG_DEV_ID, VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED } from '../native/vfio-uapi.ts';
import { DdkError, errnoCode } from '../errors.ts';

/** What a hot reset of one device needs from the other open devices of the process. */
export interface HotResetOwner {
  readonly bdf: string;
  readonly group: number;
  /** Its group fd (type1), or null (cdev flow). */
  readonly groupFd: number | null;
}

export interface HotResetPlan {
  /** Every function the reset reaches ("0000:01:00.0"), this one included. */
  readonly affected: string[];
  /** The group fds for VFIO_DEVICE_PCI_HOT_RESET ([] on the cdev flow). */
  readonly groupFds: number[];
}

function notResettable(bdf: string, cause: unknown): DdkError {
  return new DdkError('ENOTSUP', `${bdf} cannot be hot reset: neither its slot nor its bus can be reset (a function on the root bus ` +
    'has no bridge above it to reset); use reset() where the function has a reset of its own', { cause });
}

/** VFIO_DEVICE_GET_PCI_HOT_RESET_INFO with ENODEV as 'ENOTSUP'. */
export function hotResetInfo(addon: NativeAddon, deviceFd: number, bdf: string): HotResetInfo {
  try {
    return addon.vfioDeviceGetPciHotResetInfo(deviceFd);
  } catch (error) {
    if (errnoCode(error) === 'ENODEV') throw notResettable(bdf, error);
    throw error;
  }
}

/**
 * The group fds the kernel needs for a hot reset of `self`, or a DdkError 'EPERM' naming each function
 * that blocks it and what to do. `open` lists the process's open devices (self included).
 */
export function planHotReset(info: HotResetInfo, self: HotResetOwner, open: readonly HotResetOwner[]): HotResetPlan {
  const affected = info.devices.map((d) => d.bdf);
  if ((info.flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID) !== 0) {
    if ((info.flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED) !== 0) return { affected, groupFds: [] };
    const blockers = info.devices.filter((d) => d.groupId === VFIO_PCI_DEVID_NOT_OWNED).map((d) => d.bdf);
    throw new DdkError('EPERM', `hot reset of ${self.bdf} also resets ${blockers.join(', ')}, which ${blockers.length === 1 ? 'is' : 'are'} not ` +
      `bound to ${self.bdf}'s iommufd (the cdev flow needs every affected function in the same iommufd, and each openVfioDevice ` +
      'has its own): release them from other users, or open every function of the bus with iommu: \'type1\' and reset from there');
  }
  const groupFds: number[] = [];
  const missing: string[] = [];
  for (const d of info.devices) {
    const owner = d.bdf === self.bdf ? self : open.find((o) => o.group === d.groupId && o.groupFd !== null);
    const fd = owner?.groupFd ?? null;
    if (fd === null) missing.push(`${d.bdf} (IOMMU group ${d.groupId})`);
    else if (!groupFds.includes(fd)) groupFds.push(fd);
  }
  if (missing.length > 0) {
    throw new DdkError('EPERM', `hot reset of ${self.bdf} also resets ${missing.join(', ')}, whose group this process has not opened: ` +
      'bind them to vfio-pci and open them with openVfioDevice first (the kernel wants every affected group\'s fd as proof of ownership)');
  }
  return { affected, groupFds };
}

/** VFIO_DEVICE_PCI_HOT_RESET with the kernel's refusals as DdkErrors that say what to do. */
export function pciHotReset(addon: NativeAddon, deviceFd: number, bdf: string, plan: HotResetPlan): void {
  try {
    addon.vfioDevicePciHotReset(deviceFd, plan.groupFds);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENODEV') throw notResettable(bdf, error);
    if (code === 'EINVAL') {
      throw new DdkError('EPERM', `the kernel refused the hot reset of ${bdf}: a function of ${plan.affected.join(', ')} is not ` +
        'owned by this process (held by another user or driver, or opened differently): close it elsewhere and retry', { cause: error });
    }
    throw error;
  }
}
