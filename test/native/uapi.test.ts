import t from 'tap';
import { native, skip } from './helpers.ts';

// spec/pci-vfio.md C.3 table (x86-64/arm64 values) and C.5 iommufd numbers.
const SPEC_IOCTLS: Record<string, number> = {
  VFIO_GET_API_VERSION: 0x3b64,
  VFIO_CHECK_EXTENSION: 0x3b65,
  VFIO_SET_IOMMU: 0x3b66,
  VFIO_GROUP_GET_STATUS: 0x3b67,
  VFIO_GROUP_SET_CONTAINER: 0x3b68,
  VFIO_GROUP_UNSET_CONTAINER: 0x3b69,
  VFIO_GROUP_GET_DEVICE_FD: 0x3b6a,
  VFIO_DEVICE_GET_INFO: 0x3b6b,
  VFIO_DEVICE_GET_REGION_INFO: 0x3b6c,
  VFIO_DEVICE_GET_IRQ_INFO: 0x3b6d,
  VFIO_DEVICE_SET_IRQS: 0x3b6e,
  VFIO_DEVICE_RESET: 0x3b6f,
  VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: 0x3b70,
  VFIO_IOMMU_GET_INFO: 0x3b70,
  VFIO_DEVICE_PCI_HOT_RESET: 0x3b71,
  VFIO_IOMMU_MAP_DMA: 0x3b71,
  VFIO_IOMMU_UNMAP_DMA: 0x3b72,
  VFIO_DEVICE_BIND_IOMMUFD: 0x3b76,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: 0x3b77,
  VFIO_DEVICE_DETACH_IOMMUFD_PT: 0x3b78,
  IOMMU_DESTROY: 0x3b80,
  IOMMU_IOAS_ALLOC: 0x3b81,
  IOMMU_IOAS_ALLOW_IOVAS: 0x3b82,
  IOMMU_IOAS_COPY: 0x3b83,
  IOMMU_IOAS_IOVA_RANGES: 0x3b84,
  IOMMU_IOAS_MAP: 0x3b85,
  IOMMU_IOAS_UNMAP: 0x3b86,
};

// Sizes stated in spec C.3/C.5 (bind: with the token field; attach: with pasid).
const SPEC_SIZES: Record<string, number> = {
  vfio_group_status: 8,
  vfio_device_info: 24,
  vfio_region_info: 32,
  vfio_irq_info: 16,
  vfio_irq_set: 20,
  vfio_iommu_type1_info: 24,
  vfio_iommu_type1_dma_map: 32,
  vfio_iommu_type1_dma_unmap: 24,
  vfio_device_bind_iommufd: 24,
  vfio_device_attach_iommufd_pt: 16,
  vfio_device_detach_iommufd_pt: 12,
  vfio_info_cap_header: 8,
  iommu_ioas_map: 40,
};

t.test('ioctl request numbers match spec C.3 / C.5', { skip }, async (t) => {
  const numbers = native().ioctlNumbers();
  for (const [name, value] of Object.entries(SPEC_IOCTLS)) {
    t.equal(numbers[name], value, `${name} = 0x${value.toString(16)}`);
  }
  t.same(Object.keys(numbers).sort(), Object.keys(SPEC_IOCTLS).sort(), 'no unexpected ioctls');
});

t.test('struct sizes match spec C.3 / C.5', { skip }, async (t) => {
  const sizes = native().structSizes();
  for (const [name, size] of Object.entries(SPEC_SIZES)) t.equal(sizes[name], size, `${name} is ${size} bytes`);
});
