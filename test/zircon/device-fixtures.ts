/** Emulated test devices on the Zircon platform, with the physical VMOs the MSI tests need. */
import { createTestDevice, type TestDeviceOptions } from 'vfio-ddk/emu';
import {
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_OK, get_root_resource, zx_platform_attach, zx_vmo_create_physical, zx_vmo_set_cache_policy,
  type PlatformAttachment,
} from 'vfio-ddk/zircon';
import type { PciDevice } from 'vfio-ddk';
import { PCI_COMMAND, PCI_COMMAND_MASTER } from 'vfio-ddk';
import { out } from './helpers.ts';

export interface AttachedDevice {
  device: PciDevice;
  platform: PlatformAttachment;
}

/** A test device with Bus Master Enable set (MSI needs it), attached to the platform. */
export function attachedTestDevice(options: TestDeviceOptions): AttachedDevice {
  const device = createTestDevice(options) as unknown as PciDevice;
  device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MASTER);
  return { device, platform: zx_platform_attach(device) };
}

/** A physical VMO over [paddr, paddr+size) with UNCACHED_DEVICE policy (what zx_msi_create wants). */
export function deviceVmo(paddr: bigint, size: bigint): number {
  const vmo = out(0);
  if (zx_vmo_create_physical(get_root_resource(), paddr, size, vmo) !== ZX_OK) throw new Error('zx_vmo_create_physical failed');
  if (zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE) !== ZX_OK) throw new Error('set_cache_policy failed');
  return vmo.value;
}

export function pageRound(size: bigint): bigint {
  return (size + 4095n) / 4096n * 4096n;
}
