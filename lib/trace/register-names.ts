/**
 * Names for the offsets a trace records, from the tables the REPL uses (lib/emu/register-tables.ts):
 * the config header by its pci_regs.h names, capability fields (PCI 3.0 §6.8.1 MSI, §6.8.2 MSI-X; other
 * capabilities as "PCI_CAP_ID_EXP+0x8"), BAR0 of the models that name their registers (edu D.2, NVMe
 * 1.4 §3.1 with its doorbells §3.1.24–25 "SQyTDBL" / "CQyHDBL", the test device) and MSI-X table
 * entries and PBA wherever the capability puts them. An access inside a wider register is named
 * "DMA_SRC+0x4"; an offset nothing names is its hex offset.
 *
 * Built once per traced device from reads of the device that are not recorded (the capability list,
 * NVMe CAP.DSTRD): none of those reads has a side effect.
 */
import { listCapabilities, msiLayout, msixLayout, type MsixLayout } from '../pci/capabilities.ts';
import type { PciDevice } from '../pci/device.ts';
import { NVME_DOORBELL_BASE, NVME_REG, nvmeCapField } from '../pci/nvme-regs.ts';
import {
  PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS, PCI_MSIX_PBA, PCI_MSIX_TABLE, PCI_MSI_FLAGS,
} from '../pci/regs.ts';
import { bar0RegistersFor, CAPABILITY_NAMES, CONFIG_REGISTERS, type RegisterTable } from '../emu/register-tables.ts';

/** Named offsets in ascending order, each with the width of its register. */
type Layout = readonly { readonly offset: number; readonly width: number; readonly name: string }[];

const MSIX_ENTRY_FIELDS: Readonly<Record<number, string>> = {
  [PCI_MSIX_ENTRY_LOWER_ADDR]: 'LOWER_ADDR',
  [PCI_MSIX_ENTRY_UPPER_ADDR]: 'UPPER_ADDR',
  [PCI_MSIX_ENTRY_DATA]: 'DATA',
  [PCI_MSIX_ENTRY_VECTOR_CTRL]: 'VECTOR_CTRL',
};

function hexOffset(offset: number): string {
  return `0x${offset.toString(16).padStart(3, '0')}`;
}

function layoutOf(table: RegisterTable): Layout {
  return Object.entries(table).map(([name, r]) => ({ offset: r.offset, width: r.width, name })).sort((a, b) => a.offset - b.offset || b.width - a.width);
}

/** The register of `layout` that holds [offset, offset + width), preferring one of exactly that width. */
function nameIn(layout: Layout, offset: number, width: number): string | null {
  let best: { offset: number; width: number; name: string } | null = null;
  for (const r of layout) {
    if (r.offset > offset) break;
    if (offset + width > r.offset + r.width) continue;
    if (best === null || r.offset > best.offset || (r.offset === best.offset && r.width === width)) best = r;
  }
  // A wider access that starts at a register (a dword read of a capability header) is named after it.
  if (best === null) return layout.find((r) => r.offset === offset)?.name ?? null;
  return best.offset === offset ? best.name : `${best.name}+0x${(offset - best.offset).toString(16)}`;
}

/** Conventional config space: capabilities live below 0x100. */
const CONFIG_CONVENTIONAL = 0x100;

function capabilityLayout(device: PciDevice): Layout {
  const out: { offset: number; width: number; name: string }[] = [];
  const caps = listCapabilities(device.config);
  const starts = caps.map((c) => c.offset).sort((a, b) => a - b);
  for (const { id, offset } of caps) {
    const name = CAPABILITY_NAMES[id] ?? `PCI_CAP_ID_0x${id.toString(16)}`;
    if (id === PCI_CAP_ID_MSI) {
      const msi = msiLayout(device.config, offset);
      out.push({ offset, width: 2, name }, { offset: offset + PCI_MSI_FLAGS, width: 2, name: 'PCI_MSI_FLAGS' },
        { offset: msi.addressLo, width: 4, name: 'PCI_MSI_ADDRESS_LO' });
      if (msi.addressHi !== null) out.push({ offset: msi.addressHi, width: 4, name: 'PCI_MSI_ADDRESS_HI' });
      out.push({ offset: msi.data, width: 2, name: msi.is64 ? 'PCI_MSI_DATA_64' : 'PCI_MSI_DATA_32' });
      if (msi.mask !== null) out.push({ offset: msi.mask, width: 4, name: msi.is64 ? 'PCI_MSI_MASK_64' : 'PCI_MSI_MASK_32' });
      if (msi.pending !== null) out.push({ offset: msi.pending, width: 4, name: msi.is64 ? 'PCI_MSI_PENDING_64' : 'PCI_MSI_PENDING_32' });
    } else if (id === PCI_CAP_ID_MSIX) {
      out.push({ offset, width: 2, name }, { offset: offset + PCI_MSIX_FLAGS, width: 2, name: 'PCI_MSIX_FLAGS' },
        { offset: offset + PCI_MSIX_TABLE, width: 4, name: 'PCI_MSIX_TABLE' }, { offset: offset + PCI_MSIX_PBA, width: 4, name: 'PCI_MSIX_PBA' });
    } else {
      // Other capabilities' fields are named relative to their header, up to the next capability.
      const next = starts.find((start) => start > offset) ?? CONFIG_CONVENTIONAL;
      out.push({ offset, width: next - offset, name });
    }
  }
  return out.sort((a, b) => a.offset - b.offset);
}

export class RegisterNames {
  readonly #config: Layout;
  readonly #capabilities: Layout;
  readonly #bar0: Layout | null;
  readonly #msix: MsixLayout | null;
  readonly #doorbellStride: number | null;
  readonly #cache = new Map<number, string>();

  /** `device` is read (not written) here: capabilities, and NVMe CAP for the doorbell stride. */
  constructor(device: PciDevice) {
    this.#config = layoutOf(CONFIG_REGISTERS);
    let capabilities: Layout = [];
    let msix: MsixLayout | null = null;
    try {
      capabilities = capabilityLayout(device);
      const at = listCapabilities(device.config).find((c) => c.id === PCI_CAP_ID_MSIX);
      if (at !== undefined) msix = msixLayout(device.config, at.offset);
    } catch { /* a device that cannot be read now is named by offsets */ }
    this.#capabilities = capabilities;
    this.#msix = msix;
    const model = bar0RegistersFor(device.identity);
    this.#bar0 = model === null ? null : layoutOf(model.registers);
    let stride: number | null = null;
    if (model?.model === 'NVMe') {
      try {
        stride = 4 << nvmeCapField(device.bar(0).read64(NVME_REG.CAP), 'DSTRD');
      } catch { /* no BAR0 yet: doorbells are named by offset */ }
    }
    this.#doorbellStride = stride;
  }

  /** The config register at `offset` for a `width`-byte access. */
  config(offset: number, width: number): string {
    const key = offset * 16 + width;
    let name = this.#cache.get(-key - 1);
    if (name === undefined) {
      name = nameIn(this.#config, offset, width) ?? nameIn(this.#capabilities, offset, width) ?? hexOffset(offset);
      this.#cache.set(-key - 1, name);
    }
    return name;
  }

  /** The register of BAR `index` at `offset` for a `width`-byte access. */
  bar(index: number, offset: number, width: number): string {
    const key = (offset * 16 + width) * 8 + index;
    let name = this.#cache.get(key);
    if (name === undefined) {
      name = this.#msixName(index, offset) ?? (index === 0 ? this.#bar0Name(offset, width) : null) ?? hexOffset(offset);
      this.#cache.set(key, name);
    }
    return name;
  }

  #msixName(index: number, offset: number): string | null {
    const msix = this.#msix;
    if (msix === null) return null;
    if (index === msix.tableBar && offset >= msix.tableOffset && offset < msix.tableOffset + msix.vectors * PCI_MSIX_ENTRY_SIZE) {
      const within = offset - msix.tableOffset;
      const field = within % PCI_MSIX_ENTRY_SIZE;
      return `MSIX_ENTRY[${Math.floor(within / PCI_MSIX_ENTRY_SIZE)}].${MSIX_ENTRY_FIELDS[field] ?? `+0x${field.toString(16)}`}`;
    }
    if (index === msix.pbaBar && offset >= msix.pbaOffset && offset < msix.pbaOffset + Math.ceil(msix.vectors / 64) * 8) {
      return `MSIX_PBA+0x${(offset - msix.pbaOffset).toString(16)}`;
    }
    return null;
  }

  #bar0Name(offset: number, width: number): string | null {
    if (this.#doorbellStride !== null && offset >= NVME_DOORBELL_BASE) {
      const slot = Math.floor((offset - NVME_DOORBELL_BASE) / this.#doorbellStride);
      const queue = slot >> 1;
      return (slot & 1) === 0 ? `SQ${queue}TDBL` : `CQ${queue}HDBL`;
    }
    return this.#bar0 === null ? null : nameIn(this.#bar0, offset, width);
  }
}
