/**
 * The PCI function of the emulated NVMe controller, as QEMU 7.2's nvme_init_pci builds it
 * (hw/nvme/ctrl.c; checked against the real one by hw-tests/nvme-conformance.test.ts):
 *
 * * Identity 1b36:0010 rev 0x02, class 0x010802, Interrupt Pin 1, PCI Express config space (4096 bytes,
 *   no extended capabilities). No MSI.
 * * BAR0 is the only BAR: a 64-bit non-prefetchable memory BAR of 16 KiB (nvme_mbar_size: 4 KiB of
 *   registers + 2 × 65 doorbells, aligned up to 4 KiB → MSI-X table at 0x2000 (65 × 16 bytes),
 *   aligned → PBA at 0x3000, + 16 bytes, next power of two). Registers and doorbells in [0, 0x2000)
 *   (DSTRD 0, QEMU's "nvme" MMIO region); accesses in BAR0 outside registers, table and PBA read 0 and
 *   drop writes (QEMU maps nothing there).
 * * Capabilities in list order: MSI-X at 0x40 (65 vectors, table BIR 0 / 0x2000, PBA BIR 0 / 0x3000),
 *   PCI Express v2 at 0x80 with FLR, PM at 0x60 (pcie-caps.ts) — QEMU adds PM at 0x60 and PCIe at 0x80
 *   first and MSI-X into the first free space (0x40), each pci_add_capability linking at the head.
 */
import {
  NVME_QEMU_BAR0_SIZE, NVME_QEMU_DEVICE_ID, NVME_QEMU_MSIX_PBA_OFFSET, NVME_QEMU_MSIX_TABLE_OFFSET,
  NVME_QEMU_MSIX_VECTORS, NVME_QEMU_PCIE_CAP_OFFSET, NVME_QEMU_PM_CAP_OFFSET, NVME_QEMU_REVISION, NVME_QEMU_VENDOR_ID,
  PCI_CLASS_STORAGE_EXPRESS,
} from '../pci/nvme-regs.ts';
import { PCI_CFG_SPACE_EXP_SIZE, PCI_INTERRUPT_PIN_INTA } from '../pci/regs.ts';
import type { EmuDeviceSpec } from './device-spec.ts';
import { pcieEndpointCapability, pmCapability } from './pcie-caps.ts';
import type { MmioHandler } from './region.ts';

/** The BAR holding the MSI-X table and PBA: BAR0, as on QEMU 7.2 (table 0x2000, PBA 0x3000). */
export const NVME_EMU_MSIX_BAR = 0;

/** What the controller implements behind BAR0's register window (nvme.ts). */
export interface NvmeRegisterFile {
  readRegister(offset: number): number;
  writeRegister(offset: number, width: number, value: number): void;
}

/** BAR0's register window; bound to its controller right after construction (it cannot capture `this` before super()). */
export class NvmeRegisters implements MmioHandler {
  device: NvmeRegisterFile | null = null;
  read(offset: number, width: 1 | 2 | 4): number {
    if (offset >= NVME_QEMU_MSIX_TABLE_OFFSET) return 0;
    const word = (this.device as NvmeRegisterFile).readRegister(offset & ~3);
    return width === 4 ? word : (word >>> ((offset & 3) * 8)) & (width === 2 ? 0xffff : 0xff);
  }
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    // QEMU's "nvme" MMIO region ends where the MSI-X table starts; past it nothing decodes the write.
    if (offset >= NVME_QEMU_MSIX_TABLE_OFFSET) return;
    (this.device as NvmeRegisterFile).writeRegister(offset, width, value);
  }
  read64(offset: number): bigint {
    return (BigInt(this.read(offset + 4, 4)) << 32n) | BigInt(this.read(offset, 4));
  }
  write64(offset: number, value: bigint): void {
    this.write(offset, 4, Number(value & 0xffff_ffffn));
    this.write(offset + 4, 4, Number(value >> 32n));
  }
}

/** The device spec for EmuPciDevice: identity, BAR0 with the MSI-X table inside, capabilities. */
export function nvmePciSpec(registers: NvmeRegisters): EmuDeviceSpec {
  return {
    identity: { vendorId: NVME_QEMU_VENDOR_ID, deviceId: NVME_QEMU_DEVICE_ID, classCode: PCI_CLASS_STORAGE_EXPRESS, revision: NVME_QEMU_REVISION },
    pin: PCI_INTERRUPT_PIN_INTA,
    bars: [{ index: 0, size: NVME_QEMU_BAR0_SIZE, handler: registers, is64: true }],
    msix: {
      vectors: NVME_QEMU_MSIX_VECTORS,
      bar: NVME_EMU_MSIX_BAR,
      placement: { tableOffset: NVME_QEMU_MSIX_TABLE_OFFSET, pbaOffset: NVME_QEMU_MSIX_PBA_OFFSET },
    },
    capabilities: [pcieEndpointCapability(NVME_QEMU_PCIE_CAP_OFFSET, { flr: true }), pmCapability(NVME_QEMU_PM_CAP_OFFSET)],
    configSize: PCI_CFG_SPACE_EXP_SIZE,
    dmaMask: 0xffff_ffff_ffff_ffffn,
  };
}
