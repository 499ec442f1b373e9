/** Emulated test devices on the Zircon platform, with the physical VMOs the MSI tests need. */
import { createTestDevice, type TestDeviceOptions } from 'vfio-ddk/emu';
import {
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_INFO_MSI, ZX_OK, get_root_resource, programMsiCapability, zx_handle_close, zx_msi_allocate,
  zx_msi_create, zx_object_get_info, zx_platform_attach, zx_vmo_create_physical, zx_vmo_set_cache_policy,
  type PlatformAttachment, type zx_info_msi_t,
} from 'vfio-ddk/zircon';
import type { PciDevice } from 'vfio-ddk';
import { PCI_COMMAND, PCI_COMMAND_MASTER, findMsi } from 'vfio-ddk';
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

export interface MsiInterrupt {
  device: PciDevice;
  /** The interrupt object zx_msi_create made for MSI vector 0. */
  irq: number;
  /** zx_msi_create's status (ZX_OK when `irq` is valid). */
  createStatus: number;
  /** Closes the interrupt, the MSI allocation and the VMO, then the device. */
  close(): void;
}

/**
 * A one-vector MSI test device wired the way a bus driver does it: the platform's MSI allocation,
 * zx_msi_create over the capability in the ECAM VMO, the capability programmed from ZX_INFO_MSI.
 */
export function msiTestInterrupt(): MsiInterrupt {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 1 } });
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('no MSI');
  const vmo = deviceVmo(platform.ecam, 4096n);
  const msi = out(0);
  zx_msi_allocate(get_root_resource(), 1, msi);
  const irq = out(0);
  const createStatus = zx_msi_create(msi.value, 0, 0, vmo, layout.offset, irq);
  const info = out<object>({});
  zx_object_get_info(msi.value, ZX_INFO_MSI, info);
  programMsiCapability(device, info.value as zx_info_msi_t, 1);
  return {
    device, irq: irq.value, createStatus,
    close: () => {
      for (const h of [irq.value, msi.value, vmo]) zx_handle_close(h);
      device.close();
    },
  };
}
