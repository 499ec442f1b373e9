/**
 * 64-bit memory BARs of emulated devices (PCI 3.0 §6.2.5.1), as the NVMe controller's BAR0 uses one:
 * the register pair, sizing over both halves, the address from both halves, the upper half not a BAR;
 * and the capability builder placing capabilities at fixed offsets (QEMU NVMe: MSI-X → PCIe → PM).
 */
import t from 'tap';
import { createNvmeDevice } from 'vfio-ddk/emu';
import { EmuConfigSpace } from '../../lib/emu/config-space.ts';
import { EmuPciDevice } from '../../lib/emu/device.ts';
import type { MmioHandler } from '../../lib/emu/region.ts';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_CAP_ID_EXP, PCI_CAP_ID_MSIX, PCI_CAP_ID_PM, PCI_CAP_ID_VNDR,
  PCI_MSIX_ENTRY_DATA, listCapabilities,
} from '../../lib/pci/index.ts';
import { NVME_REG } from '../../lib/pci/nvme-regs.ts';

const zeros: MmioHandler = { read: () => 0, write: () => {}, read64: () => 0n, write64: () => {} };
const identity = { vendorId: 0x1234, deviceId: 0x5678, classCode: 0xff0000, revision: 0 };

t.test('a 64-bit BAR: type bits 0x4, upper half writable, sizing yields ~(size - 1) over 64 bits', async (t) => {
  using dev = createNvmeDevice();
  const cfg = dev.config;
  const low = cfg.read32(PCI_BASE_ADDRESS_0);
  t.equal(low & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64, '64-bit, non-prefetchable, memory');
  t.equal(cfg.read32(PCI_BASE_ADDRESS_0 + 4), 0, 'placed below 4 GiB');
  t.equal(dev.barAddress(0), BigInt((low & ~0xf) >>> 0));
  cfg.write32(PCI_BASE_ADDRESS_0, 0xffffffff);
  cfg.write32(PCI_BASE_ADDRESS_0 + 4, 0xffffffff);
  t.equal(cfg.read32(PCI_BASE_ADDRESS_0), 0xffffc004, 'low half: 16 KiB mask + type bits');
  t.equal(cfg.read32(PCI_BASE_ADDRESS_0 + 4), 0xffffffff, 'upper half: all address bits');
  cfg.write32(PCI_BASE_ADDRESS_0 + 4, 0x1);
  cfg.write32(PCI_BASE_ADDRESS_0, 0x2000_0000);
  t.equal(dev.barAddress(0), 0x1_2000_0000n, 'the address spans both halves');
  cfg.write32(PCI_BASE_ADDRESS_0 + 4, 0);
  cfg.write32(PCI_BASE_ADDRESS_0, low);
  t.equal(dev.barAddress(0), BigInt((low & ~0xf) >>> 0), 'restored');
  t.throws(() => dev.bar(1), { code: 'ENOENT', message: /upper half of 64-bit BAR0/ });
  t.equal(dev.barAddress(1), null);
  t.equal(dev.bar(0).read32(NVME_REG.VS), 0x00010400, 'BAR0 still decodes at its own offsets');
});

t.test('a 64-bit BAR needs the next register free', async (t) => {
  const spec = (index: number, other?: number) => ({
    identity, pin: 0, dmaMask: 0xffff_ffffn,
    bars: [{ index, size: 4096, handler: zeros, is64: true }, ...(other === undefined ? [] : [{ index: other, size: 4096, handler: zeros }])],
  });
  t.throws(() => new EmuPciDevice(spec(5)), RangeError, 'BAR5 has no upper half');
  t.throws(() => new EmuPciDevice(spec(2, 3)), RangeError, 'register 3 taken');
  const ok = new EmuPciDevice(spec(2, 4));
  t.equal(ok.config.read32(PCI_BASE_ADDRESS_0 + 8) & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64);
  t.equal(ok.config.read32(PCI_BASE_ADDRESS_0 + 16) & 0xf, 0);
  ok.close();
});

t.test('MSI-X table inside a model BAR: table and PBA go to the capability, the rest to the model', async (t) => {
  using dev = createNvmeDevice();
  const bar = dev.bar(0);
  bar.write32(0x2000 + PCI_MSIX_ENTRY_DATA, 0x4321);
  t.equal(bar.read32(0x2000 + PCI_MSIX_ENTRY_DATA), 0x4321, 'table entry 0 data at 0x2008');
  t.equal(bar.read64(0x2000 + 64 * 16), 0n, 'entry 64 (the last): address 0');
  t.equal(bar.read32(0x2000 + 64 * 16 + 12), 1, 'entry 64: masked after reset');
  t.equal(bar.read32(0x2000 + 65 * 16), 0, 'past the table: nothing');
  t.equal(bar.read32(0x3000), 0, 'PBA clear');
  bar.write32(0x3000, 0xffffffff);
  t.equal(bar.read32(0x3000), 0, 'PBA read-only');
  bar.write32(0x2800, 0x55);
  t.equal(bar.read32(0x2800), 0, 'between table and PBA nothing decodes');
  t.equal(dev.deviceErrors.length, 0, 'no register write was recorded for table / PBA / hole accesses');
  t.equal(bar.read32(NVME_REG.CAP), 0x0f0107ff, 'registers unaffected');
});

t.test('capabilities at fixed offsets link in call order; overlaps and bad offsets are refused', async (t) => {
  const config = new EmuConfigSpace(4096);
  t.equal(config.size, 4096);
  t.equal(config.addCapability(PCI_CAP_ID_MSIX, 12), 0x40, 'first free space');
  t.equal(config.addCapability(PCI_CAP_ID_EXP, 0x3c, 0x80), 0x80);
  t.equal(config.addCapability(PCI_CAP_ID_PM, 8, 0x60), 0x60);
  t.same(listCapabilities(config).map((c) => [c.id, c.offset]), [[0x11, 0x40], [0x10, 0x80], [0x01, 0x60]]);
  t.equal(config.addCapability(PCI_CAP_ID_VNDR, 8), 0x4c, 'the next free dword after MSI-X');
  t.throws(() => config.addCapability(PCI_CAP_ID_VNDR, 8, 0x84), RangeError, 'overlaps PCIe');
  t.throws(() => config.addCapability(PCI_CAP_ID_VNDR, 8, 0x3c), RangeError, 'inside the header');
  t.throws(() => config.addCapability(PCI_CAP_ID_VNDR, 8, 0x62 + 0x20), RangeError, 'unaligned');
  t.throws(() => new EmuConfigSpace(512), RangeError);
  t.equal(config.read32(0x100), 0, 'extended space reads 0 (no extended capabilities)');
  t.throws(() => config.read32(4096), RangeError);
});
