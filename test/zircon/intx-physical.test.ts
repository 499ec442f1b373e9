/**
 * Physical interrupts on the test device's INTx (spec/zircon.md A.7 step 3, A.9): level semantics —
 * masked at delivery, unmasked by the next wait/ack, so a still-asserted line fires again — and
 * device close releasing a pending wait.
 */
import t from 'tap';
import { TEST_DEV_REGS } from 'vfio-ddk/emu';
import type { EmuPciDevice } from 'vfio-ddk/emu';
import {
  ZX_ERR_ALREADY_BOUND, ZX_ERR_CANCELED, ZX_ERR_INVALID_ARGS, ZX_ERR_OUT_OF_RANGE, ZX_ERR_WRONG_TYPE, ZX_INTERRUPT_BIND,
  ZX_INTERRUPT_MODE_EDGE_BOTH, ZX_INTERRUPT_MODE_EDGE_HIGH, ZX_INTERRUPT_MODE_LEVEL_HIGH, ZX_INTERRUPT_TIMESTAMP_MONO,
  ZX_INTERRUPT_VIRTUAL, ZX_OK, ZX_RSRC_KIND_IRQ, ZX_RSRC_KIND_MMIO, ZX_TIME_INFINITE, ZX_TIME_INFINITE_PAST, ZX_ERR_TIMED_OUT,
  get_root_resource, zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create, zx_interrupt_wait,
  zx_port_wait, zx_resource_create, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { attachedTestDevice } from './device-fixtures.ts';
import { interruptPort, out, settle, stateOf } from './helpers.ts';

function setLevel(device: { bar(i: number): { write32(o: number, v: number): void } }, level: 0 | 1): void {
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, level);
}

t.test('zx_platform_attach gives an INTx platform number only to devices with a pin', async (t) => {
  const withPin = attachedTestDevice({ intx: true });
  const without = attachedTestDevice({ msi: { vectors: 1 } });
  t.type(withPin.platform.irq, 'number');
  t.equal(without.platform.irq, null);
  withPin.device.close();
  without.device.close();
});

t.test('level INTx: delivery masks, wait unmasks, a still-asserted line fires again', async (t) => {
  const { device, platform } = attachedTestDevice({ intx: true });
  const emu = device as unknown as EmuPciDevice;
  const irq = out(0);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, irq), ZX_OK);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, out(0)), ZX_ERR_ALREADY_BOUND, 'one owner per vector');
  const ts = out(0n);
  const first = zx_interrupt_wait(irq.value, ts);
  t.equal(await stateOf(first), 'pending');
  setLevel(device, 1);
  t.equal(await first, ZX_OK, 'asserting INTx wakes the waiter');
  t.ok(ts.value > 0n);
  t.equal(emu.irq.intxMasked, true, 'INTx masked after delivery');
  const second = zx_interrupt_wait(irq.value, ts);
  t.equal(await second, ZX_OK, 'still asserted: unmask at wait fires again (level)');
  setLevel(device, 0); // the driver services the device
  const third = zx_interrupt_wait(irq.value, ts);
  t.equal(emu.irq.intxMasked, false, 'the wait unmasked INTx');
  t.equal(await stateOf(third), 'pending', 'deasserted: nothing more');
  setLevel(device, 1);
  t.equal(await third, ZX_OK);
  setLevel(device, 0);
  zx_handle_close(irq.value);
  device.close();
});

t.test('level INTx bound to a port: packet, ack unmasks', async (t) => {
  const { device, platform } = attachedTestDevice({ intx: true });
  const emu = device as unknown as EmuPciDevice;
  const irq = out(0);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_TIMESTAMP_MONO, irq), ZX_OK, 'MODE_DEFAULT = level for PCI INTx');
  const port = interruptPort();
  zx_interrupt_bind(irq.value, port, 4n, ZX_INTERRUPT_BIND);
  const packet = out<zx_port_packet_t | null>(null);
  const before = process.hrtime.bigint();
  const waiting = zx_port_wait(port, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
  setLevel(device, 1);
  t.equal(await waiting, ZX_OK);
  t.equal(packet.value?.key, 4n);
  t.ok((packet.value?.interrupt?.timestamp ?? 0n) >= before, 'monotonic timestamp (TIMESTAMP_MONO)');
  t.equal(emu.irq.intxMasked, true);
  setLevel(device, 0);
  t.equal(zx_interrupt_ack(irq.value), ZX_OK);
  t.equal(emu.irq.intxMasked, false, 'ack unmasked INTx');
  await settle();
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, packet as { value: zx_port_packet_t }), ZX_ERR_TIMED_OUT);
  zx_handle_close(irq.value);
  zx_handle_close(port);
  device.close();
});

t.test('edge INTx is re-enabled right after each delivery', async (t) => {
  const { device, platform } = attachedTestDevice({ intx: true });
  const emu = device as unknown as EmuPciDevice;
  const irq = out(0);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_EDGE_HIGH, irq), ZX_OK);
  const waiting = zx_interrupt_wait(irq.value, null);
  setLevel(device, 1);
  t.equal(await waiting, ZX_OK);
  setLevel(device, 0);
  await settle();
  t.equal(emu.irq.intxMasked, false, 'not left masked (edge: the dispatcher never masks)');
  zx_handle_close(irq.value);
  device.close();
});

t.test('device close resolves a pending INTx wait with CANCELED', async (t) => {
  const { device, platform } = attachedTestDevice({ intx: true });
  const irq = out(0);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, irq), ZX_OK);
  const waiting = zx_interrupt_wait(irq.value, null);
  device.close();
  t.equal(await waiting, ZX_ERR_CANCELED);
  t.equal(await zx_interrupt_wait(irq.value, null), ZX_ERR_CANCELED);
  zx_handle_close(irq.value);
});

t.test('physical create: A.7 resource checks and option validation', async (t) => {
  const { device, platform } = attachedTestDevice({ intx: true });
  const n = platform.irq as number;
  const root = get_root_resource();
  t.equal(zx_interrupt_create(0, n, 0, out(0)), -11, 'BAD_HANDLE for handle 0');
  const mmio = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0n, 4096n, 'mmio', mmio);
  t.equal(zx_interrupt_create(mmio.value, n, 0, out(0)), ZX_ERR_WRONG_TYPE, 'not an IRQ resource');
  const irqRes = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_IRQ, BigInt(n + 1), 4n, 'irq', irqRes);
  t.equal(zx_interrupt_create(irqRes.value, n, 0, out(0)), ZX_ERR_OUT_OF_RANGE, 'n outside the resource');
  const covering = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_IRQ, BigInt(n), 1n, 'irq', covering);
  t.equal(zx_interrupt_create(covering.value, 100000, 0, out(0)), ZX_ERR_OUT_OF_RANGE);
  t.equal(zx_interrupt_create(root, 100000, 0, out(0)), ZX_ERR_INVALID_ARGS, 'no such platform vector');
  t.equal(zx_interrupt_create(root, n, ZX_INTERRUPT_VIRTUAL | 0x1, out(0)), ZX_ERR_INVALID_ARGS, 'REMAP with VIRTUAL');
  t.equal(zx_interrupt_create(root, n, ZX_INTERRUPT_MODE_EDGE_BOTH, out(0)), ZX_ERR_INVALID_ARGS, 'EDGE_BOTH not accepted');
  t.equal(zx_interrupt_create(root, n, 62, out(0)), ZX_ERR_INVALID_ARGS, 'ZX_INTERRUPT_SLOT_USER as options');
  t.equal(zx_interrupt_create(root, n, 0x100, out(0)), ZX_ERR_INVALID_ARGS, 'unknown bit');
  t.equal(zx_interrupt_create(root, n, 0, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  const ok = out(0);
  t.equal(zx_interrupt_create(covering.value, n, 0, ok), ZX_OK, 'IRQ resource covering n');
  for (const h of [ok.value, mmio.value, irqRes.value, covering.value]) zx_handle_close(h);
  device.close();
});
