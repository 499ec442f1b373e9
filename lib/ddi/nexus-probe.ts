/**
 * What the PCI nexus reads from a device to answer SUPPORTED_TYPES, NINTRS, NAVAIL, GETCAP and GETPRI
 * (spec/ddi.md B.4; illumos pci_intr_lib.c). Everything comes from the device's real config space, so
 * it is the same on both backends.
 */
import type { ConfigSpace } from '../pci/device.ts';
import { findMsi, findMsix } from '../pci/capabilities.ts';
import {
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_INTERRUPT_PIN, PCI_INTERRUPT_PIN_NONE,
} from '../pci/regs.ts';
import {
  DDI_INTR_FLAG_BLOCK, DDI_INTR_FLAG_EDGE, DDI_INTR_FLAG_LEVEL, DDI_INTR_FLAG_MASKABLE, DDI_INTR_FLAG_MSI64,
  DDI_INTR_FLAG_PENDING, DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI, DDI_INTR_TYPE_MSIX, DDI_MAX_MSI_ALLOC,
  DDI_MIN_MSIX_ALLOC, PCI_MSI_MAX_INTRS, PCI_MSIX_MAX_INTRS,
} from './constants.ts';
import type { DevInfo } from './dev-info.ts';

/** FIXED if the device has an interrupt pin; MSI / MSI-X if it has the capability (B.4). */
export function probeSupportedTypes(config: ConfigSpace): number {
  let types = 0;
  if (config.read8(PCI_INTERRUPT_PIN) !== PCI_INTERRUPT_PIN_NONE) types |= DDI_INTR_TYPE_FIXED;
  if (findMsi(config) !== null) types |= DDI_INTR_TYPE_MSI;
  if (findMsix(config) !== null) types |= DDI_INTR_TYPE_MSIX;
  return types;
}

/** nintrs (B.4): FIXED 1; MSI 1 << MMC (≤ 32); MSI-X table size + 1 (≤ 2048); 0 when absent. */
export function probeNintrs(config: ConfigSpace, type: number): number {
  switch (type) {
    case DDI_INTR_TYPE_FIXED:
      return config.read8(PCI_INTERRUPT_PIN) !== PCI_INTERRUPT_PIN_NONE ? 1 : 0;
    case DDI_INTR_TYPE_MSI:
      return Math.min(findMsi(config)?.vectors ?? 0, PCI_MSI_MAX_INTRS);
    case DDI_INTR_TYPE_MSIX:
      return Math.min(findMsix(config)?.vectors ?? 0, PCI_MSIX_MAX_INTRS);
    default:
      return 0;
  }
}

/** navail = min(nintrs, policy limit) (B.3 get_navail; DdiLimits in dev-info.ts). */
export function navailFor(dip: DevInfo, type: number, nintrs: number): number {
  if (dip.limits === 'illumos-x86') {
    if (type === DDI_INTR_TYPE_MSI) return Math.min(nintrs, DDI_MAX_MSI_ALLOC);
    if (type === DDI_INTR_TYPE_MSIX) return Math.min(nintrs, DDI_MIN_MSIX_ALLOC);
  }
  return nintrs;
}

/**
 * GETCAP (B.4). FIXED: LEVEL, plus MASKABLE|PENDING when Command bit 10 (INTx Disable) sticks —
 * probed by setting it and reading it back, then restoring the register (pci_intx_get_cap). MSI: EDGE,
 * MSI64 when 64-bit capable, MASKABLE|PENDING with per-vector masking else BLOCK. MSI-X:
 * EDGE|MASKABLE|PENDING|MSI64.
 */
export function probeCaps(config: ConfigSpace, type: number): number {
  if (type === DDI_INTR_TYPE_FIXED) {
    const saved = config.read16(PCI_COMMAND);
    config.write16(PCI_COMMAND, saved | PCI_COMMAND_INTX_DISABLE);
    const readBack = config.read16(PCI_COMMAND);
    config.write16(PCI_COMMAND, saved);
    const maskable = (readBack & PCI_COMMAND_INTX_DISABLE) !== 0;
    return DDI_INTR_FLAG_LEVEL | (maskable ? DDI_INTR_FLAG_MASKABLE | DDI_INTR_FLAG_PENDING : 0);
  }
  if (type === DDI_INTR_TYPE_MSI) {
    const msi = findMsi(config);
    if (msi === null) return 0;
    return DDI_INTR_FLAG_EDGE | (msi.is64 ? DDI_INTR_FLAG_MSI64 : 0)
      | (msi.perVectorMask ? DDI_INTR_FLAG_MASKABLE | DDI_INTR_FLAG_PENDING : DDI_INTR_FLAG_BLOCK);
  }
  if (type === DDI_INTR_TYPE_MSIX) {
    return DDI_INTR_FLAG_EDGE | DDI_INTR_FLAG_MASKABLE | DDI_INTR_FLAG_PENDING | DDI_INTR_FLAG_MSI64;
  }
  return 0;
}

/**
 * GETPRI: the default priority by class code, pci_class_to_pil()'s table (pci_intr_lib.c
 * pci_default_pil, x86 values); 1 when no entry matches.
 */
const PCI_DEFAULT_PIL: readonly { readonly value: number; readonly mask: number; readonly pil: number }[] = [
  { value: 0x000000, mask: 0xff0000, pil: 1 }, // pre-2.0 devices
  { value: 0x010000, mask: 0xff0000, pil: 5 }, // mass storage
  { value: 0x020000, mask: 0xff0000, pil: 6 }, // network
  { value: 0x030000, mask: 0xff0000, pil: 9 }, // display
  { value: 0x040000, mask: 0xff0000, pil: 8 }, // multimedia
  { value: 0x050000, mask: 0xff0000, pil: 9 }, // memory
  { value: 0x060000, mask: 0xff0000, pil: 9 }, // bridge
  { value: 0x0c0000, mask: 0xffff00, pil: 9 }, // FireWire
  { value: 0x0c0100, mask: 0xffff00, pil: 4 }, // ACCESS.bus
  { value: 0x0c0200, mask: 0xffff00, pil: 4 }, // SSA
  { value: 0x0c0300, mask: 0xffff00, pil: 9 }, // USB
  { value: 0x0c0400, mask: 0xffff00, pil: 5 }, // Fibre Channel (x86)
  { value: 0x0c0600, mask: 0xffff00, pil: 6 }, // InfiniBand
];

export function classToPil(classCode: number): number {
  for (const entry of PCI_DEFAULT_PIL) if ((classCode & entry.mask) === entry.value) return entry.pil;
  return 1;
}
