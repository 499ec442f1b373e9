/**
 * An emulated configuration space: 256 (PCI Express: 4096) bytes of register state plus, per byte, a
 * write mask (bits software may change) and a write-1-to-clear mask, both built once when the device
 * is created (the way QEMU's `wmask` / `w1cmask` work). A write computes, per byte,
 *   new = (old & ~wmask) | (value & wmask);  new &= ~(value & w1cmask)
 * so read-only bits (IDs, Status.Interrupt, MSI pending bits, BAR type bits) never change, and no
 * object is allocated per access. After every write the owning device's `afterWrite(offset, width)`
 * hook runs so the device can react (Command, MSI / MSI-X control, mask bits).
 *
 * Errors: RangeError (offset and size named) for out-of-range or misaligned accesses and for a value
 * that is not the width's integer (lib/pci/register-value.ts, the rule VFIO applies too); DdkError
 * 'ECLOSED' once the device is closed.
 */
import type { ConfigSpace } from '../pci/device.ts';
import { DdkError, checkAccess } from '../errors.ts';
import { registerValue } from '../pci/register-value.ts';
import {
  PCI_CAPABILITY_LIST, PCI_CAP_LIST_NEXT, PCI_CFG_SPACE_EXP_SIZE, PCI_CFG_SPACE_SIZE, PCI_STATUS, PCI_STATUS_CAP_LIST,
} from '../pci/regs.ts';

/** First byte after the type-0 header: capabilities start here (PCI 3.0 §6.7). */
export const PCI_CAP_START = 0x40;

export class EmuConfigSpace implements ConfigSpace {
  /** 256 (conventional PCI) or 4096 (PCI Express: the extended space reads zero, no extended capabilities). */
  readonly size: number;
  /** Register state (what reads return). Device code may write it directly for RO bits it owns. */
  readonly data: Uint8Array;
  /** Bits software may write. */
  readonly wmask: Uint8Array;
  /** Bits software clears by writing 1. */
  readonly w1cmask: Uint8Array;
  /** Set by the device: runs after each software write (not for device-internal `set*` calls). */
  afterWrite: (offset: number, width: number) => void = () => {};
  closed = false;
  #lastCap = 0;
  /** Bytes of the standard capability area already taken (QEMU's `used` map in pci_find_space). */
  readonly #used = new Uint8Array(PCI_CFG_SPACE_SIZE);

  constructor(size: number = PCI_CFG_SPACE_SIZE) {
    if (size !== PCI_CFG_SPACE_SIZE && size !== PCI_CFG_SPACE_EXP_SIZE) throw new RangeError(`config space size must be 256 or 4096, got ${String(size)}`);
    this.size = size;
    this.data = new Uint8Array(size);
    this.wmask = new Uint8Array(size);
    this.w1cmask = new Uint8Array(size);
  }

  read8(offset: number): number {
    this.#check(offset, 1);
    return this.data[offset] as number;
  }

  read16(offset: number): number {
    this.#check(offset, 2);
    return this.get16(offset);
  }

  read32(offset: number): number {
    this.#check(offset, 4);
    return this.get32(offset);
  }

  write8(offset: number, value: number): void {
    this.#check(offset, 1);
    this.#writeBytes(offset, 1, registerValue('config write8', 1, value));
  }

  write16(offset: number, value: number): void {
    this.#check(offset, 2);
    this.#writeBytes(offset, 2, registerValue('config write16', 2, value));
  }

  write32(offset: number, value: number): void {
    this.#check(offset, 4);
    this.#writeBytes(offset, 4, registerValue('config write32', 4, value));
  }

  // ---- device side: raw access without masks or hooks ----

  get16(offset: number): number {
    const d = this.data;
    return (d[offset] as number) | ((d[offset + 1] as number) << 8);
  }

  get32(offset: number): number {
    const d = this.data;
    return ((d[offset] as number) | ((d[offset + 1] as number) << 8) | ((d[offset + 2] as number) << 16)
      | ((d[offset + 3] as number) << 24)) >>> 0;
  }

  set8(offset: number, value: number): void {
    this.data[offset] = value;
  }

  set16(offset: number, value: number): void {
    this.data[offset] = value & 0xff;
    this.data[offset + 1] = (value >>> 8) & 0xff;
  }

  set32(offset: number, value: number): void {
    for (let i = 0; i < 4; i++) this.data[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  /** Sets the software-writable bits of a 1/2/4-byte register. */
  setWmask(offset: number, width: number, mask: number): void {
    for (let i = 0; i < width; i++) this.wmask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  setW1cmask(offset: number, width: number, mask: number): void {
    for (let i = 0; i < width; i++) this.w1cmask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  /**
   * Adds a capability of `size` bytes and links it at the end of the list (list order = call order),
   * sets Status.Capabilities List, returns its offset. Placed at `at` when given (QEMU's
   * pci_add_capability with a fixed offset: a device that documents where its capabilities sit), else
   * at the first dword-aligned free range from 0x40 (pci_find_space). RangeError on overlap or no room.
   */
  addCapability(id: number, size: number, at?: number): number {
    const offset = at ?? this.#findSpace(size);
    if (offset < 0 || offset < PCI_CAP_START || offset % 4 !== 0 || offset + size > PCI_CFG_SPACE_SIZE) {
      throw new RangeError(`no room for a ${size}-byte capability${at === undefined ? '' : ` at 0x${at.toString(16)}`}`);
    }
    if (this.#used.subarray(offset, offset + size).some((b) => b !== 0)) {
      throw new RangeError(`a ${size}-byte capability at 0x${offset.toString(16)} overlaps another one`);
    }
    this.#used.fill(1, offset, offset + size);
    this.data[offset] = id;
    this.data[offset + PCI_CAP_LIST_NEXT] = 0;
    if (this.#lastCap === 0) this.data[PCI_CAPABILITY_LIST] = offset;
    else this.data[this.#lastCap + PCI_CAP_LIST_NEXT] = offset;
    this.#lastCap = offset;
    this.set16(PCI_STATUS, this.get16(PCI_STATUS) | PCI_STATUS_CAP_LIST);
    return offset;
  }

  #findSpace(size: number): number {
    for (let offset = PCI_CAP_START; offset + size <= PCI_CFG_SPACE_SIZE; offset += 4) {
      if (this.#used.subarray(offset, offset + size).every((b) => b === 0)) return offset;
    }
    return -1;
  }

  #check(offset: number, width: number): void {
    if (this.closed) throw new DdkError('ECLOSED', 'config space access on a closed emulated device: open a new one');
    checkAccess('config space', offset, width, this.size);
  }

  #writeBytes(offset: number, width: number, value: number): void {
    const d = this.data;
    const wm = this.wmask;
    const w1c = this.w1cmask;
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      const keep = (d[at] as number) & ~(wm[at] as number);
      d[at] = (keep | (byte & (wm[at] as number))) & ~(byte & (w1c[at] as number));
    }
    this.afterWrite(offset, width);
  }
}
