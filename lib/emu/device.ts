/**
 * `EmuPciDevice`: the software backend's `PciDevice`. It owns a type-0 config space (header rules of
 * PCI 3.0 §6.2 as QEMU's pci_init_wmask / w1cmask set them), its BARs (32- or 64-bit non-prefetchable
 * memory BARs whose registers are methods of a device model), optional MSI / MSI-X capabilities (the
 * MSI-X table in a BAR of its own or at given offsets of a model's BAR), further capabilities a model
 * places itself (PM, PCI Express), INTx, the interrupt router (interrupts.ts) and an IOMMU domain
 * (iommu.ts). Device models (edu.ts, test-device.ts, nvme.ts) extend it.
 *
 * A 64-bit BAR takes two BAR registers (PCI 3.0 §6.2.5.1): the low one holds the type bits (0x4) and
 * address bits 31:4, the next one address bits 63:32, all writable, so sizing the pair (write
 * 0xffffffff to both, read back) yields ~(size − 1) over 64 bits; `bar(i + 1)` of the upper half is
 * ENOENT, as VFIO reports a zero-sized region there. Firmware places it below 4 GiB (upper half 0).
 *
 * At creation, as firmware would: a BDF and BAR addresses are assigned (address-space.ts) and the
 * Command register holds Memory Space Enable only (0x0002, as after qboot; spec/edu.md D.7). Bus Master
 * Enable is left to the driver, as vfio-pci leaves it: without it no MSI/MSI-X is delivered and no DMA
 * happens.
 */
import type { ConfigSpace, PciDevice, PciIdentity, PciRegion, ResetEvent } from '../pci/device.ts';
import { DeviceListeners } from '../pci/listeners.ts';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_TYPE_32, PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_CACHE_LINE_SIZE, PCI_CLASS_PROG, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR, PCI_DEVICE_ID, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN,
  PCI_REVISION_ID, PCI_STATUS, PCI_STATUS_DETECTED_PARITY, PCI_STATUS_PARITY, PCI_STATUS_REC_MASTER_ABORT,
  PCI_STATUS_REC_TARGET_ABORT, PCI_STATUS_SIG_SYSTEM_ERROR, PCI_STATUS_SIG_TARGET_ABORT, PCI_STD_NUM_BARS,
  PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID,
} from '../pci/regs.ts';
import { DdkError } from '../errors.ts';
import { monoNs } from '../irq/clock.ts';
import { EmuConfigSpace } from './config-space.ts';
import { allocateBdf, allocateMmio, releaseBdf, releaseMmio } from './address-space.ts';
import { EmuRegion } from './region.ts';
import { EmuMsi } from './msi.ts';
import { EmuMsix } from './msix.ts';
import { type EmuDeviceSpec, SharedMsixBar } from './device-spec.ts';
import { EmuInterrupts } from './interrupts.ts';
import { EmuIommu, type IommuFault } from './iommu.ts';

/** Command bits software may write (QEMU pci_init_wmask). */
const COMMAND_WMASK = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE
  | PCI_COMMAND_SERR | PCI_COMMAND_PARITY;
/** Status error bits software clears by writing 1 (PCI 3.0 §6.2.3). */
const STATUS_W1C = PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT
  | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY;
/** QEMU's default subsystem IDs (Red Hat / QEMU). */
export const EMU_SUBSYSTEM_VENDOR_ID = 0x1af4;
export const EMU_SUBSYSTEM_ID = 0x1100;

/** A device-side problem a real device would log (or crash the VM for): see the models. */
export interface DeviceErrorRecord {
  readonly timeNs: bigint;
  readonly message: string;
}

export class EmuPciDevice implements PciDevice {
  readonly backend = 'emu' as const;
  readonly bdf: string;
  readonly identity: PciIdentity;
  readonly #config: EmuConfigSpace;
  readonly irq: EmuInterrupts;
  readonly dma: EmuIommu;
  readonly deviceErrors: DeviceErrorRecord[] = [];
  protected readonly msi: EmuMsi | null;
  protected readonly msix: EmuMsix | null;
  readonly #bars: (EmuRegion | null)[] = new Array<EmuRegion | null>(PCI_STD_NUM_BARS).fill(null);
  readonly #barBases: number[] = [];
  readonly #slot: number;
  /** BAR register indexes that are the upper half of a 64-bit BAR. */
  readonly #upperHalves = new Set<number>();
  readonly #closeListeners = new DeviceListeners('onClose');
  readonly #resetListeners = new DeviceListeners<[ResetEvent]>('onReset');
  readonly #removalListeners = new DeviceListeners('onRemovalRequest');
  #closed = false;
  #lastCommand = PCI_COMMAND_MEMORY;

  constructor(spec: EmuDeviceSpec) {
    const config = new EmuConfigSpace(spec.configSize);
    this.#config = config;
    const { vendorId, deviceId, classCode, revision } = spec.identity;
    this.identity = { vendorId, deviceId, classCode, revision, subsystemVendorId: EMU_SUBSYSTEM_VENDOR_ID, subsystemId: EMU_SUBSYSTEM_ID };
    config.set16(PCI_VENDOR_ID, vendorId);
    config.set16(PCI_DEVICE_ID, deviceId);
    config.set8(PCI_REVISION_ID, revision);
    config.set8(PCI_CLASS_PROG, classCode & 0xff);
    config.set16(PCI_CLASS_PROG + 1, classCode >>> 8);
    config.set8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
    config.set16(PCI_SUBSYSTEM_VENDOR_ID, EMU_SUBSYSTEM_VENDOR_ID);
    config.set16(PCI_SUBSYSTEM_ID, EMU_SUBSYSTEM_ID);
    config.set8(PCI_INTERRUPT_PIN, spec.pin);
    config.setWmask(PCI_COMMAND, 2, COMMAND_WMASK);
    config.setW1cmask(PCI_STATUS, 2, STATUS_W1C);
    config.setWmask(PCI_CACHE_LINE_SIZE, 1, 0xff);
    config.setWmask(PCI_INTERRUPT_LINE, 1, 0xff);

    this.msi = spec.msi ? new EmuMsi(config, spec.msi) : null;
    let bars = [...spec.bars];
    if (spec.msix) {
      const { vectors, bar: msixBar, placement } = spec.msix;
      const msix = new EmuMsix(config, vectors, msixBar, placement);
      this.msix = msix;
      if (placement === undefined) bars.push({ index: msixBar, size: msix.barSize, handler: msix });
      else bars = bars.map((bar) => (bar.index === msixBar ? { ...bar, handler: new SharedMsixBar(bar.handler, msix) } : bar));
    } else {
      this.msix = null;
    }
    for (const cap of spec.capabilities ?? []) cap.init(config, config.addCapability(cap.id, cap.size, cap.offset));
    this.irq = new EmuInterrupts(config, this.msi, this.msix, spec.pin, this);
    this.dma = new EmuIommu(spec.dmaMask);

    for (const bar of bars) {
      if (bar.is64 === true && (bar.index + 1 >= PCI_STD_NUM_BARS || bars.some((b) => b.index === bar.index + 1))) {
        throw new RangeError(`a 64-bit BAR${bar.index} needs register ${bar.index + 1} free for its upper half`);
      }
    }
    const { bdf, slot } = allocateBdf();
    this.bdf = bdf;
    this.#slot = slot;
    for (const bar of bars) {
      const base = allocateMmio(bar.size);
      this.#barBases.push(base);
      const at = PCI_BASE_ADDRESS_0 + 4 * bar.index;
      // Type bits RO (non-prefetchable memory, 32- or 64-bit); address bits below the size RO zero (§6.2.5.1).
      config.set32(at, (base | (bar.is64 === true ? PCI_BASE_ADDRESS_MEM_TYPE_64 : PCI_BASE_ADDRESS_MEM_TYPE_32)) >>> 0);
      config.setWmask(at, 4, (PCI_BASE_ADDRESS_MEM_MASK & ~(bar.size - 1)) >>> 0);
      if (bar.is64 === true) {
        // The upper half: address bits 63:32, all writable for a BAR below 4 GiB in size; placed below 4 GiB.
        config.set32(at + 4, 0);
        config.setWmask(at + 4, 4, 0xffffffff);
        this.#upperHalves.add(bar.index + 1);
      }
      this.#bars[bar.index] = new EmuRegion(bar.index, bar.size, bar.handler, this);
    }
    config.set16(PCI_COMMAND, PCI_COMMAND_MEMORY);
    config.afterWrite = this.#afterConfigWrite;
  }

  get config(): ConfigSpace {
    return this.#config;
  }

  get closed(): boolean {
    return this.#closed;
  }

  bar(index: number): PciRegion {
    if (!Number.isInteger(index) || index < 0 || index >= PCI_STD_NUM_BARS) throw new RangeError(`BAR index must be 0–5, got ${String(index)}`);
    this.#checkOpen();
    const region = this.#bars[index];
    if (!region) {
      const why = this.#upperHalves.has(index) ? ` (register ${index} is the upper half of 64-bit BAR${index - 1}: use bar(${index - 1}))` : '';
      throw new DdkError('ENOENT', `${this.bdf} has no BAR${index}${why}`);
    }
    return region;
  }

  /** The BAR's current bus address (from its register, both halves for a 64-bit BAR), or null when not implemented. */
  barAddress(index: number): bigint | null {
    if (!Number.isInteger(index) || index < 0 || index >= PCI_STD_NUM_BARS) throw new RangeError(`BAR index must be 0–5, got ${String(index)}`);
    if (!this.#bars[index]) return null;
    const at = PCI_BASE_ADDRESS_0 + 4 * index;
    const low = BigInt((this.#config.get32(at) & PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
    return this.#upperHalves.has(index + 1) ? (BigInt(this.#config.get32(at + 4)) << 32n) | low : low;
  }

  /** IOMMU faults of this device's DMA (iova, direction, time). */
  get iommuFaults(): readonly IommuFault[] {
    return this.dma.faults;
  }

  /** RegionGate: BAR accesses need Memory Space Enable. */
  memoryEnabled(): boolean {
    return (this.#config.get16(PCI_COMMAND) & PCI_COMMAND_MEMORY) !== 0;
  }

  /** Bus Master Enable: the device may DMA and send MSI/MSI-X. */
  busMasterEnabled(): boolean {
    return (this.#config.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) !== 0;
  }

  /**
   * Function-level reset as seen through vfio-pci: the device model returns to its power-on state,
   * the INTx level drops and MSI/MSI-X pending state is cleared; the config header (Command, BARs) and
   * the interrupt routing are kept, because the kernel saves and restores them around the reset. The
   * onReset listeners run after it (the first one that throws is rethrown after all ran).
   */
  reset(): void {
    this.#checkOpen();
    if (!this.hasFunctionReset) {
      throw new DdkError('ENOTSUP', `${this.bdf} has no function-level reset (VFIO_DEVICE_RESET fails on the real device too); close and reopen it, or use powerCycle() in tests`);
    }
    this.resetFunction();
    this.irq.resetIntx();
    this.msi?.clearPending();
    this.msix?.clearPending();
    const failed = this.#resetListeners.emit({ kind: 'function' });
    if (failed !== null) throw failed;
  }

  onReset(listener: (event: ResetEvent) => void): () => void {
    return this.#resetListeners.add(listener);
  }

  /**
   * The emulated counterpart of VFIO's device request (a hot-unplug, an unbind): the onRemovalRequest
   * listeners run while the device is still open, then it closes — pending waits end, DMA is gone.
   * A no-op on a closed device.
   */
  requestRemoval(): void {
    if (this.#closed) return;
    const failed = this.#removalListeners.emit();
    this.close();
    if (failed !== null) this.recordError(`onRemovalRequest listener threw: ${String(failed)}`);
  }

  onRemovalRequest(listener: () => void): () => void {
    return this.#removalListeners.add(listener);
  }

  /** Whether the model has a reset VFIO can use (FLR); the real edu has none (spec/edu.md D.7). */
  protected get hasFunctionReset(): boolean {
    return true;
  }

  /**
   * What a bus reset does to the model, whatever VFIO offers: registers back to power-on. For tests
   * that need a fresh device state on a model without FLR.
   */
  powerCycle(): void {
    this.#checkOpen();
    this.resetModel();
    this.irq.resetIntx();
    this.msi?.clearPending();
    this.msix?.clearPending();
  }

  /** Device models override: registers back to power-on values. */
  protected resetModel(): void {}

  /** What an FLR does to the model's registers; default: power-on values. A model whose FLR keeps some overrides it. */
  protected resetFunction(): void {
    this.resetModel();
  }

  close(): void {
    if (this.#closed) return;
    this.resetModel();
    this.irq.disableAll();
    this.#closed = true;
    this.#config.closed = true;
    this.dma.close();
    for (const base of this.#barBases) releaseMmio(base);
    releaseBdf(this.#slot);
    const failed = this.#closeListeners.emit();
    if (failed !== null) this.recordError(`onClose listener threw: ${String(failed)}`);
    this.#closeListeners.clear();
    this.#resetListeners.clear();
    this.#removalListeners.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  onClose(listener: () => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onClose: listener must be a function');
    if (this.#closed) {
      listener();
      return () => {};
    }
    return this.#closeListeners.add(listener);
  }

  protected recordError(message: string): void {
    this.deviceErrors.push({ timeNs: monoNs(), message });
  }

  protected checkOpen(): void {
    this.#checkOpen();
  }

  #checkOpen(): void {
    if (this.#closed) throw new DdkError('ECLOSED', `${this.bdf} is closed: open a new emulated device`);
  }

  /** Bound once: runs after every software config write. */
  readonly #afterConfigWrite = (offset: number, width: number): void => {
    const command = this.#config.get16(PCI_COMMAND);
    const commandChanged = command !== this.#lastCommand;
    this.#lastCommand = command;
    const touchedMsi = this.msi?.afterWrite(offset, width) ?? false;
    const touchedMsix = this.msix?.afterWrite(offset, width) ?? false;
    if (commandChanged || touchedMsi || touchedMsix) this.irq.updateIntx();
  };
}
