/**
 * The device side of an MSI / MSI-X interrupt object (spec/zircon.md A.10 "Masking", "Lifetime"), as
 * zircon/kernel/object/msi_dispatcher.cc does it:
 *
 * * The MSI capability "is managed by the PCI bus driver": the dispatcher never writes its address,
 *   data, Multiple Message Enable or Enable bits. It only flips bit `msi_id` of the Mask Bits register
 *   (offset 0x0C for 32-bit, 0x10 for 64-bit capabilities) when the function has per-vector masking;
 *   without it mask/unmask are no-ops, as on x86.
 * * MSI-X: the constructor (MsiInterruptDispatcherImpl) writes the table entry's address, upper address
 *   and data (`target_data + msi_id`) and masks it; mask/unmask are read-modify-writes of Vector Control
 *   bit 0 (32-bit accesses); the entry is zeroed in the destructor — when the object is freed, not at
 *   zx_interrupt_destroy. MSI-X Enable and the Function Mask are the bus driver's too.
 * * Delivery: the handler is registered for vector `target_data + msi_id` with the platform's
 *   decoder (platform/msi-decoder.ts) and unregistered at destroy; a device message reaches it only
 *   when the capability / entry holds that address and data and the bus driver enabled MSI.
 *
 * Register accesses go through the physical address map, so they reach the device's config space / BAR,
 * or RAM for a capability written there (no device behind it). Over VFIO the Mask Bits writes do not
 * mask anything (vfio-pci virtualises them), so masking also latches the IrqLine (QEMU's approach).
 */
import type { PciDevice } from '../../pci/device.ts';
import { IrqLine, type IrqConsumer } from '../../irq/irq-line.ts';
import type { IrqStamps } from '../../irq/stamps.ts';
import {
  PCI_MSI_MASK_32, PCI_MSI_MASK_64, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL,
} from '../../pci/regs.ts';
import { registerMsiVector, unregisterMsiVector } from '../platform/msi-decoder.ts';
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
  /** The platform's line for vector target_data + msi_id; the decoder fires it. */
  readonly line: IrqLine;
  readonly #interrupt: InterruptObject;
  readonly #allocation: MsiAllocationObject;
  readonly #msiId: number;
  readonly #msix: boolean;
  /** MSI: physical address of the Mask Bits register (null without PVM). MSI-X: the entry's address. */
  readonly #maskAddr: bigint | null;
  #maskRegister: PhysicalRegister32 | null = null;
  readonly #entryAddr: bigint;
  readonly #route: MsiRoute | null;
  readonly #platformVector: number;
  #live = true;
  #unregisterClose: (() => void) | null = null;
  /** The kernel's mapping of the VMO, held until the object is freed (A.10 step 6). */
  readonly #unmapVmo: () => void;

  constructor(interrupt: InterruptObject, allocation: MsiAllocationObject, msiId: number, msix: boolean,
    structureAddr: bigint, msiControl: { is64: boolean; pvm: boolean }, route: MsiRoute | null, unmapVmo: () => void) {
    this.#unmapVmo = unmapVmo;
    this.#interrupt = interrupt;
    this.#allocation = allocation;
    this.#msiId = msiId;
    this.#msix = msix;
    this.#route = route;
    this.#platformVector = allocation.block.targetData + msiId;
    this.#entryAddr = msix ? structureAddr + BigInt(PCI_MSIX_ENTRY_SIZE * msiId) : 0n;
    this.#maskAddr = msix ? this.#entryAddr + BigInt(PCI_MSIX_ENTRY_VECTOR_CTRL)
      : msiControl.pvm ? structureAddr + BigInt(msiControl.is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32) : null;
    const where = route === null ? 'no device' : `${route.device.bdf} ${msix ? 'MSI-X' : 'MSI'} ${route.vector}`;
    this.line = new IrqLine(`zircon msi ${allocation.block.baseIrqId + msiId} (${where})`);
  }

  /**
   * Registers the vector handler and, for MSI-X, programs the entry: masked, address = target_addr,
   * data = target_data + msi_id (A.10; MsiInterruptDispatcherImpl's constructor).
   */
  connect(): void {
    this.line.setConsumer(this);
    registerMsiVector(this.#platformVector, this.line);
    if (this.#route !== null) this.#unregisterClose = this.#route.device.onClose(() => this.detached());
    if (this.#maskAddr !== null) this.#maskRegister = new PhysicalRegister32(this.#maskAddr);
    this.mask();
    if (this.#msix) {
      const block = this.#allocation.block;
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_LOWER_ADDR), 4, Number(block.targetAddr & 0xffffffffn));
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_UPPER_ADDR), 4, Number(block.targetAddr >> 32n));
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_DATA), 4, this.#platformVector);
    }
  }

  fire(_count: number, stamps: IrqStamps): void {
    this.#interrupt.hardwareInterrupt(stamps);
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

  #deviceOpen(): boolean {
    return this.#route === null || !this.#route.device.closed;
  }

  #setMasked(masked: boolean): void {
    if (!this.#live) return;
    const register = this.#maskRegister;
    if (register === null) return; // MSI without PVM: no-op (x86 has no platform MSI masking)
    if (this.#deviceOpen()) {
      const bit = this.#msix ? PCI_MSIX_ENTRY_CTRL_MASKBIT : (1 << this.#msiId) >>> 0;
      const value = register.read();
      register.write(masked ? (value | bit) >>> 0 : (value & ~bit) >>> 0);
    }
    if (masked) this.line.mask();
    else this.line.unmask();
  }

  /** zx_interrupt_destroy: masked, handler unregistered; the MSI-X entry keeps its message until freed. */
  teardown(): void {
    if (!this.#live) return;
    this.mask();
    this.#live = false;
    unregisterMsiVector(this.#platformVector, this.line);
    this.line.setConsumer(null);
    this.line.clearPending();
    this.#unregisterClose?.();
    this.#unregisterClose = null;
  }

  /** The object is freed: the MSI-X entry is zeroed, the id goes back to the allocation (A.10 "Lifetime"). */
  release(): void {
    this.teardown();
    if (this.#msix && this.#deviceOpen()) {
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_LOWER_ADDR), 4, 0);
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_UPPER_ADDR), 4, 0);
      physWrite(this.#entryAddr + BigInt(PCI_MSIX_ENTRY_DATA), 4, 0);
    }
    this.#allocation.releaseId(this.#msiId);
    this.#unmapVmo();
  }
}
