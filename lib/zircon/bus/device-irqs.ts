/**
 * One function's interrupt modes as the bus driver manages them (src/devices/bus/drivers/pci/
 * device_irqs.cc, step for step):
 *
 * * SetIrqMode: mode ≥ COUNT → NOT_SUPPORTED; count 0 (mode ≠ DISABLED) → INVALID_ARGS; then the
 *   current mode is disabled — BAD_STATE while any MSI/MSI-X interrupt object of it is still alive
 *   (VerifyAllMsisFreed: ZX_INFO_MSI interrupt_count ≠ 0) — then the new one is entered; a mode the
 *   function lacks → NOT_SUPPORTED.
 * * MSI (EnableMsi): count a power of two ≤ the capability's vectors (else INVALID_ARGS); bus mastering
 *   on; zx_msi_allocate(count); address and data from ZX_INFO_MSI, MME = log2(count), MSI Enable.
 * * MSI-X (EnableMsix): bus mastering on; zx_msi_allocate(bit_ceil(count)); MSI-X Enable with the
 *   Function Mask set until MapInterrupt creates a vector (zx_msi_create programs the entry).
 * * LEGACY / LEGACY_NOACK (EnableLegacy): the function joins the bus's shared-vector list
 *   (legacy-irqs.ts), Interrupt Disable cleared.
 * * MapInterrupt: DISABLED → BAD_STATE; legacy: which_irq 0 only, a duplicate of the function's virtual
 *   interrupt; MSI: zx_msi_create over the ECAM VMO at the capability; MSI-X: over the table BAR's VMO.
 */
import type { MsiLayout, MsixLayout } from '../../pci/capabilities.ts';
import {
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE, PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, PCI_STATUS, PCI_STATUS_INTERRUPT,
} from '../../pci/regs.ts';
import { ZX_INFO_MSI } from '../constants/object-types.ts';
import { ZX_INTERRUPT_VIRTUAL, ZX_MSI_MODE_MSI_X } from '../constants/options.ts';
import { ZX_RIGHT_SAME_RIGHTS } from '../constants/rights.ts';
import { ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED, ZX_OK } from '../constants/status.ts';
import { zx_handle_close, zx_handle_duplicate } from '../syscalls/handle.ts';
import { zx_interrupt_create, zx_interrupt_destroy, zx_interrupt_trigger } from '../syscalls/interrupt.ts';
import { zx_msi_allocate, zx_msi_create } from '../syscalls/msi.ts';
import { zx_object_get_info } from '../syscalls/object.ts';
import type { Out, zx_info_msi_t } from '../types.ts';
import type { EcamConfig } from './ecam-config.ts';
import { addToSharedIrqList, removeFromSharedIrqList, type LegacyIrqClient } from './legacy-irqs.ts';
import {
  kLegacyNoAckPeriod, kMaxIrqsPerNoAckPeriod, PCI_INTERRUPT_MODE_COUNT, PCI_INTERRUPT_MODE_DISABLED,
  PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_LEGACY_NOACK, PCI_INTERRUPT_MODE_MSI, PCI_INTERRUPT_MODE_MSI_X,
} from './pci-constants.ts';
import { writeMsiCapability } from './msi-capability.ts';

export interface pci_interrupt_modes_t {
  has_legacy: boolean;
  msi_count: number;
  msix_count: number;
}

/** What the interrupt code needs from its bus device. */
export interface IrqContext {
  readonly root: number;
  readonly config: EcamConfig;
  readonly msi: MsiLayout | null;
  readonly msix: MsixLayout | null;
  /** Platform vector of the function's INTx, null without a pin (the Interrupt Line the bus routed). */
  readonly legacyVector: number | null;
  /** A physical VMO over the MSI-X table's BAR (UNCACHED_DEVICE); number = status. */
  msixTableVmo(): number;
  setBusMastering(enabled: boolean): number;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
const bitCeil = (n: number): number => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));

export class DeviceIrqs implements LegacyIrqClient {
  mode: number = PCI_INTERRUPT_MODE_DISABLED;
  /** The virtual interrupt drivers get in legacy mode (Device::InitInterrupts). */
  readonly legacy: number;
  legacyDisabled = false;
  legacyIrqPeriodStart = 0n;
  irqsInPeriod = 0;
  #msiAllocation = 0;
  readonly #ctx: IrqContext;

  constructor(ctx: IrqContext) {
    this.#ctx = ctx;
    const legacy = { value: 0 };
    if (zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL, legacy) !== ZX_OK) throw new Error('pci bus: cannot create the legacy virtual interrupt');
    this.legacy = legacy.value;
  }

  getInterruptModes(): pci_interrupt_modes_t {
    return {
      has_legacy: this.#ctx.legacyVector !== null,
      msi_count: this.#ctx.msi?.vectors ?? 0,
      msix_count: this.#ctx.msix?.vectors ?? 0,
    };
  }

  setIrqMode(mode: number, irqCnt: number): number {
    if (mode >= PCI_INTERRUPT_MODE_COUNT) return ZX_ERR_NOT_SUPPORTED;
    if (mode !== PCI_INTERRUPT_MODE_DISABLED && irqCnt === 0) return ZX_ERR_INVALID_ARGS;
    const disabled = this.disableInterrupts();
    if (disabled !== ZX_OK) return disabled;
    switch (mode) {
      case PCI_INTERRUPT_MODE_DISABLED: return ZX_OK;
      case PCI_INTERRUPT_MODE_LEGACY: return this.#enableLegacy(true);
      case PCI_INTERRUPT_MODE_LEGACY_NOACK: return this.#enableLegacy(false);
      case PCI_INTERRUPT_MODE_MSI: return this.#ctx.msi === null ? ZX_ERR_NOT_SUPPORTED : this.#enableMsi(this.#ctx.msi, irqCnt);
      default: return this.#ctx.msix === null ? ZX_ERR_NOT_SUPPORTED : this.#enableMsix(this.#ctx.msix, irqCnt);
    }
  }

  disableInterrupts(): number {
    let status = ZX_OK;
    switch (this.mode) {
      case PCI_INTERRUPT_MODE_DISABLED: return ZX_OK;
      case PCI_INTERRUPT_MODE_LEGACY:
      case PCI_INTERRUPT_MODE_LEGACY_NOACK: status = this.#disableLegacy(); break;
      case PCI_INTERRUPT_MODE_MSI: status = this.#disableMsi(); break;
      default: status = this.#disableMsix(); break;
    }
    if (status === ZX_OK) this.mode = PCI_INTERRUPT_MODE_DISABLED;
    return status;
  }

  mapInterrupt(whichIrq: number, out: Out<number>): number {
    switch (this.mode) {
      case PCI_INTERRUPT_MODE_LEGACY:
      case PCI_INTERRUPT_MODE_LEGACY_NOACK:
        if (whichIrq !== 0) return ZX_ERR_INVALID_ARGS;
        return zx_handle_duplicate(this.legacy, ZX_RIGHT_SAME_RIGHTS, out);
      case PCI_INTERRUPT_MODE_MSI:
        return zx_msi_create(this.#msiAllocation, 0, whichIrq, this.#ctx.config.vmo, (this.#ctx.msi as MsiLayout).offset, out);
      case PCI_INTERRUPT_MODE_MSI_X: {
        const msix = this.#ctx.msix as MsixLayout;
        const vmo = this.#ctx.msixTableVmo();
        if (vmo < 0) return vmo;
        const status = zx_msi_create(this.#msiAllocation, ZX_MSI_MODE_MSI_X, whichIrq, vmo, msix.tableOffset, out);
        // Function-level masking off once at least one vector exists (device_irqs.cc MapInterrupt).
        if (status === ZX_OK) this.#ctx.config.modify16(msix.offset + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_MASKALL, 0);
        return status;
      }
      default: return ZX_ERR_BAD_STATE;
    }
  }

  /** Device::AckLegacyIrq: LEGACY only; clears Interrupt Disable. */
  ackLegacyIrq(): number {
    if (this.mode !== PCI_INTERRUPT_MODE_LEGACY) return ZX_ERR_BAD_STATE;
    this.#enableLegacyIrq();
    return ZX_OK;
  }

  /** The per-device body of Bus::LegacyIrqWorker. */
  serviceLegacyIrq(timestamp: bigint): void {
    const config = this.#ctx.config;
    if ((config.read16(PCI_STATUS) & PCI_STATUS_INTERRUPT) === 0) return;
    zx_interrupt_trigger(this.legacy, 0, timestamp);
    let disable = true;
    if (this.mode === PCI_INTERRUPT_MODE_LEGACY_NOACK) {
      this.irqsInPeriod++;
      if (timestamp - this.legacyIrqPeriodStart >= kLegacyNoAckPeriod) {
        this.legacyIrqPeriodStart = timestamp;
        this.irqsInPeriod = 1;
      }
      if (this.irqsInPeriod < kMaxIrqsPerNoAckPeriod) disable = false;
    }
    if (disable) this.#disableLegacyIrq();
  }

  /** The device is going away: interrupts off (without the BAD_STATE check), handles released. */
  release(): void {
    if (this.mode === PCI_INTERRUPT_MODE_LEGACY || this.mode === PCI_INTERRUPT_MODE_LEGACY_NOACK) {
      removeFromSharedIrqList(this, this.#ctx.legacyVector as number);
    }
    if (this.#msiAllocation !== 0) zx_handle_close(this.#msiAllocation);
    this.#msiAllocation = 0;
    this.mode = PCI_INTERRUPT_MODE_DISABLED;
    // Drivers' duplicates outlive the bus's handle: destroying the object ends their waits (CANCELED)
    // instead of leaving them hanging on a function that is gone.
    zx_interrupt_destroy(this.legacy);
    zx_handle_close(this.legacy);
  }

  #enableLegacyIrq(): void {
    this.#ctx.config.modify16(PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 0);
    this.legacyDisabled = false;
  }

  #disableLegacyIrq(): void {
    this.#ctx.config.modify16(PCI_COMMAND, 0, PCI_COMMAND_INTX_DISABLE);
    this.legacyDisabled = true;
  }

  #enableLegacy(needsAck: boolean): number {
    const vector = this.#ctx.legacyVector;
    if (vector === null) return ZX_ERR_NOT_SUPPORTED;
    const status = addToSharedIrqList(this, this.#ctx.root, vector);
    if (status !== ZX_OK) return status;
    this.#enableLegacyIrq();
    this.irqsInPeriod = 0;
    this.mode = needsAck ? PCI_INTERRUPT_MODE_LEGACY : PCI_INTERRUPT_MODE_LEGACY_NOACK;
    return ZX_OK;
  }

  #disableLegacy(): number {
    removeFromSharedIrqList(this, this.#ctx.legacyVector as number);
    this.#disableLegacyIrq();
    return ZX_OK;
  }

  #allocateMsi(count: number): { status: number; info?: zx_info_msi_t } {
    const msi = { value: 0 };
    const status = zx_msi_allocate(this.#ctx.root, count, msi);
    if (status !== ZX_OK) return { status };
    const info = { value: {} as object };
    const got = zx_object_get_info(msi.value, ZX_INFO_MSI, info);
    if (got !== ZX_OK) {
      zx_handle_close(msi.value);
      return { status: got };
    }
    this.#msiAllocation = msi.value;
    return { status: ZX_OK, info: info.value as zx_info_msi_t };
  }

  #enableMsi(msi: MsiLayout, irqCnt: number): number {
    if (!isPowerOfTwo(irqCnt) || irqCnt > msi.vectors) return ZX_ERR_INVALID_ARGS;
    const bm = this.#ctx.setBusMastering(true); // MSI messages are memory writes: bus mastering on
    if (bm !== ZX_OK) return bm;
    const { status, info } = this.#allocateMsi(irqCnt);
    if (status !== ZX_OK || info === undefined) return status;
    writeMsiCapability(this.#ctx.config, msi, info, irqCnt);
    this.mode = PCI_INTERRUPT_MODE_MSI;
    return ZX_OK;
  }

  #enableMsix(msix: MsixLayout, irqCnt: number): number {
    // Not in device_irqs.cc (there zx_msi_create refuses the excess vectors later); said up front here.
    if (irqCnt > msix.vectors) return ZX_ERR_INVALID_ARGS;
    const bm = this.#ctx.setBusMastering(true);
    if (bm !== ZX_OK) return bm;
    // MSI-X takes any count, but the allocator hands out power-of-two blocks.
    const { status } = this.#allocateMsi(bitCeil(irqCnt));
    if (status !== ZX_OK) return status;
    this.#ctx.config.modify16(msix.offset + PCI_MSIX_FLAGS, 0, PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
    this.mode = PCI_INTERRUPT_MODE_MSI_X;
    return ZX_OK;
  }

  /** VerifyAllMsisFreed: an interrupt object of the allocation still alive → BAD_STATE. */
  #verifyAllMsisFreed(): number {
    if (this.#msiAllocation === 0) return ZX_OK;
    const info = { value: {} as object };
    const status = zx_object_get_info(this.#msiAllocation, ZX_INFO_MSI, info);
    if (status !== ZX_OK) return status;
    return (info.value as zx_info_msi_t).interrupt_count !== 0 ? ZX_ERR_BAD_STATE : ZX_OK;
  }

  #releaseAllocation(): void {
    zx_handle_close(this.#msiAllocation);
    this.#msiAllocation = 0;
  }

  #disableMsi(): number {
    const status = this.#verifyAllMsisFreed();
    if (status !== ZX_OK) return status;
    const msi = this.#ctx.msi as MsiLayout;
    this.#ctx.config.modify16(msi.offset + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 0);
    this.#releaseAllocation();
    return ZX_OK;
  }

  #disableMsix(): number {
    const status = this.#verifyAllMsisFreed();
    if (status !== ZX_OK) return status;
    const msix = this.#ctx.msix as MsixLayout;
    this.#ctx.config.modify16(msix.offset + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL);
    this.#releaseAllocation();
    return ZX_OK;
  }
}
