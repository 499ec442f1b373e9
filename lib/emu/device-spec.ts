/**
 * What a device model declares to `EmuPciDevice` (device.ts): identity, pin, BARs (32- or 64-bit),
 * MSI / MSI-X (the table in a BAR of its own or inside a model BAR), further capabilities at fixed
 * offsets, the config space size, the DMA mask — and the BAR handler that shares a model's BAR with
 * the MSI-X table and PBA (QEMU's msix_init with offsets, as hw/nvme/ctrl.c nvme_init_pci uses).
 */
import type { EmuConfigSpace } from './config-space.ts';
import type { MsiOptions } from './msi.ts';
import type { EmuMsix, MsixPlacement } from './msix.ts';
import type { MmioHandler } from './region.ts';

export interface BarSpec {
  index: number;
  /** Power of two ≥ 16 bytes. */
  size: number;
  handler: MmioHandler;
  /** A 64-bit memory BAR (takes registers `index` and `index + 1`). Default false. */
  is64?: boolean;
}

/** A capability the model places itself, at a fixed offset, after MSI / MSI-X (list order = array order). */
export interface CapabilitySpec {
  id: number;
  size: number;
  offset: number;
  /** Fills registers and write masks once the capability is linked at `at`. */
  init(config: EmuConfigSpace, at: number): void;
}

export interface EmuDeviceSpec {
  identity: { vendorId: number; deviceId: number; classCode: number; revision: number };
  /** Interrupt Pin (0 none, 1 INTA#). */
  pin: number;
  bars: BarSpec[];
  msi?: MsiOptions;
  /**
   * MSI-X vectors; the table and PBA get BAR `bar` of their own (msix.ts layout), or — with `placement`
   * — sit at those offsets of the model's BAR `bar` (which must be in `bars`).
   */
  msix?: { vectors: number; bar: number; placement?: MsixPlacement };
  /** Capabilities after MSI / MSI-X, in list order (e.g. QEMU NVMe: PCI Express at 0x80, PM at 0x60). */
  capabilities?: CapabilitySpec[];
  /** 256 (default) or 4096 for a PCI Express function. */
  configSize?: number;
  dmaMask: bigint;
}

/** A model's BAR with the MSI-X table and PBA inside it: table / PBA accesses go to the capability. */
export class SharedMsixBar implements MmioHandler {
  readonly #model: MmioHandler;
  readonly #msix: EmuMsix;
  constructor(model: MmioHandler, msix: EmuMsix) {
    this.#model = model;
    this.#msix = msix;
  }
  read(offset: number, width: 1 | 2 | 4): number {
    return this.#msix.covers(offset, width) ? this.#msix.read(offset, width) : this.#model.read(offset, width);
  }
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    if (this.#msix.covers(offset, width)) this.#msix.write(offset, width, value);
    else this.#model.write(offset, width, value);
  }
  read64(offset: number): bigint {
    return this.#msix.covers(offset, 8) ? this.#msix.read64(offset) : this.#model.read64(offset);
  }
  write64(offset: number, value: bigint): void {
    if (this.#msix.covers(offset, 8)) this.#msix.write64(offset, value);
    else this.#model.write64(offset, value);
  }
}

