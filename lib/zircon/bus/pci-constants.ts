/**
 * Constants of Fuchsia's PCI device protocol (fuchsia.hardware.pci FIDL / the banjo `pci_*` C names in
 * fuchsia/hardware/pci/c/banjo.h) and of its bus driver (src/devices/bus/drivers/pci), declared once.
 */

/** pci_interrupt_mode_t (FIDL InterruptMode: DISABLED 0, LEGACY 1, LEGACY_NOACK 2, MSI 3, MSI_X 4). */
export const PCI_INTERRUPT_MODE_DISABLED = 0;
export const PCI_INTERRUPT_MODE_LEGACY = 1;
export const PCI_INTERRUPT_MODE_LEGACY_NOACK = 2;
export const PCI_INTERRUPT_MODE_MSI = 3;
export const PCI_INTERRUPT_MODE_MSI_X = 4;
export const PCI_INTERRUPT_MODE_COUNT = 5;

/** fuchsia.hardware.pci MAX_BAR_COUNT: BAR ids are 0–5. */
export const PCI_MAX_BAR_COUNT = 6;
/** Writes below this (the type 0 header) are refused: the bus owns the header (device.h WriteConfig). */
export const PCI_CONFIG_HDR_SIZE = 64;
/** Accesses must end at or below this (device.h ReadConfig / WriteConfig: offset + width ≤ 4096). */
export const PCI_EXT_CONFIG_SIZE = 4096;
/** A function has one legacy interrupt (device_irqs.cc QueryIrqMode: PCI_LEGACY_INT_COUNT). */
export const PCI_LEGACY_INT_COUNT = 1;

/** bus.h: LEGACY_NOACK counts interrupts per 1 s period and disables the function past 512. */
export const kLegacyNoAckPeriod = 1_000_000_000n;
export const kMaxIrqsPerNoAckPeriod = 512;

/** Extended capability header (PCIe 4.0 §7.6.3): id 15:0, version 19:16, next 31:20; list starts at 0x100. */
export const PCI_EXT_CAP_START = 0x100;
export const PCI_EXT_CAP_ID_MASK = 0xffff;
export const PCI_EXT_CAP_NEXT_SHIFT = 20;
export const PCI_EXT_CAP_NEXT_MASK = 0xffc;
