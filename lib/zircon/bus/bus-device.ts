/**
 * The bus driver's record of one PCI function — Fuchsia's `pci::Device` (src/devices/bus/drivers/pci/
 * device.cc, device.h): created once per `PciDevice` when a driver first opens the protocol on it
 * (the bus's scan), it puts the function on the platform (zx_platform_attach), maps its ECAM window,
 * routes its legacy interrupt (Interrupt Line ← the platform vector, bus.cc ConfigureLegacyIrqs),
 * probes its BARs and capability lists and starts it with every interrupt mode off (InitInterrupts).
 * It owns what the protocol refuses drivers: the header, the MSI/MSI-X capabilities' programming,
 * the legacy interrupt handling. When the device closes, the record goes with it, and so does the
 * server end of every protocol connection to it: each client end asserts ZX_CHANNEL_PEER_CLOSED.
 */
import type { PciDevice } from '../../pci/device.ts';
import type { MsiLayout, MsixLayout } from '../../pci/capabilities.ts';
import { findMsi, findMsix } from '../../pci/capabilities.ts';
import {
  PCI_CLASS_DEVICE, PCI_CLASS_PROG, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_DEVICE_ID,
  PCI_INTERRUPT_LINE, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL,
  PCI_REVISION_ID, PCI_VENDOR_ID,
} from '../../pci/regs.ts';
import { ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_IOMMU_TYPE_DUMMY } from '../constants/options.ts';
import { ZX_ERR_OUT_OF_RANGE, ZX_OK } from '../constants/status.ts';
import { getHandle } from '../kernel/handle-table.ts';
import type { ChannelObject } from '../objects/channel.ts';
import type { PlatformAttachment } from '../platform/platform.ts';
import { zx_bti_create, zx_iommu_create } from '../syscalls/dma.ts';
import { zx_handle_close } from '../syscalls/handle.ts';
import { platformAttach } from '../platform/platform.ts';
import { get_root_resource } from '../syscalls/resource.ts';
import { zx_vmo_create_physical, zx_vmo_set_cache_policy } from '../syscalls/vmo.ts';
import type { Out } from '../types.ts';
import { barVmoSize, probeBars, type Bar } from './bars.ts';
import { extendedCapabilities, standardCapabilities, type CapEntry } from './capability-lists.ts';
import { DeviceIrqs, type IrqContext } from './device-irqs.ts';
import { EcamConfig } from './ecam-config.ts';

const BDF = /^[0-9a-f]{4}:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;
const INTERRUPT_LINE_MASK = 0xff;

export interface pci_device_info_t {
  vendor_id: number;
  device_id: number;
  base_class: number;
  sub_class: number;
  program_interface: number;
  revision_id: number;
  bus_id: number;
  dev_id: number;
  func_id: number;
}

const busDevices = new WeakMap<PciDevice, BusDevice>();
/** The IOMMU the platform's BTIs come from (x86 pciroot: one per segment; ours: DUMMY, per process). */
let iommu = 0;

export class BusDevice implements IrqContext {
  readonly device: PciDevice;
  readonly attachment: PlatformAttachment;
  readonly config: EcamConfig;
  readonly bars: readonly (Bar | null)[];
  readonly caps: readonly CapEntry[];
  readonly extCaps: readonly CapEntry[];
  readonly msi: MsiLayout | null;
  readonly msix: MsixLayout | null;
  readonly legacyVector: number | null;
  readonly info: pci_device_info_t;
  readonly irqs: DeviceIrqs;
  #msixTableVmo = 0;
  /** The client ends of the protocol connections served for this function (pci.ts). */
  readonly #clients = new Set<ChannelObject>();

  /** The function's bus record, created on first use. TypeError for something that is not a PciDevice. */
  static of(device: PciDevice): BusDevice {
    const known = busDevices.get(device);
    if (known !== undefined) return known;
    const created = new BusDevice(device);
    busDevices.set(device, created);
    return created;
  }

  private constructor(device: PciDevice) {
    this.device = device;
    this.attachment = platformAttach(device);
    this.config = new EcamConfig(this.root, this.attachment.ecam);
    const config = this.config;
    const m = BDF.exec(device.bdf) as RegExpExecArray;
    this.info = {
      vendor_id: config.read16(PCI_VENDOR_ID),
      device_id: config.read16(PCI_DEVICE_ID),
      base_class: config.read8(PCI_CLASS_DEVICE + 1),
      sub_class: config.read8(PCI_CLASS_DEVICE),
      program_interface: config.read8(PCI_CLASS_PROG),
      revision_id: config.read8(PCI_REVISION_ID),
      bus_id: parseInt(m[1] as string, 16),
      dev_id: parseInt(m[2] as string, 16),
      func_id: parseInt(m[3] as string, 16),
    };
    this.legacyVector = this.attachment.irq;
    if (this.legacyVector !== null) config.write8(PCI_INTERRUPT_LINE, this.legacyVector & INTERRUPT_LINE_MASK);
    this.bars = probeBars(device, this.attachment);
    this.caps = standardCapabilities(config);
    this.extCaps = extendedCapabilities(config);
    this.msi = findMsi(config);
    this.msix = findMsix(config);
    // InitInterrupts: legacy off, MSI and MSI-X disabled (MSI-X function-masked) until a mode is set.
    config.modify16(PCI_COMMAND, 0, PCI_COMMAND_INTX_DISABLE);
    if (this.msi !== null) config.modify16(this.msi.offset + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 0);
    if (this.msix !== null) config.modify16(this.msix.offset + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL);
    this.irqs = new DeviceIrqs(this);
    device.onClose(() => this.#release());
  }

  get root(): number {
    return get_root_resource();
  }

  get closed(): boolean {
    return this.device.closed;
  }

  /** Device::SetBusMastering: Bus Master Enable in the Command register. */
  setBusMastering(enabled: boolean): number {
    this.config.modify16(PCI_COMMAND, enabled ? 0 : PCI_COMMAND_MASTER, enabled ? PCI_COMMAND_MASTER : 0);
    return ZX_OK;
  }

  /**
   * The pciroot's GetBti (src/devices/board/lib/acpi/pciroot.cc AcpiPciroot::PcirootGetBti): x86 has
   * one BTI per function — index ≠ 0 → OUT_OF_RANGE — created on the IOMMU with the function's bti_id.
   */
  getBti(index: number, out: Out<number>): number {
    if (index !== 0) return ZX_ERR_OUT_OF_RANGE;
    if (iommu === 0 || getHandle(iommu) === undefined) {
      const created = { value: 0 };
      const status = zx_iommu_create(this.root, ZX_IOMMU_TYPE_DUMMY, {}, created);
      if (status !== ZX_OK) return status;
      iommu = created.value;
    }
    return zx_bti_create(iommu, 0, this.attachment.bti_id, out);
  }

  /** A physical VMO over `bar` (PciAllocation::CreateVmo); the caller owns it. */
  createBarVmo(bar: Bar, out: Out<number>): number {
    return zx_vmo_create_physical(this.root, bar.address, barVmoSize(bar), out);
  }

  /** The MSI-X capability's view of its table BAR (msix.cc Init), created once; status when it fails. */
  msixTableVmo(): number {
    if (this.#msixTableVmo !== 0) return this.#msixTableVmo;
    const bar = this.bars[(this.msix as MsixLayout).tableBar];
    if (bar === null || bar === undefined) return ZX_ERR_OUT_OF_RANGE;
    const vmo = { value: 0 };
    let status = this.createBarVmo(bar, vmo);
    if (status === ZX_OK) status = zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE);
    if (status !== ZX_OK) return status;
    this.#msixTableVmo = vmo.value;
    return vmo.value;
  }

  /** A connection (a new Pci) to this function: its client end is told when the device goes — at once
   *  when it has already gone. */
  connect(client: ChannelObject): void {
    if (this.closed) client.closePeer();
    else this.#clients.add(client);
  }

  #release(): void {
    for (const client of this.#clients) client.closePeer();
    this.#clients.clear();
    this.irqs.release();
    if (this.#msixTableVmo !== 0) zx_handle_close(this.#msixTableVmo);
    this.config.close();
  }
}
