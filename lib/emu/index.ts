/**
 * `vfio-ddk/emu`: the software backend — emulated PCI devices that implement `PciDevice` register for
 * register (DESIGN.md lib/emu). See device.ts for what firmware-like setup a device gets at creation
 * (BDF 0000:80:00.0 upwards, BARs in 0xC000_0000…, Command = Memory Space Enable only: set Bus Master
 * Enable before expecting MSI/MSI-X or DMA).
 */
export { EmuPciDevice, type DeviceErrorRecord, EMU_SUBSYSTEM_ID, EMU_SUBSYSTEM_VENDOR_ID } from './device.ts';
export { createTestDevice, type TestDeviceOptions, TEST_DEV_REGS, TEST_DEV_CAUSE_INTX, TEST_DEV_ID_VALUE, TEST_DEV_VENDOR_ID, TEST_DEV_DEVICE_ID, TEST_DEV_MSIX_BAR } from './test-device.ts';
export { EmuInterrupts, EMU_MSI_ADDRESS, EMU_MSI_DATA_BASE } from './interrupts.ts';
export { EmuIommu, type IommuFault, EMU_IOVA_LIMIT } from './iommu.ts';
export { msixBarLayout } from './msix.ts';
export { EMU_MMIO_WINDOW_BASE, EMU_MMIO_WINDOW_END, EMU_FIRST_BUS } from './address-space.ts';
export { createEduDevice, EduDevice, type EduOptions, eduFactorial, EDU_DEFAULT_DMA_DELAY_MS } from './edu.ts';
export { createNvmeDevice, NvmeDevice, type NvmeOptions, NVME_EMU_MSIX_BAR } from './nvme.ts';
