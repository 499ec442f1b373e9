/**
 * Configuration space through vfio-pci's config region (VFIO_PCI_CONFIG_REGION_INDEX): every access is
 * one pread/pwrite of exactly the access width, so the kernel's config virtualisation (BARs, MSI/MSI-X
 * capability, Command bits it owns) sees the same accesses a kernel driver would make.
 */
import type { ConfigSpace } from '../pci/device.ts';
import type { NativeAddon, RegionInfo } from '../native/addon-types.ts';
import { checkAccess } from '../errors.ts';
import { registerValue } from '../pci/register-value.ts';
import type { DeviceGate } from './vfio-gate.ts';

/**
 * Something that must happen around a config write the kernel would not act on by itself (MSI / MSI-X
 * Enable, vfio-msi-enable.ts). `write` performs the access through `config.rawWrite`.
 */
export interface ConfigWriteTrap {
  covers(offset: number, width: number): boolean;
  write(offset: number, width: 1 | 2 | 4, value: number, config: VfioConfigSpace): void;
}

export class VfioConfigSpace implements ConfigSpace {
  readonly size: number;
  readonly #addon: NativeAddon;
  readonly #fd: number;
  readonly #offset: bigint;
  readonly #regionSize: bigint;
  readonly #gate: DeviceGate;
  /** Set once by the device after construction (it needs the interrupts object). */
  writeTrap: ConfigWriteTrap | null = null;

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

  /** Values: the shared rule of lib/pci/register-value.ts (signed or unsigned, RangeError otherwise). */
  #write(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#gate.check();
    checkAccess('config', offset, width, this.size);
    const v = registerValue(`config write${width * 8}`, width, value);
    const trap = this.writeTrap;
    if (trap !== null && trap.covers(offset, width)) trap.write(offset, width, v, this);
    else this.rawWrite(offset, width, v);
  }

  /** One pread of the config region, checked only for range (for traps). */
  rawRead(offset: number, width: 1 | 2 | 4): number {
    checkAccess('config', offset, width, this.size);
    return this.#addon.regionRead(this.#fd, this.#offset, this.#regionSize, offset, width) as number;
  }

  /** One pwrite of the config region (for traps, and after the checks of the public writes). */
  rawWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    checkAccess('config', offset, width, this.size);
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
    this.#write(offset, 1, value);
  }

  write16(offset: number, value: number): void {
    this.#write(offset, 2, value);
  }

  write32(offset: number, value: number): void {
    this.#write(offset, 4, value);
  }
}
