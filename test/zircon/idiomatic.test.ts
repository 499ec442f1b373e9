/** The idiomatic tier: Interrupt / Port / MsiAllocation classes and ZxError. */
import t from 'tap';
import { findMsi } from 'vfio-ddk';
import { TEST_DEV_REGS } from 'vfio-ddk/emu';
import { Interrupt, MsiAllocation, Port, programMsiCapability, ZX_ERR_BAD_STATE, ZX_ERR_TIMED_OUT, ZX_PKT_TYPE_INTERRUPT, ZxError } from 'vfio-ddk/zircon';
import { attachedTestDevice, deviceVmo } from './device-fixtures.ts';

t.test('Interrupt: wait/trigger, async iteration ends on destroy, ZxError with status and code', async (t) => {
  const irq = Interrupt.virtual();
  irq.trigger(5n);
  t.equal(await irq.wait(), 5n);
  const events: bigint[] = [];
  const loop = (async () => {
    for await (const event of irq) events.push(event.timestamp);
  })();
  await new Promise((r) => setImmediate(r));
  irq.trigger(6n);
  await new Promise((r) => setImmediate(r));
  irq.trigger(7n);
  await new Promise((r) => setImmediate(r));
  irq.destroy();
  await loop;
  t.same(events, [6n, 7n]);
  const err = t.throws(() => irq.ack()) as ZxError;
  t.type(err, ZxError);
  t.equal(err.status, ZX_ERR_BAD_STATE);
  t.equal(err.code, 'ZX_ERR_BAD_STATE');
  t.match(err.message, /zx_interrupt_ack/);
  irq.close();
  t.equal(irq.closed, true);
  irq.close();
});

t.test('Port: bind an Interrupt, packets, timeout as ZxError, Symbol.dispose', async (t) => {
  using port = Port.create();
  using irq = Interrupt.virtual();
  irq.bind(port, 3n);
  irq.trigger(11n);
  const packet = await port.wait();
  t.equal(packet.type, ZX_PKT_TYPE_INTERRUPT);
  t.equal(packet.interrupt?.timestamp, 11n);
  irq.ack();
  port.queue(9n, [1n]);
  t.equal((await port.wait()).user?.u64[0], 1n);
  await t.rejects(port.wait(0n), { status: ZX_ERR_TIMED_OUT, code: 'ZX_ERR_TIMED_OUT' });
  irq.unbind(port);
});

t.test('MsiAllocation: info and an interrupt for a device vector', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 2, perVectorMask: true } });
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('no msi');
  const vmo = deviceVmo(platform.ecam, 4096n);
  using msi = MsiAllocation.allocate(2);
  t.equal(msi.info().num_irq, 2);
  using irq = msi.createInterrupt(1, vmo, BigInt(layout.offset));
  programMsiCapability(device, msi.info(), 2);
  t.equal(msi.info().interrupt_count, 1);
  const waiting = irq.wait();
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 1);
  t.type(await waiting, 'bigint');
  t.throws(() => msi.createInterrupt(1, vmo, layout.offset), { code: 'ZX_ERR_ALREADY_BOUND' });
  device.close();
});
