/**
 * MSI-X of an emulated device (PCI 3.0 §6.8.2; spec/pci-vfio.md C.2), up to 2048 vectors.
 *
 * Placement: by default the table and PBA get a BAR of their own, laid out as QEMU's
 * msix_init_exclusive_bar does: table at offset 0, PBA at half the BAR, BAR size 4 KiB or, when table +
 * PBA do not fit a page, the next power of two of their size (2048 vectors → 64 KiB, PBA at 32 KiB).
 * A model may instead place them at given offsets of a BAR it shares with its registers (QEMU's
 * msix_init with a table and PBA offset, as hw/nvme/ctrl.c nvme_init_pci does in BAR0); the BAR then
 * hands this handler the accesses inside the table and PBA (`covers`), with BAR offsets.
 *
 * Rules: Message Control Function Mask and MSI-X Enable RW, Table Size and Table/PBA Offset/BIR RO.
 * Table entries: address low bits 1:0 RO zero, upper address and data RW, Vector Control bit 0 (Mask)
 * RW and 1 after reset, other Vector Control bits RO zero. The table and PBA accept 32- and 64-bit
 * accesses only; 8/16-bit accesses read all-ones and writes are ignored (the access is not claimed, as
 * QEMU's msix table ops with min_access_size 4). The PBA is read-only; bytes outside table and PBA
 * read zero.
 *
 * A raise of vector N: dropped while MSI-X Enable is clear (§6.8.2: the function may not use MSI-X);
 * held as pending (PBA bit) while the Function Mask or the entry's Mask is set; otherwise sent.
 * Clearing either mask sends each pending, now unmasked vector once and clears its PBA bit.
 */
import type { EmuConfigSpace } from './config-space.ts';
import type { MmioHandler } from './region.ts';
import {
  PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_PBA, PCI_MSIX_TABLE,
} from '../pci/regs.ts';
import { PAGE_SIZE } from '../pci/host-memory.ts';

/** 32-bit words per table entry. */
const ENTRY_WORDS = PCI_MSIX_ENTRY_SIZE / 4;
const WORD_ADDR_LO = PCI_MSIX_ENTRY_LOWER_ADDR / 4;
const WORD_ADDR_HI = PCI_MSIX_ENTRY_UPPER_ADDR / 4;
const WORD_DATA = PCI_MSIX_ENTRY_DATA / 4;
const WORD_CTRL = PCI_MSIX_ENTRY_VECTOR_CTRL / 4;

/** The BAR size and PBA offset QEMU's msix_init_exclusive_bar picks for `vectors` entries. */
export function msixBarLayout(vectors: number): { barSize: number; pbaOffset: number } {
  const tableBytes = vectors * PCI_MSIX_ENTRY_SIZE;
  const pbaBytes = Math.ceil(vectors / 64) * 8;
  if (tableBytes + pbaBytes <= PAGE_SIZE) return { barSize: PAGE_SIZE, pbaOffset: PAGE_SIZE / 2 };
  const barSize = 2 ** Math.ceil(Math.log2(tableBytes + pbaBytes));
  return { barSize, pbaOffset: barSize / 2 };
}

/** Where a model puts its table and PBA inside a BAR it shares (byte offsets, 8-byte aligned). */
export interface MsixPlacement {
  readonly tableOffset: number;
  readonly pbaOffset: number;
}

export class EmuMsix implements MmioHandler {
  readonly offset: number;
  readonly vectors: number;
  readonly bar: number;
  /** Size of the exclusive BAR (msixBarLayout); unused when the table shares a model's BAR. */
  readonly barSize: number;
  readonly tableOffset: number;
  readonly pbaOffset: number;
  readonly #config: EmuConfigSpace;
  readonly #control: number;
  readonly #table: Uint32Array;
  /** Pending bits, vector N = bit N % 32 of word N / 32 (the PBA's qwords, little-endian). */
  readonly #pba: Uint32Array;
  readonly #tableBytes: number;
  readonly #pbaBytes: number;
  /** Where an unmasked vector goes (the interrupt router). */
  send: (vector: number) => void = () => {};

  constructor(config: EmuConfigSpace, vectors: number, bar: number, placement?: MsixPlacement) {
    this.#config = config;
    this.vectors = vectors;
    this.bar = bar;
    const layout = msixBarLayout(vectors);
    this.barSize = layout.barSize;
    this.tableOffset = placement?.tableOffset ?? 0;
    this.pbaOffset = placement?.pbaOffset ?? layout.pbaOffset;
    this.#tableBytes = vectors * PCI_MSIX_ENTRY_SIZE;
    this.#pbaBytes = Math.ceil(vectors / 64) * 8;
    this.#table = new Uint32Array(vectors * ENTRY_WORDS);
    this.#pba = new Uint32Array(this.#pbaBytes / 4);
    const at = config.addCapability(PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
    this.offset = at;
    this.#control = at + PCI_MSIX_FLAGS;
    config.set16(this.#control, vectors - 1);
    config.setWmask(this.#control, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    config.set32(at + PCI_MSIX_TABLE, (this.tableOffset | bar) >>> 0);
    config.set32(at + PCI_MSIX_PBA, (this.pbaOffset | bar) >>> 0);
    this.reset();
  }

  get enabled(): boolean {
    return (this.#config.get16(this.#control) & PCI_MSIX_FLAGS_ENABLE) !== 0;
  }

  get functionMasked(): boolean {
    return (this.#config.get16(this.#control) & PCI_MSIX_FLAGS_MASKALL) !== 0;
  }

  entryMasked(vector: number): boolean {
    return ((this.#table[vector * ENTRY_WORDS + WORD_CTRL] as number) & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  /** Entry `vector`'s message (§6.8.2.6–8), as the table holds it. */
  entryAddressLo(vector: number): number {
    return this.#table[vector * ENTRY_WORDS + WORD_ADDR_LO] as number;
  }

  entryAddressHi(vector: number): number {
    return this.#table[vector * ENTRY_WORDS + WORD_ADDR_HI] as number;
  }

  entryData(vector: number): number {
    return this.#table[vector * ENTRY_WORDS + WORD_DATA] as number;
  }

  pending(vector: number): boolean {
    return (((this.#pba[vector >>> 5] as number) >>> (vector & 31)) & 1) === 1;
  }

  /** Device side: the function wants to signal `vector`. */
  raise(vector: number): void {
    if (!this.enabled) return;
    if (this.functionMasked || this.entryMasked(vector)) {
      this.#pba[vector >>> 5] = ((this.#pba[vector >>> 5] as number) | (1 << (vector & 31))) >>> 0;
      return;
    }
    this.send(vector);
  }

  /** Kernel side (vfio-pci enabling a vector): MSI-X Enable set, entry programmed and unmasked. */
  enableVector(vector: number, address: bigint, data: number): void {
    const base = vector * ENTRY_WORDS;
    this.#table[base + WORD_ADDR_LO] = Number(address & 0xfffffffcn);
    this.#table[base + WORD_ADDR_HI] = Number((address >> 32n) & 0xffffffffn);
    this.#table[base + WORD_DATA] = data >>> 0;
    this.#config.set16(this.#control, (this.#config.get16(this.#control) | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
    this.#table[base + WORD_CTRL] = 0;
    this.#deliverUnmasked();
  }

  /** Kernel side (free_irq): masks the entry again. */
  disableVector(vector: number): void {
    this.#table[vector * ENTRY_WORDS + WORD_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
  }

  /** Kernel side (pci_disable_msix): MSI-X Enable cleared. */
  disable(): void {
    this.#config.set16(this.#control, this.#config.get16(this.#control) & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
  }

  /** Power-on state: disabled, every entry zeroed and masked, PBA clear. */
  reset(): void {
    this.disable();
    this.#table.fill(0);
    for (let v = 0; v < this.vectors; v++) this.#table[v * ENTRY_WORDS + WORD_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    this.#pba.fill(0);
  }

  /** Drops every pending bit (function reset); the table is kept (restored by the kernel). */
  clearPending(): void {
    this.#pba.fill(0);
  }

  /** Config-write hook: `true` when the write touched this capability. */
  afterWrite(offset: number, width: number): boolean {
    if (offset + width <= this.offset || offset >= this.offset + PCI_CAP_MSIX_SIZEOF) return false;
    this.#deliverUnmasked();
    return true;
  }

  // ---- the BAR (MmioHandler); offsets are BAR offsets ----

  /** Whether `[offset, offset + width)` of the BAR falls in the table or the PBA (for a shared BAR). */
  covers(offset: number, width: number): boolean {
    const table = offset - this.tableOffset;
    const pba = offset - this.pbaOffset;
    return (table >= 0 && table + width <= this.#tableBytes) || (pba >= 0 && pba + width <= this.#pbaBytes);
  }

  read(offset: number, width: 1 | 2 | 4): number {
    if (width !== 4) return width === 2 ? 0xffff : 0xff;
    const table = offset - this.tableOffset;
    if (table >= 0 && table < this.#tableBytes) return this.#table[table >>> 2] as number;
    if (offset >= this.pbaOffset && offset < this.pbaOffset + this.#pbaBytes) return this.#pba[(offset - this.pbaOffset) >>> 2] as number;
    return 0;
  }

  write(offset: number, width: 1 | 2 | 4, value: number): void {
    const table = offset - this.tableOffset;
    if (width !== 4 || table < 0 || table >= this.#tableBytes) return;
    const word = table >>> 2;
    const field = word % ENTRY_WORDS;
    if (field === WORD_ADDR_LO) this.#table[word] = value & 0xfffffffc;
    else if (field === WORD_CTRL) {
      this.#table[word] = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;
      if ((value & PCI_MSIX_ENTRY_CTRL_MASKBIT) === 0) this.#deliverOne((word - WORD_CTRL) / ENTRY_WORDS);
    } else this.#table[word] = value >>> 0;
  }

  read64(offset: number): bigint {
    return (BigInt(this.read(offset + 4, 4)) << 32n) | BigInt(this.read(offset, 4));
  }

  write64(offset: number, value: bigint): void {
    const table = offset - this.tableOffset;
    if (table < 0 || table >= this.#tableBytes) return;
    this.write(offset, 4, Number(value & 0xffffffffn));
    this.write(offset + 4, 4, Number(value >> 32n));
  }

  #deliverOne(vector: number): void {
    if (!this.enabled || this.functionMasked || this.entryMasked(vector) || !this.pending(vector)) return;
    this.#pba[vector >>> 5] = ((this.#pba[vector >>> 5] as number) & ~(1 << (vector & 31))) >>> 0;
    this.send(vector);
  }

  /** Sends every pending vector that is now unmasked, once (PCI 3.0 §6.8.2.9). */
  #deliverUnmasked(): void {
    if (!this.enabled || this.functionMasked) return;
    const pba = this.#pba;
    for (let word = 0; word < pba.length; word++) {
      if (pba[word] === 0) continue;
      for (let bit = 0; bit < 32; bit++) {
        const vector = word * 32 + bit;
        if (vector < this.vectors && ((pba[word] as number) >>> bit & 1) === 1) this.#deliverOne(vector);
      }
    }
  }
}
