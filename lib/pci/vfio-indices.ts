/**
 * vfio-pci's fixed region and IRQ indices (include/uapi/linux/vfio.h; spec/pci-vfio.md C.3).
 * `PciDevice` models interrupt routing and regions on VFIO, so both backends use these numbers.
 */
export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
export const VFIO_PCI_NUM_REGIONS = 9;

export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;

/** The interrupt indices a `PciDevice` routes: INTx, MSI, MSI-X. */
export type IrqIndex = typeof VFIO_PCI_INTX_IRQ_INDEX | typeof VFIO_PCI_MSI_IRQ_INDEX | typeof VFIO_PCI_MSIX_IRQ_INDEX;

export const IRQ_INDEX_NAMES = ['INTx', 'MSI', 'MSI-X'] as const;
