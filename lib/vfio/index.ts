// Filled by the vfio issue; see DESIGN.md.
export {};
export * from './bdf.ts';
export * from './sysfs.ts';
export * from './sysfs-viability.ts';
export * from './sysfs-config.ts';
export * from './pci-ids.ts';
export * from './sysfs-resources.ts';
export * from './doctor.ts';
export * from './doctor-device.ts';
export { VfioDevice, openVfioDevice, type OpenVfioDeviceOptions } from './vfio-device.ts';
export { IovaAllocator, type IovaRange } from './iova-allocator.ts';
export { VFIO_DEFAULT_DMA_MASK } from './vfio-dma.ts';
export type { VfioIommu } from './vfio-iommu.ts';
export type { VfioIommuChoice } from './vfio-open.ts';
