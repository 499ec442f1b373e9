/** MapInterrupt (device_irqs.cc Device::MapInterrupt): MSI / MSI-X via zx_msi_create, legacy a duplicate. */
import t from 'tap';
import { createNvmeDevice, createTestDevice, TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_MSI, PCI_INTERRUPT_MODE_MSI_X, ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE,
  ZX_ERR_INVALID_ARGS, ZX_OK, zx_handle_close, zx_interrupt_ack, zx_interrupt_wait, zx_object_get_info, ZX_INFO_HANDLE_BASIC,
  type zx_info_handle_basic_t,
} from 'vfio-ddk/zircon';
import { out, pciFor, within } from './bus-fixtures.ts';

t.test('MSI: MapInterrupt(n) is the interrupt of the device\'s vector n', async (t) => {
  const device = createTestDevice({ msi: { vectors: 4, perVectorMask: true } });
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 4), ZX_OK);
  const irqs = [out(0), out(0), out(0), out(0)];
  irqs.forEach((irq, n) => t.equal(pci.MapInterrupt(n, irq), ZX_OK, `vector ${n}`));
  const waits = irqs.map((irq) => zx_interrupt_wait(irq.value, null));
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 2);
  t.equal(await within(waits[2] as Promise<number>), ZX_OK, 'vector 2 delivered');
  t.equal(await within(waits[0] as Promise<number>, 50), 'timeout', 'vector 0 quiet');
  zx_interrupt_ack(irqs[2]?.value as number);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.equal(await within(waits[0] as Promise<number>), ZX_OK, 'vector 0 delivered');
  for (const irq of irqs) zx_handle_close(irq.value);
  device.close();
});

t.test('MSI-X: MapInterrupt programs the table entry through zx_msi_create and the vector is delivered', async (t) => {
  const device = createTestDevice({ msix: { vectors: 8 } });
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 8), ZX_OK);
  const irq = out(0);
  t.equal(pci.MapInterrupt(5, irq), ZX_OK);
  const wait = zx_interrupt_wait(irq.value, null);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 5);
  t.equal(await within(wait), ZX_OK);
  zx_handle_close(irq.value);
  device.close();
});

t.test('MapInterrupt statuses: BAD_STATE without a mode, INVALID_ARGS beyond the allocation, ALREADY_BOUND twice', async (t) => {
  const device = createTestDevice({ msi: { vectors: 2 } });
  const pci = pciFor(device);
  const irq = out(0);
  t.equal(pci.MapInterrupt(0, irq), ZX_ERR_BAD_STATE, 'interrupts disabled');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 1), ZX_OK);
  t.equal(pci.MapInterrupt(1, irq), ZX_ERR_INVALID_ARGS, 'only 1 vector allocated');
  t.equal(pci.MapInterrupt(0, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  t.equal(pci.MapInterrupt(0, irq), ZX_OK);
  t.equal(pci.MapInterrupt(0, out(0)), ZX_ERR_ALREADY_BOUND, 'vector 0 already has its object');
  zx_handle_close(irq.value);
  device.close();
  const nvme = createNvmeDevice();
  const npci = pciFor(nvme);
  t.equal(npci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 2), ZX_OK);
  t.equal(npci.MapInterrupt(2, out(0)), ZX_ERR_INVALID_ARGS, 'beyond the 2-vector block');
  nvme.close();
});

t.test('legacy: MapInterrupt(0) duplicates the function\'s one interrupt; which_irq ≠ 0 is INVALID_ARGS', async (t) => {
  const device = createTestDevice({ intx: true });
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY, 1), ZX_OK);
  const a = out(0);
  const b = out(0);
  t.equal(pci.MapInterrupt(0, a), ZX_OK);
  t.equal(pci.MapInterrupt(0, b), ZX_OK, 'again: another handle to the same object');
  const ka = out<object>({});
  const kb = out<object>({});
  zx_object_get_info(a.value, ZX_INFO_HANDLE_BASIC, ka);
  zx_object_get_info(b.value, ZX_INFO_HANDLE_BASIC, kb);
  t.equal((ka.value as zx_info_handle_basic_t).koid, (kb.value as zx_info_handle_basic_t).koid);
  t.equal(pci.MapInterrupt(1, out(0)), ZX_ERR_INVALID_ARGS);
  zx_handle_close(a.value);
  zx_handle_close(b.value);
  device.close();
});
