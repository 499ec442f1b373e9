/**
 * What a reset of an MSI-X device must leave in place, checked the same way after an FLR
 * (reset-under-load.test.ts) and a bus reset (hot-reset.test.ts): the kernel restores the Command
 * register and MSI-X Enable it saved (pci_try_reset_function / pci_reset_bus → pci_dev_save_and_disable,
 * pci_dev_restore → pci_restore_state in drivers/pci/pci.c), and the library keeps its eventfd routes and
 * IOMMU mappings (README "Resets").
 */
import type { Test } from 'tap';
import {
  PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, VFIO_PCI_MSIX_IRQ_INDEX, findMsix,
} from 'vfio-ddk';
import type { VfioDevice } from 'vfio-ddk/vfio';

export function keptAcrossReset(t: Test, device: VfioDevice, mappings: number, mappingsWhat: string): void {
  const command = device.config.read16(PCI_COMMAND);
  t.equal(command & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 'Command restored by the kernel');
  const msix = findMsix(device.config);
  t.ok(msix !== null && (device.config.read16(msix.offset + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE) !== 0, 'MSI-X still enabled');
  t.equal(device.irq.activeIndex, VFIO_PCI_MSIX_IRQ_INDEX, 'the eventfd routes are still registered');
  t.equal(device.dma.mappings, mappings, mappingsWhat);
}
