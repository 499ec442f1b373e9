/**
 * The bus driver's BAR table (device.cc ProbeBars / bar_info.h `Bar`): for each BAR register, whether it
 * is MMIO or I/O, its address and its size; the upper half of a 64-bit BAR and unimplemented BARs have
 * none. MMIO BARs sit at the platform addresses zx_platform_attach gave them; sizes come from the
 * backend's region (VFIO_DEVICE_GET_REGION_INFO / the emulated model), not from a sizing write.
 */
import type { PciDevice } from '../../pci/device.ts';
import type { MsixLayout } from '../../pci/capabilities.ts';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_IO_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_BASE_ADDRESS_SPACE, PCI_BASE_ADDRESS_SPACE_IO, PCI_STD_NUM_BARS,
} from '../../pci/regs.ts';
import { PAGE_SIZE } from '../../pci/host-memory.ts';
import { ZX_ERR_ACCESS_DENIED } from '../constants/status.ts';
import type { PlatformAttachment } from '../platform/platform.ts';

export interface Bar {
  readonly bar_id: number;
  readonly is_mmio: boolean;
  readonly is_64bit: boolean;
  /** Platform physical address (MMIO) or I/O port base. */
  readonly address: bigint;
  readonly size: bigint;
}

const PAGE = BigInt(PAGE_SIZE);

export function probeBars(device: PciDevice, attachment: PlatformAttachment): (Bar | null)[] {
  const bars: (Bar | null)[] = new Array<Bar | null>(PCI_STD_NUM_BARS).fill(null);
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
    const low = device.config.read32(PCI_BASE_ADDRESS_0 + 4 * i) >>> 0;
    const io = (low & PCI_BASE_ADDRESS_SPACE) === PCI_BASE_ADDRESS_SPACE_IO;
    const is64 = !io && (low & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64;
    const id = i;
    if (is64) i++; // the next register is this BAR's upper half: no BAR of its own
    let size: bigint;
    try {
      size = device.bar(id).size;
    } catch {
      continue; // not implemented
    }
    if (size === 0n) continue;
    const address = io ? BigInt((low & PCI_BASE_ADDRESS_IO_MASK) >>> 0) : attachment.bars[id];
    if (address === null || address === undefined) continue;
    bars[id] = { bar_id: id, is_mmio: !io, is_64bit: is64, address, size };
  }
  return bars;
}

/**
 * How much of `bar` a driver may map when the MSI-X table or PBA shares it (msix.cc GetBarDataSize,
 * PCI 3.0 §6.8.2): [0, offset) rounded down to a page; a table or PBA in the BAR's first page leaves
 * nothing (ZX_ERR_ACCESS_DENIED).
 */
export function barDataSize(bar: Bar, msix: MsixLayout | null): bigint | number {
  let size = bar.size;
  if (msix === null) return size;
  for (const [barId, offset] of [[msix.tableBar, msix.tableOffset], [msix.pbaBar, msix.pbaOffset]] as const) {
    if (bar.bar_id !== barId) continue;
    if (BigInt(offset) < PAGE) return ZX_ERR_ACCESS_DENIED;
    if (size > BigInt(offset)) size = BigInt(offset);
    size = size / PAGE * PAGE;
  }
  return size;
}

/** The physical VMO size over a BAR: whole pages (VmObjectPhysical needs them; the platform pads). */
export function barVmoSize(bar: Bar): bigint {
  return (bar.size + PAGE - 1n) / PAGE * PAGE;
}
