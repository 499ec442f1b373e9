/**
 * The device side of an MSI / MSI-X interrupt object (spec/zircon.md A.10 "Masking", "Lifetime").
 *
 * MSI: mask/unmask flip bit `msi_id` of the capability's Mask Bits (offset 0x0C for 32-bit, 0x10 for
 * 64-bit capabilities) when it has per-vector masking; without it they are no-ops, as on x86.
 * MSI-X: read-modify-write of the entry's Vector Control bit 0 (32-bit accesses); created masked with
 * address/data programmed, zeroed on destroy.
 * Both go through the physical address map, so they reach the device's config space / BAR, or RAM
 * for a capability written there (no device behind it). Over VFIO those register writes do not mask
 * anything (vfio-pci virtualises them), so masking also latches the IrqLine (QEMU's approach).
 */
import type { PciDevice } from '../../pci/device.ts';
import { VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../pci/vfio-indices.ts';
import { IrqLine, type IrqConsumer } from '../../irq/irq-line.ts';
import {
  PCI_MSI_MASK_32, PCI_MSI_MASK_64, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL,
} from '../../pci/regs.ts';
import { PhysicalRegister32, physWrite } from '../platform/physical-memory.ts';
import type { InterruptHardware } from './interrupt-state.ts';
import type { InterruptObject } from './interrupt.ts';
import type { MsiAllocationObject } from './msi-allocation.ts';

/** Where the vector lives on a device (null: a capability in plain RAM, nothing behind it). */
export interface MsiRoute {
  readonly device: PciDevice;
  /** The device's vector number at that index (MSI: msi_id; MSI-X: the table entry). */
  readonly vector: number;
}

export class MsiHardware implements InterruptHardware, IrqConsumer {
  readonly line: IrqLine | null;
  readonly #interrupt: InterruptObject;
  readonly #allocation: MsiAllocationObject;
  readonly #msiId: number;
  readonly #msix: boolean;
  /** MSI: physical address of the Mask Bits register (null without PVM). MSI-X: the entry's address. */
  readonly #maskAddr: bigint | null;
  #maskRegister: PhysicalRegister32 | null = null;
  readonly #entryAddr: bigint;
  readonly #route: MsiRoute | null;
  #live = true;
  #unregisterClose: (() => void) | null = null;

  constructor(interrupt: InterruptObject, allocation: MsiAllocationObject, msiId: number, msix: boolean,
    structureAddr: bigint, msiControl: { is64: boolean; pvm: boolean }, route: MsiRoute | null) {
    this.#interrupt = interrupt;
    this.#allocation = allocation;
    this.#msiId = msiId;
    this.#msix = msix;
    this.#route = route;
    this.#entryAddr = msix ? structureAddr + BigInt(PCI_MSIX_ENTRY_SIZE * msiId) : 0n;
    this.#maskAddr = msix ? this.#entryAddr + BigInt(PCI_MSIX_ENTRY_VECTOR_CTRL)
      : msiControl.pvm ? structureAddr + BigInt(msiControl.is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32) : null;
    this.line = route === null ? null : new IrqLine(`zircon msi ${allocation.block.baseIrqId + msiId} (${route.device.bdf} ${msix ? 'MSI-X' : 'MSI'} ${route.vector})`);
  }

  /**
   * Wires the vector (as the kernel's interrupt registration) and, for MSI-X, programs the entry:
   * masked, address = target_addr, data = target_data + msi_id (A.10). Throws what attach throws.
   */
  connect(): void {
    if (this.#route !== null && this.line !== null) {
      const { device, vector } = this.#route;
      this.line.setConsumer(this);
      device.irq.attach(this.#msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX, vector, this.line);
      this.#unregisterClose = device.onClose(() => this.detached());
    }
    if (this.#maskAddr !== null) this.#maskRegister = new PhysicalRegister32(this.#maskAddr);
    this.mask();
    if (this.#msix) {
      const block = this.#allocation.block;
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_LOWER_ADDR), 4, Number(block.targetAddr & 0xffffffffn));
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_UPPER_ADDR), 4, Number(block.targetAddr >> 32n));
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_DATA), 4, block.targetData + this.#msiId);
    }
  }

  fire(_count: number, bootNs: bigint, monoNs: bigint): void {
    this.#interrupt.hardwareInterrupt(bootNs, monoNs);
  }

  detached(): void {
    this.#interrupt.hardwareGone();
  }

  mask(): void {
    this.#setMasked(true);
  }

  unmask(): void {
    this.#setMasked(false);
  }

  #setMasked(masked: boolean): void {
    if (!this.#live) return;
    const register = this.#maskRegister;
    if (register === null) return; // MSI without PVM: no-op (x86 has no platform MSI masking)
    if (this.#route?.device.closed !== true) {
      const bit = this.#msix ? PCI_MSIX_ENTRY_CTRL_MASKBIT : (1 << this.#msiId) >>> 0;
      const value = register.read();
      register.write(masked ? (value | bit) >>> 0 : (value & ~bit) >>> 0);
    }
    if (this.line !== null) {
      if (masked) this.line.mask();
      else this.line.unmask();
    }
  }

  teardown(): void {
    if (!this.#live) return;
    this.mask();
    this.#live = false;
    const route = this.#route;
    const open = route === null || !route.device.closed;
    if (this.#msix && open) {
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_LOWER_ADDR), 4, 0);
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_UPPER_ADDR), 4, 0);
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_DATA), 4, 0);
    }
    if (route !== null && this.line !== null) {
      this.line.setConsumer(null);
      this.line.clearPending();
      this.#unregisterClose?.();
      if (open) {
        try {
          route.device.irq.detach(this.#msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX, route.vector);
        } catch { /* closing concurrently */ }
      }
    }
  }

  /** The object is freed: its id goes back to the allocation (A.10 "Lifetime"). */
  release(): void {
    this.#allocation.releaseId(this.#msiId);
  }
}
