/**
 * The MSI capability of an emulated device (PCI 3.0 §6.8.1; spec/pci-vfio.md C.1): 1–32 vectors,
 * 32- or 64-bit address, with or without per-vector masking.
 *
 * Register rules (write masks built once here):
 * * Message Control: MSI Enable and Multiple Message Enable are RW; MMC, 64-bit and PVM capable RO. An
 *   MME larger than MMC is clamped to MMC after the write (QEMU's msi_write_config does the same).
 * * Message Address bits 1:0 are RO zero; Upper Address RW (64-bit layouts); Data 16-bit RW.
 * * Mask Bits: RW for implemented vectors only; Pending Bits: RO to software, set by the device.
 *
 * A raise of vector N (device side): dropped when MSI Enable is clear or N ≥ 1 << MME (the function
 * may not use that vector); held as pending when masked; otherwise handed to `send`. Unmasking a
 * pending vector (a Mask Bits write) clears its pending bit and sends it once.
 */
import type { EmuConfigSpace } from './config-space.ts';
import {
  PCI_CAP_ID_MSI, PCI_MSI_ADDRESS_HI, PCI_MSI_ADDRESS_LO, PCI_MSI_CAP_SIZE_32, PCI_MSI_CAP_SIZE_32_PVM,
  PCI_MSI_CAP_SIZE_64, PCI_MSI_CAP_SIZE_64_PVM, PCI_MSI_DATA_32, PCI_MSI_DATA_64, PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_MASKBIT, PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32, PCI_MSI_MASK_64, PCI_MSI_PENDING_32, PCI_MSI_PENDING_64,
} from '../pci/regs.ts';

/** Bit position of Multiple Message Capable / Enable in Message Control. */
const MMC_SHIFT = 1;
const MME_SHIFT = 4;

export interface MsiOptions {
  vectors: number;
  perVectorMask: boolean;
  addr64: boolean;
}

export class EmuMsi {
  readonly offset: number;
  /** Vectors requested (1 << MMC). */
  readonly vectors: number;
  readonly addr64: boolean;
  readonly perVectorMask: boolean;
  readonly size: number;
  readonly #config: EmuConfigSpace;
  readonly #control: number;
  readonly #maskAt: number;
  readonly #pendingAt: number;
  readonly #dataAt: number;
  readonly #mmc: number;
  /** Where an unmasked / allowed vector goes (the interrupt router). */
  send: (vector: number) => void = () => {};

  constructor(config: EmuConfigSpace, options: MsiOptions) {
    this.#config = config;
    this.vectors = options.vectors;
    this.addr64 = options.addr64;
    this.perVectorMask = options.perVectorMask;
    this.#mmc = Math.log2(options.vectors);
    this.size = options.addr64
      ? (options.perVectorMask ? PCI_MSI_CAP_SIZE_64_PVM : PCI_MSI_CAP_SIZE_64)
      : (options.perVectorMask ? PCI_MSI_CAP_SIZE_32_PVM : PCI_MSI_CAP_SIZE_32);
    const at = config.addCapability(PCI_CAP_ID_MSI, this.size);
    this.offset = at;
    this.#control = at + PCI_MSI_FLAGS;
    this.#dataAt = at + (options.addr64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
    this.#maskAt = options.perVectorMask ? at + (options.addr64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32) : -1;
    this.#pendingAt = options.perVectorMask ? at + (options.addr64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32) : -1;
    const flags = (this.#mmc << MMC_SHIFT) | (options.addr64 ? PCI_MSI_FLAGS_64BIT : 0)
      | (options.perVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0);
    config.set16(this.#control, flags);
    config.setWmask(this.#control, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    config.setWmask(at + PCI_MSI_ADDRESS_LO, 4, 0xfffffffc);
    if (options.addr64) config.setWmask(at + PCI_MSI_ADDRESS_HI, 4, 0xffffffff);
    config.setWmask(this.#dataAt, 2, 0xffff);
    if (options.perVectorMask) config.setWmask(this.#maskAt, 4, this.#implementedBits());
  }

  get enabled(): boolean {
    return (this.#config.get16(this.#control) & PCI_MSI_FLAGS_ENABLE) !== 0;
  }

  /** Vectors granted: 1 << Multiple Message Enable. */
  get enabledVectors(): number {
    return 1 << ((this.#config.get16(this.#control) & PCI_MSI_FLAGS_QSIZE) >> MME_SHIFT);
  }

  /** Message Address as the capability holds it (bits 1:0 read zero; upper half 0 for 32-bit layouts). */
  get addressLo(): number {
    return this.#config.get32(this.offset + PCI_MSI_ADDRESS_LO) >>> 0;
  }

  get addressHi(): number {
    return this.addr64 ? this.#config.get32(this.offset + PCI_MSI_ADDRESS_HI) >>> 0 : 0;
  }

  /**
   * The data vector `vector` sends: the capability's Message Data with the low log2(MME) bits replaced
   * by the vector number (PCI 3.0 §6.8.1.6 "the function modifies the low order bits").
   */
  messageData(vector: number): number {
    const low = this.enabledVectors - 1;
    return ((this.#config.get16(this.#dataAt) & ~low) | (vector & low)) >>> 0;
  }

  masked(vector: number): boolean {
    return this.#maskAt >= 0 && ((this.#config.get32(this.#maskAt) >>> vector) & 1) === 1;
  }

  pending(vector: number): boolean {
    return this.#pendingAt >= 0 && ((this.#config.get32(this.#pendingAt) >>> vector) & 1) === 1;
  }

  /** Device side: the function wants to signal `vector`. */
  raise(vector: number): void {
    if (!this.enabled || vector >= this.enabledVectors) return;
    if (this.masked(vector)) {
      this.#config.set32(this.#pendingAt, (this.#config.get32(this.#pendingAt) | (1 << vector)) >>> 0);
      return;
    }
    this.send(vector);
  }

  /** Programs the capability the way the kernel enables MSI (pci_enable_msi_range): address, data, MME, Enable. */
  enable(address: bigint, data: number, log2Vectors: number): void {
    const config = this.#config;
    config.set32(this.offset + PCI_MSI_ADDRESS_LO, Number(address & 0xfffffffcn));
    if (this.addr64) config.set32(this.offset + PCI_MSI_ADDRESS_HI, Number((address >> 32n) & 0xffffffffn));
    config.set16(this.#dataAt, data & 0xffff);
    const control = config.get16(this.#control) & ~(PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE);
    // Linux masks every vector at enable and unmasks each one as its handler is requested.
    if (this.#maskAt >= 0) config.set32(this.#maskAt, this.#implementedBits());
    config.set16(this.#control, control | (Math.min(log2Vectors, this.#mmc) << MME_SHIFT) | PCI_MSI_FLAGS_ENABLE);
  }

  disable(): void {
    const config = this.#config;
    config.set16(this.#control, config.get16(this.#control) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
  }

  /** Sets or clears one mask bit as the kernel does around request_irq / free_irq (PVM only). */
  setMask(vector: number, masked: boolean): void {
    if (this.#maskAt < 0) return;
    const bits = this.#config.get32(this.#maskAt);
    this.#config.set32(this.#maskAt, masked ? (bits | (1 << vector)) >>> 0 : (bits & ~(1 << vector)) >>> 0);
    if (!masked) this.#deliverUnmasked();
  }

  /** Power-on state of the capability (Enable, MME, address, data, mask and pending bits cleared). */
  reset(): void {
    const config = this.#config;
    config.set16(this.#control, config.get16(this.#control) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
    config.set32(this.offset + PCI_MSI_ADDRESS_LO, 0);
    if (this.addr64) config.set32(this.offset + PCI_MSI_ADDRESS_HI, 0);
    config.set16(this.#dataAt, 0);
    if (this.#maskAt >= 0) {
      config.set32(this.#maskAt, 0);
      config.set32(this.#pendingAt, 0);
    }
  }

  /** Drops every pending bit (function reset). */
  clearPending(): void {
    if (this.#pendingAt >= 0) this.#config.set32(this.#pendingAt, 0);
  }

  /** Config-write hook: `true` when the write touched this capability. */
  afterWrite(offset: number, width: number): boolean {
    if (offset + width <= this.offset || offset >= this.offset + this.size) return false;
    const config = this.#config;
    const control = config.get16(this.#control);
    const mme = (control & PCI_MSI_FLAGS_QSIZE) >> MME_SHIFT;
    if (mme > this.#mmc) config.set16(this.#control, (control & ~PCI_MSI_FLAGS_QSIZE) | (this.#mmc << MME_SHIFT));
    this.#deliverUnmasked();
    return true;
  }

  /** Sends, once, every pending vector that is no longer masked (PCI 3.0 §6.8.1.7). */
  #deliverUnmasked(): void {
    if (this.#pendingAt < 0 || !this.enabled) return;
    const config = this.#config;
    const ready = (config.get32(this.#pendingAt) & ~config.get32(this.#maskAt)) >>> 0;
    if (ready === 0) return;
    config.set32(this.#pendingAt, (config.get32(this.#pendingAt) & ~ready) >>> 0);
    for (let vector = 0; vector < this.vectors; vector++) {
      if (((ready >>> vector) & 1) === 1) this.send(vector);
    }
  }

  #implementedBits(): number {
    return this.vectors === 32 ? 0xffffffff : (1 << this.vectors) - 1;
  }
}
