/**
 * Walking the capability list and decoding the MSI / MSI-X structures (PCI 3.0 §6.7, §6.8.1, §6.8.2;
 * spec/pci-vfio.md C.1, C.2). Works on any `ConfigSpace`, so on both backends.
 */
import type { ConfigSpace } from './device.ts';
import {
  PCI_CAPABILITY_LIST, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CAP_LIST_NEXT, PCI_MSI_DATA_32, PCI_MSI_DATA_64,
  PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_MASKBIT, PCI_MSI_FLAGS_QMASK, PCI_MSI_MASK_32,
  PCI_MSI_MASK_64, PCI_MSI_PENDING_32, PCI_MSI_PENDING_64, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_QSIZE, PCI_MSIX_PBA,
  PCI_MSIX_TABLE, PCI_MSIX_TABLE_BIR, PCI_MSIX_TABLE_OFFSET, PCI_STATUS, PCI_STATUS_CAP_LIST,
} from './regs.ts';

export interface CapabilityRef {
  readonly id: number;
  readonly offset: number;
}

/** Capabilities that fit in 256 bytes, each at a 4-byte aligned offset ≥ 0x40: at most 48. */
const MAX_CAPABILITIES = 48;

/** The standard capability list, in list order. Stops on a loop or a malformed pointer. */
export function listCapabilities(config: ConfigSpace): CapabilityRef[] {
  const caps: CapabilityRef[] = [];
  if ((config.read16(PCI_STATUS) & PCI_STATUS_CAP_LIST) === 0) return caps;
  let offset = config.read8(PCI_CAPABILITY_LIST) & 0xfc;
  const seen = new Set<number>();
  while (offset >= 0x40 && offset < 0x100 && !seen.has(offset) && caps.length < MAX_CAPABILITIES) {
    seen.add(offset);
    caps.push({ id: config.read8(offset), offset });
    offset = config.read8(offset + PCI_CAP_LIST_NEXT) & 0xfc;
  }
  return caps;
}

/** Offset of the first capability with `id`, or null. */
export function findCapability(config: ConfigSpace, id: number): number | null {
  for (const cap of listCapabilities(config)) if (cap.id === id) return cap.offset;
  return null;
}

/** Where the fields of an MSI capability sit, from its Message Control (C.1 offsets table). */
export interface MsiLayout {
  readonly offset: number;
  /** Vectors requested: 1 << Multiple Message Capable. */
  readonly vectors: number;
  readonly is64: boolean;
  readonly perVectorMask: boolean;
  /** Absolute config offsets (null where the layout has no such field). */
  readonly addressLo: number;
  readonly addressHi: number | null;
  readonly data: number;
  readonly mask: number | null;
  readonly pending: number | null;
}

export function msiLayout(config: ConfigSpace, offset: number): MsiLayout {
  const control = config.read16(offset + PCI_MSI_FLAGS);
  const is64 = (control & PCI_MSI_FLAGS_64BIT) !== 0;
  const perVectorMask = (control & PCI_MSI_FLAGS_MASKBIT) !== 0;
  const mmc = Math.min((control & PCI_MSI_FLAGS_QMASK) >> 1, 5);
  return {
    offset,
    vectors: 1 << mmc,
    is64,
    perVectorMask,
    addressLo: offset + 4,
    addressHi: is64 ? offset + 8 : null,
    data: offset + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32),
    mask: perVectorMask ? offset + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32) : null,
    pending: perVectorMask ? offset + (is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32) : null,
  };
}

/** Where an MSI-X table and PBA live (C.2). */
export interface MsixLayout {
  readonly offset: number;
  /** Table Size + 1. */
  readonly vectors: number;
  readonly tableBar: number;
  readonly tableOffset: number;
  readonly pbaBar: number;
  readonly pbaOffset: number;
}

export function msixLayout(config: ConfigSpace, offset: number): MsixLayout {
  const control = config.read16(offset + PCI_MSIX_FLAGS);
  const table = config.read32(offset + PCI_MSIX_TABLE);
  const pba = config.read32(offset + PCI_MSIX_PBA);
  return {
    offset,
    vectors: (control & PCI_MSIX_FLAGS_QSIZE) + 1,
    tableBar: table & PCI_MSIX_TABLE_BIR,
    tableOffset: (table & PCI_MSIX_TABLE_OFFSET) >>> 0,
    pbaBar: pba & PCI_MSIX_TABLE_BIR,
    pbaOffset: (pba & PCI_MSIX_TABLE_OFFSET) >>> 0,
  };
}

/** Convenience: the MSI / MSI-X layouts of a device, null where it has no such capability. */
export function findMsi(config: ConfigSpace): MsiLayout | null {
  const at = findCapability(config, PCI_CAP_ID_MSI);
  return at === null ? null : msiLayout(config, at);
}

export function findMsix(config: ConfigSpace): MsixLayout | null {
  const at = findCapability(config, PCI_CAP_ID_MSIX);
  return at === null ? null : msixLayout(config, at);
}
