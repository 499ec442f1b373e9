/**
 * The current process's platform: `zx_platform_attach(device)` places a device (emulated or VFIO) in
 * the physical address map — its 4 KiB ECAM config window and its BARs — gives its INTx a platform
 * interrupt number and its IOMMU domain a `bti_id` (API.md `zx_platform_attach`; DESIGN.md lib/zircon).
 *
 * ECAM: for a VFIO device whose segment/bus the host's ACPI MCFG covers (readable as root), the real
 * address; otherwise a synthetic base (segment 0 at 0xE000_0000, like QEMU q35's default ECAM). A
 * window already taken (two emulated devices are never on the same BDF, but a VFIO device and an
 * emulated one may be) moves to a synthetic overflow area. BARs sit at the addresses their BAR
 * registers hold (64-bit aware); an I/O-space BAR, an unimplemented one or the upper half of a 64-bit
 * BAR is null. A BAR whose register reads 0 (unassigned) or collides gets a synthetic address.
 */
import type { PciDevice } from '../../pci/device.ts';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_BASE_ADDRESS_SPACE, PCI_BASE_ADDRESS_SPACE_IO, PCI_INTERRUPT_PIN, PCI_STD_NUM_BARS,
} from '../../pci/regs.ts';
import { ecamAddress, hostMcfg } from './mcfg.ts';
import { platformMessageSink } from './msi-decoder.ts';
import { addAbsentRange, addWindow, BarWindow, ConfigWindow, overlapsWindow, removeWindowsOf } from './physical-memory.ts';

export interface PlatformAttachment {
  readonly ecam: bigint;
  readonly bars: (bigint | null)[];
  readonly irq: number | null;
  readonly bti_id: bigint;
}

export const SYNTHETIC_ECAM_BASE = 0xe000_0000n;
/** Where colliding config windows and BARs go: high, clear of RAM-looking and APIC addresses. */
const SYNTHETIC_OVERFLOW_BASE = 0x80_0000_0000n;
/** Platform interrupt numbers handed to INTx lines (above the ISA/legacy range, like GSIs ≥ 16). */
export const PLATFORM_IRQ_FIRST = 32;

interface DeviceRecord {
  readonly device: PciDevice;
  readonly attachment: PlatformAttachment;
  closed: boolean;
}

const records = new WeakMap<PciDevice, DeviceRecord>();
const byIrq = new Map<number, DeviceRecord>();
const byBti = new Map<bigint, DeviceRecord>();
let nextIrq = PLATFORM_IRQ_FIRST;
let nextBtiId = 1n;
let overflowCursor = SYNTHETIC_OVERFLOW_BASE;

const BDF_PATTERN = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

function looksLikeDevice(device: unknown): device is PciDevice {
  if (typeof device !== 'object' || device === null) return false;
  const d = device as Partial<PciDevice>;
  return typeof d.bdf === 'string' && typeof d.bar === 'function' && typeof d.config === 'object' && typeof d.irq === 'object' && typeof d.dma === 'object';
}

/** A free, naturally aligned synthetic range of `size` bytes in the overflow area. */
function syntheticRange(size: bigint): bigint {
  let at = (overflowCursor + size - 1n) / size * size;
  while (overlapsWindow(at, size)) at += size;
  overflowCursor = at + size;
  return at;
}

/** One bus's ECAM range: 32 devices × 8 functions × 4 KiB (PCIe 4.0 §7.2.2). */
const ECAM_BUS_SIZE = 1n << 20n;

function ecamFor(device: PciDevice, segment: number, bus: number, dev: number, fn: number): bigint {
  let base: bigint | null = null;
  if (device.backend === 'vfio') {
    const entry = hostMcfg()?.find((e) => e.segment === segment && bus >= e.startBus && bus <= e.endBus);
    if (entry !== undefined) base = entry.base;
  }
  if (base === null) base = segment === 0 ? SYNTHETIC_ECAM_BASE : SYNTHETIC_OVERFLOW_BASE * 2n + (BigInt(segment) << 28n);
  const address = ecamAddress(base, bus, dev, fn);
  if (overlapsWindow(address, 4096n)) return syntheticRange(4096n);
  // The rest of the bus's ECAM range is config space too: absent functions read all-ones.
  addAbsentRange(ecamAddress(base, bus, 0, 0), ECAM_BUS_SIZE);
  return address;
}

function placeBars(device: PciDevice): (bigint | null)[] {
  const bars: (bigint | null)[] = new Array<bigint | null>(PCI_STD_NUM_BARS).fill(null);
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
    const low = device.config.read32(PCI_BASE_ADDRESS_0 + 4 * i) >>> 0;
    const io = (low & PCI_BASE_ADDRESS_SPACE) === PCI_BASE_ADDRESS_SPACE_IO;
    const is64 = !io && (low & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64;
    let address = BigInt((low & PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
    if (is64 && i + 1 < PCI_STD_NUM_BARS) address |= BigInt(device.config.read32(PCI_BASE_ADDRESS_0 + 4 * (i + 1)) >>> 0) << 32n;
    const index = i;
    if (is64) i++; // the next register is this BAR's upper half: stays null
    if (io) continue;
    let region;
    try {
      region = device.bar(index);
    } catch {
      continue; // not implemented
    }
    const probe = new BarWindow(0n, device, index, region);
    if (address === 0n || overlapsWindow(address, probe.size)) address = syntheticRange(probe.size);
    addWindow(new BarWindow(address, device, index, region));
    bars[index] = address;
  }
  return bars;
}

/** zx_platform_attach: idempotent per device object. TypeError for something that is not a PciDevice. */
export function platformAttach(device: PciDevice): PlatformAttachment {
  if (!looksLikeDevice(device)) throw new TypeError('zx_platform_attach: device must be a PciDevice (vfio-ddk/emu or vfio-ddk/vfio)');
  const known = records.get(device);
  if (known !== undefined) return known.attachment;
  const m = BDF_PATTERN.exec(device.bdf);
  if (m === null) throw new TypeError(`zx_platform_attach: device.bdf ${JSON.stringify(device.bdf)} is not "dddd:bb:dd.f"`);
  const [segment, bus, dev, fn] = [parseInt(m[1] as string, 16), parseInt(m[2] as string, 16), parseInt(m[3] as string, 16), parseInt(m[4] as string, 16)];
  const ecam = ecamFor(device, segment, bus, dev, fn);
  addWindow(new ConfigWindow(ecam, device));
  const bars = placeBars(device);
  const irq = device.config.read8(PCI_INTERRUPT_PIN) !== 0 ? nextIrq++ : null;
  // The platform decodes the device's messages (msi-decoder.ts), whoever enabled MSI in its capability.
  if (typeof device.irq.setMessageSink === 'function') device.irq.setMessageSink(platformMessageSink);
  const attachment: PlatformAttachment = Object.freeze({ ecam, bars: Object.freeze(bars) as (bigint | null)[], irq, bti_id: nextBtiId++ });
  const record: DeviceRecord = { device, attachment, closed: false };
  records.set(device, record);
  if (irq !== null) byIrq.set(irq, record);
  byBti.set(attachment.bti_id, record);
  device.onClose(() => {
    record.closed = true;
    removeWindowsOf(device);
    if (irq !== null) byIrq.delete(irq);
    byBti.delete(attachment.bti_id);
  });
  return attachment;
}

/** The open device whose INTx has platform interrupt number `irq`, or null. */
export function deviceForIrq(irq: number): PciDevice | null {
  return byIrq.get(irq)?.device ?? null;
}

/** The open device a `bti_id` names, or null. */
export function deviceForBti(btiId: bigint): PciDevice | null {
  return byBti.get(btiId)?.device ?? null;
}

/** Platform interrupt numbers currently owned by an interrupt object (handler registered). */
const ownedIrqs = new Set<number>();

export function claimIrq(irq: number): boolean {
  if (ownedIrqs.has(irq)) return false;
  ownedIrqs.add(irq);
  return true;
}

export function releaseIrq(irq: number): void {
  ownedIrqs.delete(irq);
}

/** Whether the platform offers MSI (x86: yes). Tests switch it off to reach A.7 step 2. */
let msiSupported = true;
export function platformSupportsMsi(): boolean {
  return msiSupported;
}
export function setPlatformMsiSupport(supported: boolean): void {
  msiSupported = supported;
}
