/**
 * The MSI-X table and PBA of a VFIO device, virtualized in JS the way QEMU does it for its guests
 * (hw/vfio/pci.c + hw/pci/msix.c): the real table belongs to the host kernel, which programmed it with
 * interrupt-remapped messages for the eventfds of VFIO_DEVICE_SET_IRQS. With
 * VFIO_REGION_INFO_CAP_MSIX_MAPPABLE the kernel lets userspace mmap the table, and a kit writing its own
 * address/data there (Zircon's 0xFEE00000 + data, spec/zircon.md A.10; DDI's pci_msix message) would
 * clobber those entries and break delivery. So the BAR accessor never reaches the real table or PBA:
 *
 * * table entries (PCI 3.0 §6.8.2.6–9) read back what was written: address low bits 1:0 read zero,
 *   Vector Control keeps only bit 0 (Mask); 32- and 64-bit accesses only — 8/16-bit accesses read
 *   all-ones and writes are dropped (as lib/emu/msix.ts and QEMU's table ops, min_access_size 4);
 * * a vector is masked while its Mask bit or the Function Mask (Message Control bit 14, kept here too,
 *   see vfio-msix-config.ts) is set; a change of that state masks / unmasks the vector's routed IrqLine
 *   (the line's latch: VFIO cannot mask MSI-X, spec/pci-vfio.md C.4);
 * * PBA bit N (§6.8.2.10) reads 1 while vector N is masked and its line holds latched fires; the PBA is
 *   read-only;
 * * routing a vector (VFIO_DEVICE_SET_IRQS enabling it) unmasks its entry and clears the Function Mask,
 *   unrouting masks the entry: what the kernel does to the real table, and what lib/emu/msix.ts models
 *   (enableVector / disableVector) — so a driver that never touches the table still gets interrupts.
 *
 * Entries start in the reset state (masked, zero message).
 */
import type { IrqLine } from '../irq/irq-line.ts';
import type { MsixLayout } from '../pci/capabilities.ts';
import {
  PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_VECTOR_CTRL,
} from '../pci/regs.ts';

const ENTRY_WORDS = PCI_MSIX_ENTRY_SIZE / 4;
const WORD_ADDR_LO = PCI_MSIX_ENTRY_LOWER_ADDR / 4;
const WORD_CTRL = PCI_MSIX_ENTRY_VECTOR_CTRL / 4;
/** PBA: one bit per vector in little-endian qwords (§6.8.2.10). */
const PBA_QWORD_BYTES = 8;

/** What a BAR routes to instead of its mapping / pread-pwrite for the byte ranges it covers. */
export interface RegionTrap {
  /** The lowest offset served here: the BAR's bytes below it never reach the trap. */
  readonly start: number;
  /** Whether [offset, offset+width) is served here (accesses are naturally aligned, never straddle). */
  covers(offset: number, width: number): boolean;
  read(offset: number, width: 1 | 2 | 4): number;
  read64(offset: number): bigint;
  write(offset: number, width: 1 | 2 | 4, value: number): void;
  write64(offset: number, value: bigint): void;
}

export class VfioMsixShadow {
  readonly layout: MsixLayout;
  readonly vectors: number;
  readonly tableBytes: number;
  readonly pbaBytes: number;
  readonly #table: Uint32Array;
  readonly #lines: (IrqLine | null)[];
  #functionMask = false;

  constructor(layout: MsixLayout) {
    this.layout = layout;
    this.vectors = layout.vectors;
    this.tableBytes = layout.vectors * PCI_MSIX_ENTRY_SIZE;
    this.pbaBytes = Math.ceil(layout.vectors / 64) * PBA_QWORD_BYTES;
    this.#table = new Uint32Array(layout.vectors * ENTRY_WORDS);
    for (let v = 0; v < layout.vectors; v++) this.#table[v * ENTRY_WORDS + WORD_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    this.#lines = new Array<IrqLine | null>(layout.vectors).fill(null);
  }

  /** The trap for BAR `bar`, or null when neither the table nor the PBA lives there. */
  trapFor(bar: number): RegionTrap | null {
    const { tableBar, tableOffset, pbaBar, pbaOffset } = this.layout;
    const hasTable = tableBar === bar;
    const hasPba = pbaBar === bar;
    if (!hasTable && !hasPba) return null;
    const tableEnd = tableOffset + this.tableBytes;
    const pbaEnd = pbaOffset + this.pbaBytes;
    const inTable = (o: number, w: number): boolean => hasTable && o >= tableOffset && o + w <= tableEnd;
    const inPba = (o: number, w: number): boolean => hasPba && o >= pbaOffset && o + w <= pbaEnd;
    return {
      start: Math.min(hasTable ? tableOffset : Infinity, hasPba ? pbaOffset : Infinity),
      covers: (o, w) => inTable(o, w) || inPba(o, w),
      read: (o, w) => {
        if (w !== 4) return w === 2 ? 0xffff : 0xff;
        return inTable(o, 4) ? this.#table[(o - tableOffset) >>> 2] as number : this.#pbaWord((o - pbaOffset) >>> 2);
      },
      read64: (o) => {
        if (inTable(o, 8)) {
          const word = (o - tableOffset) >>> 2;
          return (BigInt(this.#table[word + 1] as number) << 32n) | BigInt(this.#table[word] as number);
        }
        const word = (o - pbaOffset) >>> 2;
        return (BigInt(this.#pbaWord(word + 1)) << 32n) | BigInt(this.#pbaWord(word));
      },
      write: (o, w, value) => {
        if (w === 4 && inTable(o, 4)) this.#writeWord((o - tableOffset) >>> 2, value);
      },
      write64: (o, value) => {
        if (!inTable(o, 8)) return;
        const word = (o - tableOffset) >>> 2;
        this.#writeWord(word, Number(value & 0xffffffffn));
        this.#writeWord(word + 1, Number(value >> 32n));
      },
    };
  }

  /** Entry `vector`'s Mask bit (§6.8.2.9). */
  entryMasked(vector: number): boolean {
    return ((this.#table[vector * ENTRY_WORDS + WORD_CTRL] as number) & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  /** Entry `vector`'s message as the driver wrote it (§6.8.2.6–8). */
  entryAddressLo(vector: number): number {
    return this.#table[vector * ENTRY_WORDS + WORD_ADDR_LO] as number;
  }

  entryAddressHi(vector: number): number {
    return this.#table[vector * ENTRY_WORDS + WORD_ADDR_LO + 1] as number;
  }

  entryData(vector: number): number {
    return this.#table[vector * ENTRY_WORDS + WORD_ADDR_LO + 2] as number;
  }

  get functionMask(): boolean {
    return this.#functionMask;
  }

  /** Message Control Function Mask (written through config space, vfio-msix-config.ts). */
  setFunctionMask(on: boolean): void {
    if (on === this.#functionMask) return;
    const before = this.#snapshot();
    this.#functionMask = on;
    this.#applyChanges(before);
  }

  /** The kernel enabled `vector` for `line` (SET_IRQS): entry unmasked, Function Mask cleared. */
  routed(vector: number, line: IrqLine): void {
    if (vector < 0 || vector >= this.vectors) return;
    this.setFunctionMask(false); // lines of other vectors masked only by it are unmasked
    this.#lines[vector] = line;
    const word = vector * ENTRY_WORDS + WORD_CTRL;
    this.#table[word] = (this.#table[word] as number) & ~PCI_MSIX_ENTRY_CTRL_MASKBIT;
  }

  /** The kernel freed `vector`: entry masked again; its line is no longer ours to mask. */
  unrouted(vector: number): void {
    if (vector < 0 || vector >= this.vectors || this.#lines[vector] === null) return;
    this.#lines[vector] = null;
    const word = vector * ENTRY_WORDS + WORD_CTRL;
    this.#table[word] = (this.#table[word] as number) | PCI_MSIX_ENTRY_CTRL_MASKBIT;
  }

  /** MSI-X disabled (index disabled or device closed): every vector unrouted, Function Mask cleared. */
  unroutedAll(): void {
    for (let v = 0; v < this.vectors; v++) if (this.#lines[v] !== null) this.unrouted(v);
    this.#functionMask = false;
  }

  /**
   * The function was reset: its Pending Bits are cleared (a message held back by a mask is lost, as
   * lib/emu/msix.ts clearPending models it), so fires latched on masked vectors are dropped. The table
   * itself keeps what the driver wrote: the kernel restored its own entries in the hardware table
   * around the reset (drivers/pci/msi/msi.c __pci_restore_msix_state), and this shadow is the
   * library's part of that saved state.
   */
  resetPending(): void {
    for (let v = 0; v < this.vectors; v++) {
      const line = this.#lines[v];
      if (line != null && this.#masked(v)) line.clearPending();
    }
  }

  #masked(vector: number): boolean {
    return this.#functionMask || this.entryMasked(vector);
  }

  #pbaWord(word: number): number {
    let bits = 0;
    const first = word * 32;
    for (let bit = 0; bit < 32; bit++) {
      const v = first + bit;
      if (v >= this.vectors) break;
      const line = this.#lines[v];
      if (line != null && line.pending > 0 && this.#masked(v)) bits |= 1 << bit;
    }
    return bits >>> 0;
  }

  #writeWord(word: number, value: number): void {
    const field = word % ENTRY_WORDS;
    if (field === WORD_ADDR_LO) this.#table[word] = (value & 0xfffffffc) >>> 0;
    else if (field !== WORD_CTRL) this.#table[word] = value >>> 0;
    else {
      const vector = (word - WORD_CTRL) / ENTRY_WORDS;
      const was = this.#masked(vector);
      this.#table[word] = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;
      this.#applyOne(vector, was);
    }
  }

  #snapshot(): boolean[] {
    const out: boolean[] = [];
    for (let v = 0; v < this.vectors; v++) out.push(this.#masked(v));
    return out;
  }

  #applyChanges(before: boolean[]): void {
    for (let v = 0; v < this.vectors; v++) this.#applyOne(v, before[v] as boolean);
  }

  /** Mask / unmask vector's line when its masked state changed (unmask delivers what it latched). */
  #applyOne(vector: number, was: boolean): void {
    const line = this.#lines[vector];
    const now = this.#masked(vector);
    if (line == null || now === was) return;
    if (now) line.mask();
    else line.unmask();
  }
}
