/**
 * Legacy interrupts through the bus (bus.cc Bus::LegacyIrqWorker, device_irqs.cc AckLegacyIrq): the bus
 * owns the physical interrupt, sets Interrupt Disable when the function interrupts (LEGACY) and
 * AckInterrupt clears it; LEGACY_NOACK leaves the function enabled below the flood limit.
 */
import t from 'tap';
import { createTestDevice, TEST_DEV_REGS } from 'vfio-ddk/emu';
import { PCI_COMMAND, PCI_COMMAND_INTX_DISABLE } from 'vfio-ddk';
import {
  PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_LEGACY_NOACK, PCI_INTERRUPT_MODE_MSI, ZX_ERR_ALREADY_BOUND,
  ZX_ERR_BAD_STATE, ZX_OK, get_root_resource, kMaxIrqsPerNoAckPeriod, zx_handle_close, zx_interrupt_ack,
  zx_interrupt_create, zx_interrupt_wait, zx_platform_attach,
} from 'vfio-ddk/zircon';
import { out, pciFor, within } from './bus-fixtures.ts';

const intxDisabled = (device: { config: { read16(o: number): number } }): boolean =>
  (device.config.read16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) !== 0;

t.test('LEGACY: a fire sets Interrupt Disable; the driver acks, then AckInterrupt lets the next one through', async (t) => {
  const device = createTestDevice({ intx: true });
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY, 1), ZX_OK);
  const irq = out(0);
  t.equal(pci.MapInterrupt(0, irq), ZX_OK);
  const ts = out(0n);
  let wait = zx_interrupt_wait(irq.value, ts);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_INTX, 1);
  t.equal(await within(wait), ZX_OK, 'delivered through the bus\'s virtual interrupt');
  t.ok(ts.value > 0n, 'with the physical interrupt\'s timestamp');
  t.ok(intxDisabled(device), 'the bus set Interrupt Disable');
  device.bar(0).read32(TEST_DEV_REGS.TEST_DEV_INTR_CAUSE); // the driver services its device
  zx_interrupt_ack(irq.value);
  wait = zx_interrupt_wait(irq.value, null);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_INTX, 1);
  t.equal(await within(wait, 50), 'timeout', 'held off by Interrupt Disable until AckInterrupt');
  t.equal(pci.AckInterrupt(), ZX_OK);
  t.notOk(intxDisabled(device));
  t.equal(await within(wait), ZX_OK, 'the pending level fires once re-enabled');
  zx_handle_close(irq.value);
  device.close();
});

t.test('LEGACY_NOACK: the function stays enabled; AckInterrupt is BAD_STATE outside LEGACY', async (t) => {
  const device = createTestDevice({ intx: true, msi: { vectors: 1 } });
  const pci = pciFor(device);
  t.equal(pci.AckInterrupt(), ZX_ERR_BAD_STATE, 'DISABLED');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY_NOACK, 1), ZX_OK);
  t.equal(pci.AckInterrupt(), ZX_ERR_BAD_STATE, 'LEGACY_NOACK needs none');
  const irq = out(0);
  t.equal(pci.MapInterrupt(0, irq), ZX_OK);
  for (let i = 0; i < 3; i++) {
    const wait = zx_interrupt_wait(irq.value, null);
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_INTX, 1);
    t.equal(await within(wait), ZX_OK, `fire ${i}`);
    t.notOk(intxDisabled(device));
    device.bar(0).read32(TEST_DEV_REGS.TEST_DEV_INTR_CAUSE);
    zx_interrupt_ack(irq.value);
  }
  zx_handle_close(irq.value);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 1), ZX_OK);
  t.equal(pci.AckInterrupt(), ZX_ERR_BAD_STATE, 'MSI');
  device.close();
});

t.test(`LEGACY_NOACK: ${kMaxIrqsPerNoAckPeriod} fires within a second disable the function (flood guard)`, async (t) => {
  const device = createTestDevice({ intx: true });
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY_NOACK, 1), ZX_OK);
  const irq = out(0);
  t.equal(pci.MapInterrupt(0, irq), ZX_OK);
  let delivered = 0;
  for (let i = 0; i < kMaxIrqsPerNoAckPeriod; i++) {
    const wait = zx_interrupt_wait(irq.value, null);
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_INTX, 1);
    if (await within(wait) !== ZX_OK) break;
    delivered++;
    device.bar(0).read32(TEST_DEV_REGS.TEST_DEV_INTR_CAUSE);
    zx_interrupt_ack(irq.value);
  }
  t.equal(delivered, kMaxIrqsPerNoAckPeriod);
  t.ok(intxDisabled(device), 'Interrupt Disable set by the bus; only a mode change re-enables it');
  zx_handle_close(irq.value);
  device.close();
});

t.test('LEGACY on a vector someone else owns is ALREADY_BOUND (zx_interrupt_create\'s status)', async (t) => {
  const device = createTestDevice({ intx: true });
  const vector = zx_platform_attach(device).irq as number;
  const mine = out(0);
  t.equal(zx_interrupt_create(get_root_resource(), vector, 0, mine), ZX_OK);
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY, 1), ZX_ERR_ALREADY_BOUND);
  zx_handle_close(mine.value);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY, 1), ZX_OK, 'free again');
  device.close();
});
