/**
 * VFIO uAPI flag values the callers of the addon pass or test (include/uapi/linux/vfio.h;
 * spec/pci-vfio.md C.3). The ioctl numbers themselves live only in native/uapi.h.
 */
export const VFIO_API_VERSION = 0;
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_NOIOMMU_IOMMU = 8;

export const VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

export const VFIO_DEVICE_FLAGS_RESET = 1 << 0;
export const VFIO_DEVICE_FLAGS_PCI = 1 << 1;

export const VFIO_REGION_INFO_FLAG_READ = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
export const VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
export const VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;

export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
export const VFIO_IRQ_INFO_NORESIZE = 1 << 3;

export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;

export const VFIO_IOMMU_INFO_PGSIZES = 1 << 0;
export const VFIO_IOMMU_INFO_CAPS = 1 << 1;

export const VFIO_PCI_HOT_RESET_FLAG_DEV_ID = 1 << 0;
export const VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED = 1 << 1;
/** vfio_pci_dependent_device.devid values (cdev flow), as the addon's u32 `groupId`. */
export const VFIO_PCI_DEVID_OWNED = 0;
export const VFIO_PCI_DEVID_NOT_OWNED = 0xffffffff;
