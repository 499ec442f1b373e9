/**
 * Configuration space through vfio-pci's config region (VFIO_PCI_CONFIG_REGION_INDEX): every access is
 * one pread/pwrite of exactly the access width, so the kernel's config virtualisation (BARs, MSI/MSI-X
 * capability, Command bits it owns) sees the same accesses a kernel driver would make.
 */
import type { ConfigSpace } from '../pci/device.ts';
import type { NativeAddon, RegionInfo } from '../native/addon-types.ts';
import { checkAccess } from '../errors.ts';
import type { DeviceGate } from './vfio-gate.ts';

export class VfioConfigSpace implements ConfigSpace {
  readonly size: number;
  readonly #addon: NativeAddon;
  readonly #fd: number;
  readonly #offset: bigint;
  readonly #regionSize: bigint;
  readonly #gate: DeviceGate;

  constructor(addon: NativeAddon, deviceFd: number, region: RegionInfo, gate: DeviceGate) {
    this.#addon = addon;
    this.#fd = deviceFd;
    this.#offset = region.offset;
    this.#regionSize = region.size;
    this.#gate = gate;
    // 256 bytes for conventional PCI, 4096 for PCIe (vfio-pci sizes the region by the device).
    this.size = Number(region.size > 4096n ? 4096n : region.size);
  }

  #read(offset: number, width: 1 | 2 | 4): number {
    this.#gate.check();
    checkAccess('config', offset, width, this.size);
    return this.#addon.regionRead(this.#fd, this.#offset, this.#regionSize, offset, width) as number;
  }

  #write(offset: number, width: 1 | 2 | 4, value: number, max: number): void {
    this.#gate.check();
    checkAccess('config', offset, width, this.size);
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new RangeError(`config write${width * 8}: value must be an integer in [0, 0x${max.toString(16)}], got ${String(value)}`);
    }
    this.#addon.regionWrite(this.#fd, this.#offset, this.#regionSize, offset, width, value);
  }

  read8(offset: number): number {
    return this.#read(offset, 1);
  }

  read16(offset: number): number {
    return this.#read(offset, 2);
  }

  read32(offset: number): number {
    return this.#read(offset, 4);
  }

  write8(offset: number, value: number): void {
    this.#write(offset, 1, value, 0xff);
  }

  write16(offset: number, value: number): void {
    this.#write(offset, 2, value, 0xffff);
  }

  write32(offset: number, value: number): void {
    this.#write(offset, 4, value, 0xffffffff);
  }
}
