/**
 * The bus driver's view of one function's config space: its 4 KiB ECAM window, mapped uncached
 * through a physical VMO — as Fuchsia's bus driver reads and writes config space through an MmioConfig
 * over the ECAM VMO (src/devices/bus/drivers/pci/config.cc). The same VMO is what MapInterrupt hands
 * zx_msi_create for MSI (device_irqs.cc: `cfg_->get_view()` + the capability's base).
 *
 * Offsets past the function's own config space (256 bytes for a conventional function) read all-ones
 * and drop writes, as the platform's ECAM window does. Throws Error when the window cannot be mapped
 * (the platform refused: a bug, not a caller error).
 */
import type { ConfigSpace } from '../../pci/device.ts';
import { ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE } from '../constants/options.ts';
import { ZX_OK } from '../constants/status.ts';
import type { Mapping } from '../objects/mapping.ts';
import { zx_handle_close } from '../syscalls/handle.ts';
import { zx_vmar_map, zx_vmar_root_self, zx_vmar_unmap } from '../syscalls/vmar.ts';
import { zx_vmo_create_physical, zx_vmo_set_cache_policy } from '../syscalls/vmo.ts';
import { PCI_EXT_CONFIG_SIZE } from './pci-constants.ts';

const ECAM_WINDOW = BigInt(PCI_EXT_CONFIG_SIZE);

export class EcamConfig implements ConfigSpace {
  readonly size = PCI_EXT_CONFIG_SIZE;
  /** Physical VMO over the window, ZX_CACHE_POLICY_UNCACHED_DEVICE (what zx_msi_create requires). */
  readonly vmo: number;
  readonly #mapping: Mapping;

  constructor(root: number, ecam: bigint) {
    const vmo = { value: 0 };
    const mapping = { value: null as unknown as Mapping };
    let status = zx_vmo_create_physical(root, ecam, ECAM_WINDOW, vmo);
    if (status === ZX_OK) status = zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE);
    if (status === ZX_OK) status = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo.value, 0n, ECAM_WINDOW, mapping);
    if (status !== ZX_OK) throw new Error(`pci bus: cannot map the ECAM window at 0x${ecam.toString(16)} (status ${status})`);
    this.vmo = vmo.value;
    this.#mapping = mapping.value;
  }

  read8(offset: number): number { return this.#mapping.read8(offset); }
  read16(offset: number): number { return this.#mapping.read16(offset); }
  read32(offset: number): number { return this.#mapping.read32(offset); }
  write8(offset: number, value: number): void { this.#mapping.write8(offset, value); }
  write16(offset: number, value: number): void { this.#mapping.write16(offset, value); }
  write32(offset: number, value: number): void { this.#mapping.write32(offset, value); }

  /** Read-modify-write of a 16-bit register: `(read & ~clear) | set` (device.cc ModifyCmdLocked). */
  modify16(offset: number, clear: number, set: number): void {
    this.write16(offset, (this.read16(offset) & ~clear) | set);
  }

  close(): void {
    zx_vmar_unmap(zx_vmar_root_self(), this.#mapping, ECAM_WINDOW);
    zx_handle_close(this.vmo);
  }
}
