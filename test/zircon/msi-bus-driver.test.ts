/**
 * Issue 11 items 1–2, from zircon/kernel/object/msi_dispatcher.cc: zx_msi_create never programs the
 * MSI capability (the PCI bus driver does, from ZX_INFO_MSI), the platform decodes the message the
 * capability holds, and a function's INTx and MSI objects coexist (PCI 3.0 §6.8.1.3: with MSI enabled
 * the function stops asserting its pin).
 */
import t from 'tap';
import { findMsi, PCI_MSI_FLAGS } from 'vfio-ddk';
import { TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  ZX_INFO_MSI, ZX_INTERRUPT_MODE_LEVEL_HIGH, ZX_OK, disableMsiCapability, get_root_resource, programMsiCapability,
  zx_handle_close, zx_interrupt_create, zx_interrupt_wait, zx_msi_allocate, zx_msi_create, zx_object_get_info,
  type zx_info_msi_t,
} from 'vfio-ddk/zircon';
import { msiDecodeCounters } from '../../lib/zircon/platform/msi-decoder.ts';
import { attachedTestDevice, deviceVmo } from './device-fixtures.ts';
import { out, settle, stateOf } from './helpers.ts';

function allocate(count: number): { handle: number; info: zx_info_msi_t } {
  const msi = out(0);
  if (zx_msi_allocate(get_root_resource(), count, msi) !== ZX_OK) throw new Error('zx_msi_allocate failed');
  const info = out<object>({});
  zx_object_get_info(msi.value, ZX_INFO_MSI, info);
  return { handle: msi.value, info: info.value as zx_info_msi_t };
}

t.test('zx_msi_create leaves the address, data, MME and Enable the bus driver wrote', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 4, perVectorMask: true, addr64: true } });
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('no MSI');
  const msi = allocate(1);
  programMsiCapability(device, msi.info, 1); // MME 0: one vector, though the function could use 4
  const before = [device.config.read16(layout.offset + PCI_MSI_FLAGS), device.config.read32(layout.addressLo), device.config.read16(layout.data)];
  const vmo = deviceVmo(platform.ecam, 4096n);
  const irq = out(0);
  t.equal(zx_msi_create(msi.handle, 0, 0, vmo, layout.offset, irq), ZX_OK);
  t.same([device.config.read16(layout.offset + PCI_MSI_FLAGS), device.config.read32(layout.addressLo), device.config.read16(layout.data)], before,
    'Message Control, Address and Data unchanged');
  const waiting = zx_interrupt_wait(irq.value, null);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.equal(await waiting, ZX_OK, 'delivered through what the bus driver programmed');
  for (const h of [irq.value, msi.handle, vmo]) zx_handle_close(h);
  device.close();
});

t.test('a device message reaches the interrupt only when the capability holds its target address and data', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 2, perVectorMask: true } });
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('no MSI');
  const msi = allocate(2);
  const vmo = deviceVmo(platform.ecam, 4096n);
  const irq0 = out(0);
  const irq1 = out(0);
  t.equal(zx_msi_create(msi.handle, 0, 0, vmo, layout.offset, irq0), ZX_OK);
  t.equal(zx_msi_create(msi.handle, 0, 1, vmo, layout.offset, irq1), ZX_OK);
  const wait0 = zx_interrupt_wait(irq0.value, null);
  const wait1 = zx_interrupt_wait(irq1.value, null);

  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.equal(await stateOf(wait0), 'pending', 'MSI not enabled by anyone: the function may not signal');

  const spurious = msiDecodeCounters.spurious;
  programMsiCapability(device, { target_addr: msi.info.target_addr, target_data: msi.info.target_data + 64 }, 2);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  await settle();
  t.equal(await stateOf(wait0), 'pending', 'data naming another vector: not ours');
  t.equal(msiDecodeCounters.spurious, spurious + 1, 'counted as a spurious vector');

  programMsiCapability(device, msi.info, 1);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 1);
  await settle();
  t.equal(await stateOf(wait1), 'pending', 'vector 1 is outside the enabled MME block (1 vector)');
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
  t.equal(await wait0, ZX_OK, 'target address + data: delivered');

  programMsiCapability(device, msi.info, 2);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 1);
  t.equal(await wait1, ZX_OK, 'MME 1: vector 1 carries target_data + 1');
  for (const h of [irq0.value, irq1.value, msi.handle, vmo]) zx_handle_close(h);
  device.close();
});

for (const order of ['INTx first', 'MSI first'] as const) {
  t.test(`INTx and MSI objects of one function coexist (${order}); with MSI enabled the pin is quiet`, async (t) => {
    const { device, platform } = attachedTestDevice({ intx: true, msi: { vectors: 1 } });
    const layout = findMsi(device.config);
    if (layout === null || platform.irq === null) throw new Error('test device lacks INTx or MSI');
    const msi = allocate(1);
    const vmo = deviceVmo(platform.ecam, 4096n);
    const intx = out(0);
    const msiIrq = out(0);
    const createIntx = (): number => zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, intx);
    const createMsi = (): number => zx_msi_create(msi.handle, 0, 0, vmo, layout.offset, msiIrq);
    const [first, second] = order === 'INTx first' ? [createIntx, createMsi] : [createMsi, createIntx];
    t.equal(first(), ZX_OK);
    t.equal(second(), ZX_OK, 'the second object of the function is created too');

    programMsiCapability(device, msi.info, 1);
    const intxWait = zx_interrupt_wait(intx.value, null);
    const msiWait = zx_interrupt_wait(msiIrq.value, null);
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, 1);
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0);
    t.equal(await msiWait, ZX_OK, 'MSI delivered');
    t.equal(await stateOf(intxWait), 'pending', 'level high, but MSI Enable keeps the pin deasserted');

    disableMsiCapability(device);
    t.equal(await intxWait, ZX_OK, 'MSI disabled: the still-high level asserts INTx');
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, 0);
    for (const h of [intx.value, msiIrq.value, msi.handle, vmo]) zx_handle_close(h);
    device.close();
  });
}
