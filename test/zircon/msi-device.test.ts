/**
 * MSI and MSI-X over an emulated device's real structures (spec/zircon.md A.10): the capability /
 * table reached through a physical VMO, mask bits that really change in config space / the table,
 * device-raised vectors waking zx_interrupt_wait and producing port packets. The capability itself is
 * the bus driver's (programMsiCapability / setMsixEnable, as src/devices/bus/drivers/pci does).
 */
import t from 'tap';
import { findMsi, findMsix, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL } from 'vfio-ddk';
import { TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  ZX_ERR_ALREADY_BOUND, ZX_ERR_CANCELED, ZX_ERR_INVALID_ARGS, ZX_INFO_MSI, ZX_INTERRUPT_BIND, ZX_MSI_MODE_MSI_X, ZX_OK,
  ZX_PKT_TYPE_INTERRUPT, ZX_TIME_INFINITE, get_root_resource, zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_destroy,
  zx_interrupt_wait, zx_msi_allocate, zx_msi_create, zx_object_get_info, zx_port_wait, programMsiCapability, setMsixEnable,
  type zx_info_msi_t, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { attachedTestDevice, deviceVmo, pageRound } from './device-fixtures.ts';
import { interruptPort, out, settle, stateOf } from './helpers.ts';

function allocate(count: number): number {
  const msi = out(0);
  if (zx_msi_allocate(get_root_resource(), count, msi) !== ZX_OK) throw new Error('zx_msi_allocate failed');
  return msi.value;
}

function info(msi: number): zx_info_msi_t {
  const o = out<object>({});
  zx_object_get_info(msi, ZX_INFO_MSI, o);
  return o.value as zx_info_msi_t;
}

t.test('MSI with per-vector masking: create unmasks, delivery masks, the next wait unmasks', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 4, perVectorMask: true, addr64: true } });
  const layout = findMsi(device.config);
  if (layout === null || layout.mask === null) throw new Error('test device has no PVM MSI');
  const vmo = deviceVmo(platform.ecam, 4096n);
  const msi = allocate(4);
  const irq = out(0);
  t.equal(zx_msi_create(msi, 0, 1, vmo, layout.offset, irq), ZX_OK);
  programMsiCapability(device, info(msi), 4);
  t.equal((device.config.read32(layout.mask) >>> 1) & 1, 0, 'vector 1 unmasked after create');
  t.equal(info(msi).interrupt_count, 1);
  t.equal(zx_msi_create(msi, 0, 1, vmo, layout.offset, out(0)), ZX_ERR_ALREADY_BOUND, 'id in use');

  const ts = out(0n);
  const waiting = zx_interrupt_wait(irq.value, ts);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 1);
  t.equal(await waiting, ZX_OK, 'device-raised vector 1 wakes the waiter');
  t.ok(ts.value > 0n, 'timestamp from the line');
  t.equal((device.config.read32(layout.mask) >>> 1) & 1, 1, 'MASK_POSTWAIT set the mask bit in config space');

  // Raised while masked: latched by the device (pending bit), delivered on the unmask of the next wait.
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 1);
  await settle();
  const again = zx_interrupt_wait(irq.value, ts);
  t.equal((device.config.read32(layout.mask) >>> 1) & 1, 0, 'UNMASK_PREWAIT cleared the bit');
  t.equal(await again, ZX_OK, 'the latched vector arrives after unmask');

  const third = zx_interrupt_wait(irq.value, null);
  t.equal(await stateOf(third), 'pending', 'nothing else pending');
  zx_handle_close(irq.value);
  t.equal(await third, ZX_ERR_CANCELED, 'close destroys: pending wait CANCELED');
  t.equal((device.config.read32(layout.mask) >>> 1) & 1, 1, 'destroy leaves the vector masked');
  t.equal(info(msi).interrupt_count, 0, 'id released when the object is freed');
  zx_handle_close(msi);
  zx_handle_close(vmo);
  device.close();
});

t.test('MSI vector bound to a port: raise → packet; ack re-arms', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 2, perVectorMask: true } });
  const layout = findMsi(device.config);
  if (layout === null || layout.mask === null) throw new Error('no MSI');
  const vmo = deviceVmo(platform.ecam, 4096n);
  const msi = allocate(2);
  const irq = out(0);
  t.equal(zx_msi_create(msi, 0, 0, vmo, layout.offset, irq), ZX_OK);
  programMsiCapability(device, info(msi), 2);
  const port = interruptPort();
  t.equal(zx_interrupt_bind(irq.value, port, 0x77n, ZX_INTERRUPT_BIND), ZX_OK);
  const packet = out<zx_port_packet_t | null>(null);
  const waiting = zx_port_wait(port, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.equal(await waiting, ZX_OK);
  t.equal(packet.value?.key, 0x77n);
  t.equal(packet.value?.type, ZX_PKT_TYPE_INTERRUPT);
  t.equal(device.config.read32(layout.mask) & 1, 1, 'masked while the packet is outstanding');
  t.equal(zx_interrupt_ack(irq.value), ZX_OK);
  t.equal(device.config.read32(layout.mask) & 1, 0, 'ack unmasked');
  const next = zx_port_wait(port, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.equal(await next, ZX_OK, 'second interrupt, second packet');
  for (const h of [irq.value, port, msi, vmo]) zx_handle_close(h);
  device.close();
});

t.test('MSI without per-vector masking: mask/unmask are no-ops, interrupts still delivered', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 1 } });
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('no MSI');
  const vmo = deviceVmo(platform.ecam, 4096n);
  const msi = allocate(1);
  const irq = out(0);
  t.equal(zx_msi_create(msi, 0, 0, vmo, layout.offset, irq), ZX_OK);
  programMsiCapability(device, info(msi), 1);
  const waiting = zx_interrupt_wait(irq.value, null);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.equal(await waiting, ZX_OK);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  await settle();
  t.equal(await zx_interrupt_wait(irq.value, null), ZX_OK, 'raised during NEEDACK: pending, returned at once');
  for (const h of [irq.value, msi, vmo]) zx_handle_close(h);
  device.close();
});

t.test('an MSI offset that is not the device capability → INVALID_ARGS, id released', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 1 } });
  const vmo = deviceVmo(platform.ecam, 4096n);
  const msi = allocate(1);
  t.equal(zx_msi_create(msi, 0, 0, vmo, 0, out(0)), ZX_ERR_INVALID_ARGS, 'vendor id byte is not 0x05');
  t.equal(info(msi).interrupt_count, 0);
  for (const h of [msi, vmo]) zx_handle_close(h);
  device.close();
});

t.test('MSI-X: the entry is programmed and masked/unmasked through the table in the BAR', async (t) => {
  const { device, platform } = attachedTestDevice({ msix: { vectors: 8 } });
  const layout = findMsix(device.config);
  if (layout === null) throw new Error('no MSI-X');
  const barAddr = platform.bars[layout.tableBar];
  if (barAddr === null || barAddr === undefined) throw new Error('MSI-X BAR not placed');
  const vmo = deviceVmo(barAddr, pageRound(device.bar(layout.tableBar).size));
  const msi = allocate(8);
  const block = info(msi);
  const irq = out(0);
  const id = 3;
  t.equal(zx_msi_create(msi, ZX_MSI_MODE_MSI_X, id, vmo, layout.tableOffset, irq), ZX_OK);
  const bar = device.bar(layout.tableBar);
  const entry = layout.tableOffset + PCI_MSIX_ENTRY_SIZE * id;
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_LOWER_ADDR), Number(block.target_addr & 0xffffffffn), 'address low = target_addr');
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_UPPER_ADDR), 0);
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_DATA), block.target_data + id, 'data = target_data + msi_id');
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT, 0, 'unmasked at the end of create');
  t.equal(device.config.read16(layout.offset + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE, 0, 'MSI-X Enable is the bus driver\'s, not zx_msi_create\'s');
  setMsixEnable(device, true);

  const waiting = zx_interrupt_wait(irq.value, null);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, id);
  t.equal(await waiting, ZX_OK);
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT, 1, 'masked on delivery');
  const next = zx_interrupt_wait(irq.value, null);
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT, 0, 'unmasked by the next wait');
  t.equal(await stateOf(next), 'pending');
  t.equal(zx_msi_create(msi, ZX_MSI_MODE_MSI_X, 7, vmo, layout.tableOffset, out(0)) === ZX_OK, true, 'another vector');
  t.equal(zx_interrupt_destroy(irq.value), ZX_OK);
  t.equal(await next, ZX_ERR_CANCELED);
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT, 1, 'destroy masks');
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_DATA), block.target_data + id, 'destroy keeps the message (msi_dispatcher.cc zeroes it in the destructor)');
  zx_handle_close(irq.value);
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_DATA), 0, 'freeing the object zeroes data');
  t.equal(bar.read32(entry + PCI_MSIX_ENTRY_LOWER_ADDR), 0, 'freeing the object zeroes the address');
  t.equal(info(msi).interrupt_count, 1, 'vector 7 still there');
  zx_handle_close(msi);
  zx_handle_close(vmo);
  device.close();
});

t.test('closing the device resolves a pending MSI wait with CANCELED', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 1 } });
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('no MSI');
  const vmo = deviceVmo(platform.ecam, 4096n);
  const msi = allocate(1);
  const irq = out(0);
  t.equal(zx_msi_create(msi, 0, 0, vmo, layout.offset, irq), ZX_OK);
  const waiting = zx_interrupt_wait(irq.value, null);
  device.close();
  t.equal(await waiting, ZX_ERR_CANCELED);
  for (const h of [irq.value, msi, vmo]) zx_handle_close(h);
});

t.test('the kernel checks ids against the allocation only: an id beyond the capability\'s vectors and MSI + MSI-X objects of one function are all OK', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 2, perVectorMask: true }, msix: { vectors: 4 } });
  const msiLayout = findMsi(device.config);
  const msixLayout = findMsix(device.config);
  if (msiLayout === null || msixLayout === null) throw new Error('structures missing');
  const cfg = deviceVmo(platform.ecam, 4096n);
  const table = deviceVmo(platform.bars[msixLayout.tableBar] as bigint, pageRound(device.bar(msixLayout.tableBar).size));
  const msi = allocate(4);
  const beyond = out(0);
  t.equal(zx_msi_create(msi, 0, 3, cfg, msiLayout.offset, beyond), ZX_OK, 'the device has 2 MSI vectors, the allocation 4 (msi_dispatcher.cc checks num_irq)');
  const irq = out(0);
  t.equal(zx_msi_create(msi, 0, 0, cfg, msiLayout.offset, irq), ZX_OK);
  const irqx = out(0);
  t.equal(zx_msi_create(msi, ZX_MSI_MODE_MSI_X, 1, table, msixLayout.tableOffset, irqx), ZX_OK, 'no IRQ index rule in the kernel');
  t.equal(info(msi).interrupt_count, 3);
  for (const h of [beyond.value, irq.value, irqx.value, msi, cfg, table]) zx_handle_close(h);
  device.close();
});
