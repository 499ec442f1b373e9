/**
 * `PciDevice`: the one interface both backends implement (lib/emu in software, lib/vfio through the
 * addon), and the only thing drivers and kits talk to. Modelled on VFIO: regions by index, interrupt
 * routing per IRQ index (INTx / MSI / MSI-X) to `IrqLine`s, DMA through an IOMMU domain.
 *
 * Errors: out-of-range or misaligned offsets throw RangeError; everything else a `DdkError` with `code`.
 */
import type { IrqLine } from '../irq/irq-line.ts';
import type { IrqStamps } from '../irq/stamps.ts';
import type { IrqIndex } from './vfio-indices.ts';

/** Configuration space: 256 bytes (conventional) or 4096 (PCIe). Accesses must be naturally aligned. */
export interface ConfigSpace {
  readonly size: number;
  read8(offset: number): number;
  read16(offset: number): number;
  read32(offset: number): number;
  write8(offset: number, value: number): void;
  write16(offset: number, value: number): void;
  write32(offset: number, value: number): void;
}

/** Typed-array views straight over a region's memory (element access = one load/store of that width). */
export interface RegionView {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
}

/** A BAR (or other region). Offsets are bytes from the region start, naturally aligned. */
export interface PciRegion {
  readonly index: number;
  readonly size: bigint;
  read8(offset: number): number;
  read16(offset: number): number;
  read32(offset: number): number;
  read64(offset: number): bigint;
  write8(offset: number, value: number): void;
  write16(offset: number, value: number): void;
  write32(offset: number, value: number): void;
  write64(offset: number, value: bigint): void;
  /**
   * Views over the region when it is directly mapped memory (a mmapped VFIO BAR): the fastest MMIO
   * path. null when accesses are handled in software (emulated registers) or the region is trapped.
   */
  readonly view: RegionView | null;
}

/** What VFIO_DEVICE_GET_IRQ_INFO reports for an index (spec/pci-vfio.md C.4). */
export interface IrqInfo {
  readonly index: IrqIndex;
  /** Vectors the device has at this index (0: none; INTx: 1 when the device has an interrupt pin). */
  readonly count: number;
  readonly eventfd: boolean;
  readonly maskable: boolean;
  readonly automasked: boolean;
  readonly noresize: boolean;
}

/**
 * The platform's interrupt controller as a device's messages reach it. A message-signalled interrupt
 * is a memory write of `data` to `address` (PCI 3.0 §6.8.1.6 for MSI — the function puts the vector
 * number in the low bits of the data its capability holds — and §6.8.2 for an MSI-X table entry).
 * Messages of vectors no line is attached to go here: that is how MSI / MSI-X that a bus driver
 * enabled itself in config space is delivered (Fuchsia's model: the kernel's msi_dispatcher.cc never
 * touches the capability; the bus driver writes address, data, MME and Enable). The sink decodes the
 * message, as an interrupt controller does.
 */
export interface MsiMessageSink {
  /**
   * `count` fires coalesced. `stamps`: the first fire's timestamps when the backend took them as it
   * read the eventfd (VFIO: the thread's wake record, valid during the call); null: the sink takes its
   * own (emulated devices).
   */
  message(addressLo: number, addressHi: number, data: number, count: number, stamps: IrqStamps | null): void;
}

/**
 * Interrupt routing, as VFIO_DEVICE_SET_IRQS does it: each vector of the active index signals one
 * `IrqLine`. Only one index is active at a time. Enabling an index programs the device the way the
 * kernel does (MSI Enable / MSI-X Enable; INTx routed); a driver or kit still programs what the
 * kernel leaves to it (e.g. per-vector masks it emulates through the line's latch).
 */
export interface PciInterrupts {
  info(index: IrqIndex): IrqInfo;
  /** The index that currently has lines attached, or null. */
  readonly activeIndex: IrqIndex | null;
  /**
   * Routes `vector` of `index` to `line`; the first attach enables the index. Attaching while another
   * index is active → DdkError 'EBUSY'; vector ≥ count → RangeError; a vector already routed → 'EEXIST'.
   */
  attach(index: IrqIndex, vector: number, line: IrqLine): void;
  /** Unroutes a vector (its line is told through `IrqLine.detach`); the last detach disables the index. */
  detach(index: IrqIndex, vector: number): void;
  /** Detaches every vector of `index` and disables it. */
  disable(index: IrqIndex): void;
  /** INTx is level-triggered and automasked when it fires; this re-enables it (VFIO ACTION_UNMASK). */
  unmaskIntx(): void;
  /** Masks INTx at the interrupt controller (VFIO ACTION_MASK). */
  maskIntx(): void;
  /** Loopback: signal `vector`'s line as if the device had fired it (DATA_NONE | ACTION_TRIGGER). */
  trigger(index: IrqIndex, vector: number): void;
  /**
   * Where messages go that the function sends while MSI or MSI-X was enabled through config space (a
   * bus driver's write of MSI Enable / MSI-X Enable) rather than by `attach`. Over VFIO such an enable
   * is turned into VFIO_DEVICE_SET_IRQS underneath, as QEMU's vfio-pci does for a guest; an INTx line
   * attached meanwhile stays attached and quiet (PCI 3.0 §6.8.1.3: with MSI enabled the function does
   * not assert its pin) and is re-armed when MSI is disabled. null: such messages are dropped.
   */
  setMessageSink(sink: MsiMessageSink | null): void;
}

/** Host memory the device can reach at `iova` until `free()`. */
export interface DmaBuffer {
  readonly iova: bigint;
  readonly size: number;
  readonly bytes: Uint8Array;
  free(): void;
}

/** An IOMMU mapping of existing host memory. */
export interface DmaMapping {
  readonly iova: bigint;
  readonly size: number;
  unmap(): void;
}

/** Page-aligned host memory that can be mapped for DMA (see lib/pci/host-memory.ts). */
export interface HostMemory {
  readonly bytes: Uint8Array;
  readonly size: number;
  /** True when it is native page-aligned memory (required by the VFIO backend's `map`). */
  readonly native: boolean;
  free(): void;
}

export interface DmaMapOptions {
  /** IOVA to map at; default: the allocator picks one below the DMA mask. */
  iova?: bigint;
  /** Device may read (default true) / write (default true). */
  read?: boolean;
  write?: boolean;
  /**
   * Placement limits for an allocator-chosen IOVA (ignored when `iova` is given): the mapping lies in
   * [minIova, maxIova] (inclusive; maxIova is lowered to the DMA mask) and starts on a multiple of
   * `align` (a power of two; below the page size means the page size). Used by the illumos DMA
   * attributes (ddi_dma_attr_t addr_lo / addr_hi / align). Nothing fits → DdkError 'ENOSPC'.
   */
  minIova?: bigint;
  maxIova?: bigint;
  align?: bigint;
}

/** The device's IOMMU domain: it reaches only what is mapped here. */
export interface PciDma {
  /** Highest address the device can generate (its DMA mask); IOVAs are allocated below it. */
  readonly mask: bigint;
  setMask(mask: bigint): void;
  /** Allocates page-aligned host memory (size rounded up to pages) and maps it at an IOVA. */
  alloc(size: number, options?: { hugepage?: boolean }): DmaBuffer;
  /** Maps existing host memory; `size` bytes from its start (default: all of it). */
  map(memory: HostMemory, options?: DmaMapOptions & { size?: number }): DmaMapping;
}

export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  /** 24-bit class code: base << 16 | sub << 8 | prog-if. */
  readonly classCode: number;
  readonly revision: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
}

/**
 * A reset of the function. 'function': `reset()` (VFIO_DEVICE_RESET: FLR, or whichever method the
 * kernel found). 'bus': a secondary-bus / slot reset (`VfioDevice.hotReset()`), which reaches every
 * function behind the same bridge. Either way the host kernel saved and restored the config space and
 * its own MSI/MSI-X programming around it (pci_try_reset_function / pci_reset_bus → pci_dev_restore);
 * the function's own registers are back at their reset values.
 */
export interface ResetEvent {
  readonly kind: 'function' | 'bus';
}

export interface PciDevice extends Disposable {
  /** "dddd:bb:dd.f" */
  readonly bdf: string;
  readonly backend: 'emu' | 'vfio';
  readonly identity: PciIdentity;
  readonly config: ConfigSpace;
  /** BAR `index` (0–5). RangeError for another index; DdkError 'ENOENT' when the BAR is not implemented. */
  bar(index: number): PciRegion;
  readonly irq: PciInterrupts;
  readonly dma: PciDma;
  /**
   * Function-level reset (VFIO_DEVICE_RESET); DdkError 'ENOTSUP' when the device has none. Interrupt
   * routing and DMA mappings stay valid; the `onReset` listeners run after it.
   */
  reset(): void;
  /**
   * Registers a callback run after every reset that reached the function (its own `reset()`, a hot
   * reset of its bus); returns an unregister function. Drivers re-initialise the device's registers
   * here; the kits re-program what they own (DDI: the MSI/MSI-X settings, ddi_intr_alloc(9F) NOTES).
   */
  onReset(listener: (event: ResetEvent) => void): () => void;
  /**
   * Registers a callback run when the device is being taken away (VFIO's device request: an unbind or
   * a hot-unplug; emulated: `requestRemoval()`), while it is still open; the device closes itself right
   * after the listeners, so the kernel's removal can complete. Returns an unregister function.
   */
  onRemovalRequest(listener: () => void): () => void;
  readonly closed: boolean;
  /**
   * Disables interrupts (every attached line is detached, so pending waits resolve), unmaps DMA,
   * releases everything. Idempotent. Later accesses throw DdkError 'ECLOSED'.
   */
  close(): void;
  /** Registers a callback run once when the device closes; returns an unregister function. */
  onClose(listener: () => void): () => void;
}
