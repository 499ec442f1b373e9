/**
 * Fuchsia's driver-facing PCI device protocol (FIDL `fuchsia.hardware.pci/Device`) in the shape of its
 * C++ wrapper `ddk::Pci` (banjo fuchsia/hardware/pci/cpp/banjo.h), served by the bus-driver layer
 * (bus-device.ts, device-irqs.ts, legacy-irqs.ts) over the Zircon syscalls.
 *
 * The JS shape — one rule, used by every method:
 *   const pci = new Pci(device);                 // ddk::Pci pci(parent);
 *   const bar = { value: null };                 // pci_bar_t bar;
 *   const status = pci.GetBar(0, bar);           // zx_status_t status = pci.GetBar(0, &bar);
 * Methods carry the FIDL names, take the FIDL request fields in order, return a `zx_status_t` and write
 * results into `{ value }` out-parameters (written on ZX_OK only; `null` is a NULL pointer →
 * ZX_ERR_INVALID_ARGS), exactly like the syscalls of this tier. Struct fields carry the FIDL names
 * (GetDeviceInfo's vendor_id…func_id, GetBar's bar_id/size/result, GetInterruptModes' has_legacy/
 * msi_count/msix_count). Handles out (VMO, BTI, interrupt, resource) belong to the caller.
 *
 * Statuses are the bus driver's (fidl.cc, device.h, device_irqs.cc); where this file adds one it says
 * so. Every method of a Pci whose device was closed returns ZX_ERR_PEER_CLOSED, as a FIDL call does
 * once the bus's end of the channel is gone, and the connection's client end (`client_end`) asserts
 * ZX_CHANNEL_PEER_CLOSED: what a driver waiting on a port hears when its device is removed (an
 * interrupt destroyed while bound to a port queues nothing, interrupt_dispatcher.cc Destroy). A JS value of the wrong type throws TypeError (the
 * tier's argument rule, lib/zircon/args.ts).
 */
import type { PciDevice } from '../../pci/device.ts';
import { out, u32 } from '../args.ts';
import { ZX_RSRC_KIND_IOPORT } from '../constants/options.ts';
import { ZX_DEFAULT_CHANNEL_RIGHTS } from '../constants/rights.ts';
import { addHandle } from '../kernel/handle-table.ts';
import { ChannelObject } from '../objects/channel.ts';
import {
  ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_ERR_NOT_SUPPORTED, ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_PEER_CLOSED, ZX_OK,
} from '../constants/status.ts';
import { statusFromDeviceError } from '../syscalls/device-errors.ts';
import { zx_resource_create } from '../syscalls/resource.ts';
import type { Out } from '../types.ts';
import { barDataSize } from './bars.ts';
import { BusDevice, type pci_device_info_t } from './bus-device.ts';
import { nextCapability, type CapEntry } from './capability-lists.ts';
import type { pci_interrupt_modes_t } from './device-irqs.ts';
import { PCI_CONFIG_HDR_SIZE, PCI_EXT_CONFIG_SIZE, PCI_INTERRUPT_MODE_DISABLED, PCI_MAX_BAR_COUNT } from './pci-constants.ts';

export type { pci_device_info_t } from './bus-device.ts';
export type { pci_interrupt_modes_t } from './device-irqs.ts';

/** FIDL BarResult: `vmo` for an MMIO BAR, `io` (port base + an IOPORT resource) for an I/O BAR. */
export type pci_bar_result_t = { vmo: number } | { io: { address: bigint; resource: number } };
export interface pci_bar_t {
  bar_id: number;
  /** Bytes the driver may use (MSI-X table/PBA pages excluded: msix.cc GetBarDataSize). */
  size: bigint;
  result: pci_bar_result_t;
}

type Width = 1 | 2 | 4;

function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
  return value;
}

export class Pci {
  readonly #bus: BusDevice;
  readonly #channel = new ChannelObject();

  /**
   * `ddk::Pci pci(parent)`: the protocol on `device`; every Pci of one device shares its bus record
   * (bus-device.ts), created by the first — which starts the function with its interrupt modes off.
   * TypeError when `device` is not a PciDevice; the backend's DdkError 'ECLOSED' for a device closed
   * before any Pci was made on it.
   */
  constructor(device: PciDevice) {
    this.#bus = BusDevice.of(device);
    this.#bus.connect(this.#channel);
  }

  /** ddk::Pci::is_valid: the bus still serves the device (false once it was closed). */
  is_valid(): boolean {
    return !this.#bus.closed;
  }

  /**
   * Ours (the channel a `ddk::Pci` wraps, as fidl::ClientEnd::channel gives it): a new handle to this
   * connection's client end, owned by the caller, with the default channel rights. Wait on it — or
   * zx_object_wait_async it to a port — for ZX_CHANNEL_PEER_CLOSED, asserted when the bus drops the
   * device (its removal, or close). Works after that too, so a late waiter still sees the signal.
   */
  client_end(outChannel: Out<number> | null): number {
    const o = out<number>('out_channel', outChannel);
    if (o === null) return ZX_ERR_INVALID_ARGS;
    o.value = addHandle(this.#channel, ZX_DEFAULT_CHANNEL_RIGHTS);
    return ZX_OK;
  }

  GetDeviceInfo(outInfo: Out<pci_device_info_t> | null): number {
    const o = out<pci_device_info_t>('out_info', outInfo);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    o.value = { ...this.#bus.info };
    return ZX_OK;
  }

  /**
   * bar_id ≥ 6 → INVALID_ARGS; no BAR there (unimplemented, the upper half of a 64-bit BAR) → NOT_FOUND;
   * an MSI-X table or PBA in the BAR's first page → ACCESS_DENIED. MMIO: a physical VMO over the whole
   * BAR at its platform address (map it with zx_vmar_map; set ZX_CACHE_POLICY_UNCACHED_DEVICE first,
   * as fdf::MmioBuffer::Create does). I/O: its port base and an IOPORT resource over its range.
   */
  GetBar(barId: number, outResult: Out<pci_bar_t> | null): number {
    const id = u32('bar_id', barId);
    const o = out<pci_bar_t>('out_result', outResult);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (id >= PCI_MAX_BAR_COUNT) return ZX_ERR_INVALID_ARGS;
    const bar = this.#bus.bars[id];
    if (bar === null || bar === undefined) return ZX_ERR_NOT_FOUND;
    const size = barDataSize(bar, this.#bus.msix);
    if (typeof size === 'number') return size;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    const handle = { value: 0 };
    if (bar.is_mmio) {
      const status = this.#bus.createBarVmo(bar, handle);
      if (status !== ZX_OK) return status;
      o.value = { bar_id: id, size, result: { vmo: handle.value } };
      return ZX_OK;
    }
    const status = zx_resource_create(this.#bus.root, ZX_RSRC_KIND_IOPORT, bar.address, bar.size, `pci bar ${id}`, handle);
    if (status !== ZX_OK) return status;
    o.value = { bar_id: id, size, result: { io: { address: bar.address, resource: handle.value } } };
    return ZX_OK;
  }

  /** index ≠ 0 → OUT_OF_RANGE (one BTI per function on x86); the BTI reaches the device's IOMMU domain. */
  GetBti(index: number, outBti: Out<number> | null): number {
    const i = u32('index', index);
    const o = out<number>('out_bti', outBti);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    return this.#bus.getBti(i, o);
  }

  SetBusMastering(enabled: boolean): number {
    const on = bool('enabled', enabled);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    return this.#bus.setBusMastering(on);
  }

  /**
   * A function-level reset through the backend (VFIO_DEVICE_RESET). Fuchsia's fidl.cc replies OK
   * without resetting and its banjo server returned NOT_SUPPORTED; this one resets: NOT_SUPPORTED when
   * the function has no reset, BAD_STATE (ours) while an interrupt mode is set — a reset clears the
   * MSI/MSI-X programming the bus owns; SetInterruptMode(DISABLED) first.
   */
  ResetDevice(): number {
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (this.#bus.irqs.mode !== PCI_INTERRUPT_MODE_DISABLED) return ZX_ERR_BAD_STATE;
    try {
      this.#bus.device.reset();
    } catch (error) {
      return (error as { code?: unknown }).code === 'ENOTSUP' ? ZX_ERR_NOT_SUPPORTED : statusFromDeviceError(error);
    }
    return ZX_OK;
  }

  /** LEGACY mode only (else BAD_STATE): clears Interrupt Disable so the function may interrupt again. */
  AckInterrupt(): number {
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    return this.#bus.irqs.ackLegacyIrq();
  }

  /**
   * An interrupt handle for vector `which_irq` of the current mode: DISABLED → BAD_STATE; legacy:
   * which_irq 0 only (else INVALID_ARGS), a duplicate of the function's interrupt (ack it with
   * zx_interrupt_ack, then AckInterrupt() in LEGACY mode); MSI / MSI-X: zx_msi_create's statuses
   * (INVALID_ARGS beyond the allocation, ALREADY_BOUND for a vector already mapped).
   */
  MapInterrupt(whichIrq: number, outInterrupt: Out<number> | null): number {
    const which = u32('which_irq', whichIrq);
    const o = out<number>('out_interrupt', outInterrupt);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    return this.#bus.irqs.mapInterrupt(which, o);
  }

  GetInterruptModes(outModes: Out<pci_interrupt_modes_t> | null): number {
    const o = out<pci_interrupt_modes_t>('out_modes', outModes);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    o.value = this.#bus.irqs.getInterruptModes();
    return ZX_OK;
  }

  /**
   * PCI_INTERRUPT_MODE_*: unknown mode or one the function lacks → NOT_SUPPORTED; count 0 →
   * INVALID_ARGS; MSI count not a power of two or above msi_count, MSI-X count above msix_count →
   * INVALID_ARGS; MSI/MSI-X interrupts of the current mode still alive (close their handles) →
   * BAD_STATE; the legacy vector owned by someone else → ALREADY_BOUND.
   */
  SetInterruptMode(mode: number, requestedIrqCount: number): number {
    const m = u32('mode', mode);
    const count = u32('requested_irq_count', requestedIrqCount);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    return this.#bus.irqs.setIrqMode(m, count);
  }

  ReadConfig8(offset: number, outValue: Out<number> | null): number { return this.#read(offset, 1, outValue); }
  ReadConfig16(offset: number, outValue: Out<number> | null): number { return this.#read(offset, 2, outValue); }
  ReadConfig32(offset: number, outValue: Out<number> | null): number { return this.#read(offset, 4, outValue); }
  WriteConfig8(offset: number, value: number): number { return this.#write(offset, 1, value); }
  WriteConfig16(offset: number, value: number): number { return this.#write(offset, 2, value); }
  WriteConfig32(offset: number, value: number): number { return this.#write(offset, 4, value); }

  /** FIDL GetCapabilities: the offsets of every standard capability `id`, in list order (maybe none). */
  GetCapabilities(id: number, outOffsets: Out<number[]> | null): number {
    return this.#all(u32('id', id), this.#bus.caps, outOffsets);
  }

  GetExtendedCapabilities(id: number, outOffsets: Out<number[]> | null): number {
    return this.#all(u32('id', id), this.#bus.extCaps, outOffsets);
  }

  /** The first capability `id` → its offset; none → NOT_FOUND. */
  GetFirstCapability(id: number, outOffset: Out<number> | null): number {
    return this.#next(u32('id', id), this.#bus.caps, null, outOffset);
  }

  /** The next `id` after the capability at `start_offset` (by list order); none, or no capability there → NOT_FOUND. */
  GetNextCapability(id: number, startOffset: number, outOffset: Out<number> | null): number {
    return this.#next(u32('id', id), this.#bus.caps, u32('start_offset', startOffset), outOffset);
  }

  /** Extended capabilities (PCIe, at 0x100+): NOT_FOUND on a conventional function, which has none. */
  GetFirstExtendedCapability(id: number, outOffset: Out<number> | null): number {
    return this.#next(u32('id', id), this.#bus.extCaps, null, outOffset);
  }

  GetNextExtendedCapability(id: number, startOffset: number, outOffset: Out<number> | null): number {
    return this.#next(u32('id', id), this.#bus.extCaps, u32('start_offset', startOffset), outOffset);
  }

  /**
   * device.h ReadConfig: offset + width > 4096 → OUT_OF_RANGE. Misaligned → INVALID_ARGS (ours: ECAM
   * accesses must be naturally aligned, PCIe 4.0 §7.2.2; Fuchsia passes them to the MMIO as they are).
   */
  #read(offset: number, width: Width, outValue: Out<number> | null): number {
    const at = u32('offset', offset);
    const o = out<number>('out_value', outValue);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (at + width > PCI_EXT_CONFIG_SIZE) return ZX_ERR_OUT_OF_RANGE;
    if (at % width !== 0 || o === null) return ZX_ERR_INVALID_ARGS;
    const config = this.#bus.config;
    o.value = width === 1 ? config.read8(at) : width === 2 ? config.read16(at) : config.read32(at) >>> 0;
    return ZX_OK;
  }

  /**
   * device.h WriteConfig: offset < 64 (the header, which the bus owns: command, BARs, interrupt line)
   * → ACCESS_DENIED, checked first; offset + width > 4096 → OUT_OF_RANGE. Like Fuchsia, capability
   * registers above the header — the MSI and MSI-X capabilities included — are the driver's to write.
   * `value` is truncated to the width, as C's conversion to uint8_t/uint16_t does.
   */
  #write(offset: number, width: Width, value: number): number {
    const at = u32('offset', offset);
    const v = u32('value', value);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (at < PCI_CONFIG_HDR_SIZE) return ZX_ERR_ACCESS_DENIED;
    if (at + width > PCI_EXT_CONFIG_SIZE) return ZX_ERR_OUT_OF_RANGE;
    if (at % width !== 0) return ZX_ERR_INVALID_ARGS;
    const config = this.#bus.config;
    if (width === 1) config.write8(at, v & 0xff);
    else if (width === 2) config.write16(at, v & 0xffff);
    else config.write32(at, v);
    return ZX_OK;
  }

  #all(id: number, list: readonly CapEntry[], outOffsets: Out<number[]> | null): number {
    const o = out<number[]>('out_offsets', outOffsets);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    o.value = list.filter((c) => c.id === id).map((c) => c.base);
    return ZX_OK;
  }

  #next(id: number, list: readonly CapEntry[], start: number | null, outOffset: Out<number> | null): number {
    const o = out<number>('out_offset', outOffset);
    if (this.#bus.closed) return ZX_ERR_PEER_CLOSED;
    const found = nextCapability(list, id, start);
    if (found === null) return ZX_ERR_NOT_FOUND;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    o.value = found;
    return ZX_OK;
  }
}
