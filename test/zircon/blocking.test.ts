/**
 * `vfio-ddk/zircon/blocking`: the same statuses as the async forms, returned synchronously; what was
 * raised before the call is delivered first; what can never complete returns at once (interrupt wait:
 * BAD_STATE) or after the deadline (TIMED_OUT), never hangs. The real-device path (VFIO eventfds read
 * while blocked, in a Worker) runs in hw-tests/irq-thread.test.ts.
 */
import t from 'tap';
import { TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  ZX_ERR_BAD_HANDLE, ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_TIMED_OUT, ZX_OK, ZX_PKT_TYPE_USER, ZX_TIME_INFINITE,
  ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, zx_deadline_after, zx_handle_close, zx_interrupt_trigger, zx_port_queue,
  zx_interrupt_wait as zx_interrupt_wait_async, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { zx_interrupt_wait, zx_object_wait_one, zx_port_wait } from 'vfio-ddk/zircon/blocking';
import { Interrupt, Port } from 'vfio-ddk/zircon';
import { runIrqThreadWorker } from '../../lib/cli/irq-thread.ts';
import { msiTestInterrupt } from './device-fixtures.ts';
import { interruptPort, out, stateOf, virtualInterrupt } from './helpers.ts';

const packetOut = (): { value: zx_port_packet_t } => ({ value: { key: 0n, type: 0, status: 0 } });

t.test('zx_interrupt_wait: a trigger before the call returns OK synchronously; nothing pending → BAD_STATE at once', async (t) => {
  const irq = virtualInterrupt();
  t.equal(zx_interrupt_trigger(irq, 0, 42n), ZX_OK);
  const ts = out(0n);
  t.equal(zx_interrupt_wait(irq, ts), ZX_OK);
  t.equal(ts.value, 42n, 'the trigger timestamp');
  t.equal(zx_interrupt_wait(irq, null), ZX_ERR_BAD_STATE, 'nothing on this thread could trigger it: no hang');
  const pending = zx_interrupt_wait_async(irq, null);
  t.equal(await stateOf(pending), 'pending', 'the object was left as it was: the async form still waits');
  zx_interrupt_trigger(irq, 0, 7n);
  t.equal(await pending, ZX_OK);
  t.equal(zx_interrupt_wait(0x7777_7773, null), ZX_ERR_BAD_HANDLE, 'a handle of no table here (another thread\'s)');
  t.throws(() => zx_interrupt_wait(Number.NaN, null), TypeError);
  zx_handle_close(irq);
});

t.test('zx_interrupt_wait on an emulated MSI raised before the call: delivered first, then OK', async (t) => {
  const { device, irq, createStatus, close } = msiTestInterrupt();
  t.equal(createStatus, ZX_OK);
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0); // scheduled on the loop, not yet delivered
  const ts = out(0n);
  t.equal(zx_interrupt_wait(irq, ts), ZX_OK, 'the blocking wait delivered it itself');
  t.ok(ts.value > 0n);
  t.equal(zx_interrupt_wait(irq, null), ZX_ERR_BAD_STATE, 'the model cannot run while this thread blocks');
  close();
});

t.test('zx_port_wait: a queued packet at once; an empty port times out at its deadline; NULL out rules as sys_port_wait', async (t) => {
  const port = interruptPort(0);
  zx_port_queue(port, { key: 3n, type: ZX_PKT_TYPE_USER, status: 0 });
  const p = packetOut();
  t.equal(zx_port_wait(port, ZX_TIME_INFINITE, p), ZX_OK);
  t.equal(p.value.key, 3n);
  const start = process.hrtime.bigint();
  t.equal(zx_port_wait(port, zx_deadline_after(30_000_000n), p), ZX_ERR_TIMED_OUT);
  t.ok(process.hrtime.bigint() - start >= 30_000_000n, 'after the deadline, not before');
  t.equal(zx_port_wait(port, ZX_TIME_INFINITE, p), ZX_ERR_TIMED_OUT, 'infinite and nothing can come: TIMED_OUT, not a hang');
  zx_port_queue(port, { key: 4n, type: ZX_PKT_TYPE_USER, status: 0 });
  t.equal(zx_port_wait(port, 0n, null), ZX_ERR_INVALID_ARGS, 'NULL packet: consumed, then the copy out fails');
  t.equal(zx_port_wait(port, 0n, p), ZX_ERR_TIMED_OUT);
  t.throws(() => zx_port_wait(port, -1 as unknown as bigint, p), TypeError, 'a number deadline');
  zx_handle_close(port);
});

t.test('zx_object_wait_one: signals already asserted → OK; otherwise TIMED_OUT at the deadline with observed', async (t) => {
  const irq = virtualInterrupt();
  const observed = out(0);
  t.equal(zx_object_wait_one(irq, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0n, observed), ZX_OK, 'UNTRIGGERED is asserted at creation');
  zx_interrupt_trigger(irq, 0, 1n);
  t.equal(zx_object_wait_one(irq, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, zx_deadline_after(10_000_000n), observed), ZX_ERR_TIMED_OUT);
  t.equal(observed.value & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0);
  zx_handle_close(irq);
});

t.test('idiomatic blocking forms: Interrupt.waitBlocking and Port.waitBlocking return or throw ZxError like wait()', async (t) => {
  const irq = Interrupt.virtual();
  irq.trigger(9n);
  t.equal(irq.waitBlocking(), 9n);
  t.throws(() => irq.waitBlocking(), { code: 'ZX_ERR_BAD_STATE' }, 'nothing can trigger it on this thread');
  const port = Port.create();
  port.queue(5n);
  t.equal(port.waitBlocking().key, 5n);
  t.throws(() => port.waitBlocking(zx_deadline_after(5_000_000n)), { code: 'ZX_ERR_TIMED_OUT' });
  irq.close();
  port.close();
});

t.test('the edu IRQ thread in a Worker: blocking zx_interrupt_wait per round, reports posted to this thread', async (t) => {
  const reports = await runIrqThreadWorker({ bdf: null, rounds: 3 });
  t.equal(reports.length, 3);
  t.same(reports.map((r) => r.status), ['ZX_OK', 'ZX_OK', 'ZX_OK']);
  t.same(reports.map((r) => r.cause), [1, 2, 4], 'each round\'s cause acknowledged');
});
