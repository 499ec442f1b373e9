/**
 * A BAR of an emulated device: every access is bounds/alignment checked (RangeError), then handed to
 * the device model's handler. Accesses while the Command register's Memory Space Enable is clear throw
 * DdkError 'EIO', as a read()/write() on the BAR region of vfio-pci does (it blocks MMIO while memory
 * decode is off); emulated devices are created with Memory Space Enable set, as firmware leaves them
 * (spec/edu.md D.7: "after qboot the command register reads 0x0002").
 * Written values follow the one rule of lib/pci/register-value.ts (as on VFIO): checked after the
 * bounds and before the Memory Space gate, RangeError for anything that is not the width's integer.
 */
import type { PciRegion } from '../pci/device.ts';
import { DdkError, checkAccess } from '../errors.ts';
import { registerValue, registerValue64 } from '../pci/register-value.ts';

/** What a device model implements for one BAR. Offsets are checked and aligned before they arrive. */
export interface MmioHandler {
  read(offset: number, width: 1 | 2 | 4): number;
  write(offset: number, width: 1 | 2 | 4, value: number): void;
  read64(offset: number): bigint;
  write64(offset: number, value: bigint): void;
}

/** The owner's state a region consults on every access. */
export interface RegionGate {
  readonly closed: boolean;
  memoryEnabled(): boolean;
}

export class EmuRegion implements PciRegion {
  readonly index: number;
  readonly size: bigint;
  readonly view = null;
  readonly #length: number;
  readonly #handler: MmioHandler;
  readonly #gate: RegionGate;
  readonly #what: string;

  constructor(index: number, size: number, handler: MmioHandler, gate: RegionGate) {
    this.index = index;
    this.size = BigInt(size);
    this.#length = size;
    this.#handler = handler;
    this.#gate = gate;
    this.#what = `BAR${index}`;
  }

  read8(offset: number): number {
    this.#check(offset, 1);
    return this.#handler.read(offset, 1);
  }

  read16(offset: number): number {
    this.#check(offset, 2);
    return this.#handler.read(offset, 2);
  }

  read32(offset: number): number {
    this.#check(offset, 4);
    return this.#handler.read(offset, 4);
  }

  read64(offset: number): bigint {
    this.#check(offset, 8);
    return this.#handler.read64(offset);
  }

  write8(offset: number, value: number): void {
    const v = this.#checkWrite(offset, 1, value);
    this.#handler.write(offset, 1, v);
  }

  write16(offset: number, value: number): void {
    const v = this.#checkWrite(offset, 2, value);
    this.#handler.write(offset, 2, v);
  }

  write32(offset: number, value: number): void {
    const v = this.#checkWrite(offset, 4, value);
    this.#handler.write(offset, 4, v);
  }

  write64(offset: number, value: bigint): void {
    this.#checkBounds(offset, 8);
    const v = registerValue64(`${this.#what} write64`, value);
    this.#checkMemory();
    this.#handler.write64(offset, v);
  }

  #checkWrite(offset: number, width: 1 | 2 | 4, value: number): number {
    this.#checkBounds(offset, width);
    const v = registerValue(`${this.#what} write${width * 8}`, width, value);
    this.#checkMemory();
    return v;
  }

  #check(offset: number, width: number): void {
    this.#checkBounds(offset, width);
    this.#checkMemory();
  }

  #checkBounds(offset: number, width: number): void {
    if (this.#gate.closed) throw new DdkError('ECLOSED', `${this.#what} access on a closed emulated device: open a new one`);
    checkAccess(this.#what, offset, width, this.#length);
  }

  #checkMemory(): void {
    if (!this.#gate.memoryEnabled()) {
      throw new DdkError('EIO', `${this.#what} access while Memory Space Enable is clear: set PCI_COMMAND_MEMORY in the Command register`);
    }
  }
}
