/**
 * `cfg` and `bar0…bar5` of the REPL: accesses by width (read8…read64 / write8…write64, offsets as the
 * PciDevice interface takes them), by register name (read('PCI_COMMAND'), bar0.read('ID')) at the
 * width the register table gives, and a hexdump. Errors are the backend's own (RangeError for a bad
 * offset, DdkError 'ECLOSED' after close); an unknown name is a DdkError 'ENOENT' listing the names.
 */
import { DdkError } from '../../errors.ts';
import { listCapabilities } from '../../pci/capabilities.ts';
import type { ConfigSpace, PciRegion } from '../../pci/device.ts';
import { dumpBy32 } from './hexdump.ts';
import type { Hexdump } from './hexdump.ts';
import { CAPABILITY_NAMES, CONFIG_REGISTERS, lookupRegister } from '../../emu/register-tables.ts';
import type { RegisterInfo, RegisterTable } from '../../emu/register-tables.ts';

/** Config space or a BAR: the PciDevice accessors (BARs add the 64-bit ones). */
type Widths = Omit<ConfigSpace, 'size'> & Partial<Pick<PciRegion, 'read64' | 'write64'>>;

/** What `cfg` and each `barN` share: named and sized accesses plus dump. */
export class RegisterWindow {
  constructor(readonly what: string, readonly target: Widths, readonly registers: RegisterTable) {}

  read8(offset: number): number { return this.target.read8(offset); }
  read16(offset: number): number { return this.target.read16(offset); }
  read32(offset: number): number { return this.target.read32(offset); }
  write8(offset: number, value: number): void { this.target.write8(offset, value); }
  write16(offset: number, value: number): void { this.target.write16(offset, value); }
  write32(offset: number, value: number): void { this.target.write32(offset, value); }

  /** Register names this window knows (for .help and tab completion). */
  names(): string[] {
    return Object.keys(this.registers);
  }

  #register(name: unknown): RegisterInfo {
    const found = typeof name === 'string' ? lookupRegister(this.registers, name) : undefined;
    if (found === undefined) {
      const known = this.names();
      throw new DdkError('ENOENT', `${this.what}: no register named ${JSON.stringify(name)}; `
        + (known.length === 0 ? 'this device model names none: use read32(offset)' : `known: ${known.join(', ')}`));
    }
    return found;
  }

  /** The register `name` at its width (a bigint for 64-bit ones). */
  read(name: string): number | bigint {
    const { offset, width } = this.#register(name);
    if (width === 8) {
      const read64 = this.target.read64;
      if (read64 === undefined) throw new DdkError('ENOTSUP', `${this.what} has no 64-bit accesses`);
      return read64.call(this.target, offset);
    }
    return width === 1 ? this.target.read8(offset) : width === 2 ? this.target.read16(offset) : this.target.read32(offset);
  }

  write(name: string, value: number | bigint): void {
    const { offset, width } = this.#register(name);
    if (width === 8) {
      const write64 = this.target.write64;
      if (write64 === undefined) throw new DdkError('ENOTSUP', `${this.what} has no 64-bit accesses`);
      write64.call(this.target, offset, BigInt(value));
      return;
    }
    if (typeof value !== 'number') throw new TypeError(`${this.what}.write(${name}): a ${width}-byte register takes a number, got ${typeof value}`);
    if (width === 1) this.target.write8(offset, value);
    else if (width === 2) this.target.write16(offset, value);
    else this.target.write32(offset, value);
  }

  /** xxd-style dump of [offset, offset + length), read 4 bytes at a time. */
  dump(offset = 0, length = 64): Hexdump {
    return dumpBy32((o) => this.target.read32(o), offset, length);
  }
}

export class BarWindow extends RegisterWindow {
  constructor(readonly region: PciRegion, registers: RegisterTable) {
    super(`bar${region.index}`, region, registers);
  }
  get size(): bigint { return this.region.size; }
  read64(offset: number): bigint { return this.region.read64(offset); }
  write64(offset: number, value: bigint): void { this.region.write64(offset, BigInt(value)); }
}

export class ConfigWindow extends RegisterWindow {
  constructor(readonly config: ConfigSpace) {
    super('cfg', config, CONFIG_REGISTERS);
  }
  get size(): number { return this.config.size; }
  /** The standard capability list in list order (PCI 3.0 §6.7), with the ID's pci_regs.h name. */
  caps(): { id: number; name: string; offset: number }[] {
    return listCapabilities(this.config).map(({ id, offset }) => ({ id, name: CAPABILITY_NAMES[id] ?? `unknown 0x${id.toString(16)}`, offset }));
  }
}
