/**
 * ddi_get_instance(9F) and ddi_driver_name(9F). illumos numbers the instances of a driver 0, 1, 2 …
 * in the order their nodes are first bound and keeps a device's number across reboots
 * (path_to_inst). Here the "driver" is the node's PCI binding name `pci<vendor>,<device>` (the
 * first name in its "compatible", as illumos forms it with "pci%x,%x"), the path is the BDF: the
 * first dev_info of a binding asked for its instance gets 0, the next new BDF 1, and a BDF opened
 * again gets its old number back for the life of the process.
 */
import { isDevInfo, type dev_info_t } from '../dev-info.ts';

const byName = new Map<string, Map<string, number>>();

/** ddi_driver_name(9F): the binding name, e.g. "pci1b36,10" for QEMU's NVMe; "" for a bad dip. */
export function ddi_driver_name(dip: dev_info_t | null): string {
  if (!isDevInfo(dip)) return '';
  const { vendorId, deviceId } = dip.device.identity;
  return `pci${vendorId.toString(16)},${deviceId.toString(16)}`;
}

/** ddi_get_instance(9F): the instance number; -1 for a dip that is not one. */
export function ddi_get_instance(dip: dev_info_t | null): number {
  if (!isDevInfo(dip)) return -1;
  const name = ddi_driver_name(dip);
  let paths = byName.get(name);
  if (paths === undefined) {
    paths = new Map();
    byName.set(name, paths);
  }
  let instance = paths.get(dip.device.bdf);
  if (instance === undefined) {
    instance = paths.size;
    paths.set(dip.device.bdf, instance);
  }
  return instance;
}
