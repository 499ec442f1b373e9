/**
 * The PCI bus driver's part of MSI, which the kernel leaves to it (msi_dispatcher.cc: the capability
 * "is managed by the PCI bus driver"): program the function's MSI capability from ZX_INFO_MSI and
 * enable it, or enable MSI-X once its entries were created. Fuchsia's userspace bus driver does this
 * in src/devices/bus/drivers/pci (device_irqs.cc: EnterMsiMode writes the target address and data,
 * sets Multiple Message Enable to log2(irq_cnt), creates the interrupts with zx_msi_create, then sets
 * MSI Enable; EnterMsixMode sets MSI-X Enable after zx_msi_create programmed the entries).
 *
 * These helpers are that bus-driver step for drivers and tests written against the syscalls; they
 * write config space directly, as the bus driver does. Errors: TypeError for a device without the
 * capability or a count that is not a power of two within what the capability offers.
 */
import type { ConfigSpace, PciDevice } from '../../pci/device.ts';
import { findMsi, findMsix, type MsiLayout } from '../../pci/capabilities.ts';
import { PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL } from '../../pci/regs.ts';
import type { zx_info_msi_t } from '../types.ts';

/** Bit position of Multiple Message Enable in Message Control (PCI 3.0 §6.8.1.3). */
const MME_SHIFT = 4;

/**
 * Writes the message (target_addr, target_data) and MME = log2(count) into the MSI capability, every
 * vector masked first when it has per-vector masking (zx_msi_create unmasks its own), then sets MSI
 * Enable. Call it after zx_msi_create of the vectors, as device_irqs.cc does.
 */
export function programMsiCapability(device: PciDevice, info: Pick<zx_info_msi_t, 'target_addr' | 'target_data'>, count: number): void {
  const layout = findMsi(device.config);
  if (layout === null) throw new TypeError(`programMsiCapability: ${device.bdf} has no MSI capability`);
  if (!Number.isInteger(count) || count < 1 || count > layout.vectors || (count & (count - 1)) !== 0) {
    throw new TypeError(`programMsiCapability: count must be a power of two in [1, ${layout.vectors}], got ${String(count)}`);
  }
  writeMsiCapability(device.config, layout, info, count);
}

/**
 * The register writes of programMsiCapability on any config-space accessor (the bus driver's ECAM
 * mapping, bus/ecam-config.ts): MSI disabled while it is reprogrammed, address (upper half on 64-bit
 * capabilities), data, MME = log2(count), then MSI Enable. `count` is already validated.
 */
export function writeMsiCapability(config: ConfigSpace, layout: MsiLayout, info: Pick<zx_info_msi_t, 'target_addr' | 'target_data'>, count: number): void {
  const flagsAt = layout.offset + PCI_MSI_FLAGS;
  const flags = config.read16(flagsAt) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
  config.write16(flagsAt, flags); // disabled while it is reprogrammed
  config.write32(layout.addressLo, Number(info.target_addr & 0xfffffffcn));
  if (layout.addressHi !== null) config.write32(layout.addressHi, Number(info.target_addr >> 32n));
  config.write16(layout.data, info.target_data & 0xffff);
  config.write16(flagsAt, flags | (Math.log2(count) << MME_SHIFT));
  config.write16(flagsAt, flags | (Math.log2(count) << MME_SHIFT) | PCI_MSI_FLAGS_ENABLE);
}

/** Clears MSI Enable (and MME): the function goes back to INTx (PCI 3.0 §6.8.1.3). */
export function disableMsiCapability(device: PciDevice): void {
  const layout = findMsi(device.config);
  if (layout === null) throw new TypeError(`disableMsiCapability: ${device.bdf} has no MSI capability`);
  const flagsAt = layout.offset + PCI_MSI_FLAGS;
  device.config.write16(flagsAt, device.config.read16(flagsAt) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
}

/** Sets or clears MSI-X Enable, Function Mask cleared (PCI 3.0 §6.8.2.3). */
export function setMsixEnable(device: PciDevice, enable: boolean): void {
  const layout = findMsix(device.config);
  if (layout === null) throw new TypeError(`setMsixEnable: ${device.bdf} has no MSI-X capability`);
  const controlAt = layout.offset + PCI_MSIX_FLAGS;
  const control = device.config.read16(controlAt) & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  device.config.write16(controlAt, enable ? control | PCI_MSIX_FLAGS_ENABLE : control);
}
