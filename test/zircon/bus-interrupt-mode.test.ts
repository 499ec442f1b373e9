/** GetInterruptModes and SetInterruptMode (device_irqs.cc GetInterruptModes, SetIrqMode, EnableMsi/Msix). */
import t from 'tap';
import { createEduDevice, createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import {
  findMsi, findMsix, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE,
  PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL,
} from 'vfio-ddk';
import {
  PCI_INTERRUPT_MODE_COUNT, PCI_INTERRUPT_MODE_DISABLED, PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_LEGACY_NOACK,
  PCI_INTERRUPT_MODE_MSI, PCI_INTERRUPT_MODE_MSI_X, ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED, ZX_OK,
  zx_handle_close, type pci_interrupt_modes_t,
} from 'vfio-ddk/zircon';
import { out, pciFor } from './bus-fixtures.ts';

t.test('GetInterruptModes: has_legacy from the pin, msi_count from MMC, msix_count from the table size', async (t) => {
  const cases: [unknown, pci_interrupt_modes_t][] = [
    [createEduDevice(), { has_legacy: true, msi_count: 1, msix_count: 0 }],
    [createNvmeDevice(), { has_legacy: true, msi_count: 0, msix_count: 65 }],
    [createTestDevice({ msi: { vectors: 8 }, msix: { vectors: 5 } }), { has_legacy: false, msi_count: 8, msix_count: 5 }],
  ];
  for (const [device, want] of cases) {
    const modes = out<pci_interrupt_modes_t | null>(null);
    t.equal(pciFor(device).GetInterruptModes(modes as { value: pci_interrupt_modes_t }), ZX_OK);
    t.same(modes.value, want);
    (device as { close(): void }).close();
  }
});

t.test('SetInterruptMode(MSI, n) programs address, data, MME and Enable from ZX_INFO_MSI, with bus mastering', async (t) => {
  const device = createTestDevice({ msi: { vectors: 8, perVectorMask: true, addr64: true } });
  const pci = pciFor(device);
  const msi = findMsi(device.config);
  if (msi === null) throw new Error('no MSI');
  t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_MASTER, 0);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 4), ZX_OK);
  const flags = device.config.read16(msi.offset + PCI_MSI_FLAGS);
  t.equal(flags & PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_ENABLE, 'MSI Enable');
  t.equal((flags >> 4) & 7, 2, 'MME = log2(4)');
  t.equal(device.config.read32(msi.addressLo) >>> 0, 0xfee00000, 'target_addr');
  t.equal(device.config.read16(msi.data) % 4, 0, 'target_data: the block\'s first vector, 4-aligned');
  t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_MASTER, PCI_COMMAND_MASTER, 'bus mastering on');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0), ZX_OK);
  t.equal(device.config.read16(msi.offset + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE, 0, 'disabled again');
  device.close();
});

t.test('SetInterruptMode(MSI_X, n): Enable with the Function Mask until MapInterrupt creates a vector', async (t) => {
  const device = createNvmeDevice();
  const pci = pciFor(device);
  const msix = findMsix(device.config);
  if (msix === null) throw new Error('no MSI-X');
  const control = (): number => device.config.read16(msix.offset + PCI_MSIX_FLAGS);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 3), ZX_OK, 'any count: the block is bit_ceil(3) = 4');
  t.equal(control() & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL), PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  const irq = out(0);
  t.equal(pci.MapInterrupt(3, irq), ZX_OK, 'vector 3 of the 4-vector block');
  t.equal(control() & PCI_MSIX_FLAGS_MASKALL, 0, 'Function Mask cleared');
  zx_handle_close(irq.value);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0), ZX_OK);
  t.equal(control() & PCI_MSIX_FLAGS_ENABLE, 0);
  device.close();
});

t.test('LEGACY clears Interrupt Disable; DISABLED sets it again', async (t) => {
  const device = createEduDevice();
  const pci = pciFor(device);
  t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_INTX_DISABLE, 'the bus starts it off');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY, 1), ZX_OK);
  t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, 0);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY_NOACK, 1), ZX_OK, 'legacy → legacy: no handles to free');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0), ZX_OK);
  t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_INTX_DISABLE);
  device.close();
});

t.test('SetInterruptMode statuses: NOT_SUPPORTED, INVALID_ARGS, BAD_STATE while interrupts are mapped', async (t) => {
  const device = createTestDevice({ msi: { vectors: 4 } });
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_COUNT, 1), ZX_ERR_NOT_SUPPORTED, 'no such mode');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 1), ZX_ERR_NOT_SUPPORTED, 'no MSI-X capability');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY, 1), ZX_ERR_NOT_SUPPORTED, 'no interrupt pin');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 0), ZX_ERR_INVALID_ARGS, 'count 0');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 3), ZX_ERR_INVALID_ARGS, 'not a power of two');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 8), ZX_ERR_INVALID_ARGS, 'more than MMC offers');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 2), ZX_OK);
  const irq = out(0);
  t.equal(pci.MapInterrupt(1, irq), ZX_OK);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 4), ZX_ERR_BAD_STATE, 'an MSI object of the mode is alive');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0), ZX_ERR_BAD_STATE, 'disabling too');
  zx_handle_close(irq.value);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 4), ZX_OK, 'handle closed: the allocation is free');
  t.throws(() => pci.SetInterruptMode('MSI' as never, 1), TypeError);
  device.close();
  const nvme = createNvmeDevice();
  t.equal(pciFor(nvme).SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 66), ZX_ERR_INVALID_ARGS, 'beyond the 65-entry table');
  nvme.close();
});
