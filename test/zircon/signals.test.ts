/** zx_object_signal, zx_object_wait_one, zx_object_wait_async and ZX_VIRTUAL_INTERRUPT_UNTRIGGERED (A.8). */
import t from 'tap';
import {
  ZX_DEFAULT_INTERRUPT_RIGHTS, ZX_ERR_ACCESS_DENIED, ZX_ERR_CANCELED, ZX_ERR_INVALID_ARGS, ZX_USER_SIGNAL_1,
  ZX_ERR_TIMED_OUT, ZX_ERR_WRONG_TYPE, ZX_INTERRUPT_BIND, ZX_OK, ZX_PKT_TYPE_SIGNAL_ONE, ZX_RIGHT_SIGNAL, ZX_RIGHT_WAIT,
  ZX_SIGNAL_HANDLE_CLOSED, ZX_TIME_INFINITE, ZX_TIME_INFINITE_PAST, ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_7,
  ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, ZX_WAIT_ASYNC_EDGE, ZX_RIGHT_SAME_RIGHTS,
  zx_deadline_after, zx_handle_close, zx_handle_duplicate, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_destroy,
  zx_interrupt_trigger, zx_interrupt_wait, zx_object_signal, zx_object_wait_async, zx_object_wait_one, zx_port_wait,
  type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { interruptPort, out, stateOf, virtualInterrupt } from './helpers.ts';

const signalsOf = async (h: number): Promise<number> => {
  const observed = out(0);
  await zx_object_wait_one(h, 0, ZX_TIME_INFINITE_PAST, observed);
  return observed.value;
};

t.test('UNTRIGGERED: asserted at creation, cleared by trigger, asserted by a blocking wait, ack and destroy', async (t) => {
  const irq = virtualInterrupt();
  t.equal((await signalsOf(irq)) & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 'at creation');
  zx_interrupt_trigger(irq, 0, 1n);
  t.equal((await signalsOf(irq)) & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0, 'cleared by trigger');
  await zx_interrupt_wait(irq, null);
  t.equal((await signalsOf(irq)) & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0, 'a wait that does not block leaves it');
  const blocked = zx_interrupt_wait(irq, null);
  t.equal((await signalsOf(irq)) & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 'asserted before blocking');
  zx_interrupt_trigger(irq, 0, 2n);
  await blocked;
  zx_interrupt_destroy(irq);
  t.equal((await signalsOf(irq)) & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 'destroy asserts');
  zx_handle_close(irq);
});

t.test('UNTRIGGERED strobes on an ack that re-triggers (UntriggeredSignalPortsAndAck)', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  const plain = interruptPort(0);
  zx_interrupt_bind(irq, port, 1n, ZX_INTERRUPT_BIND);
  zx_interrupt_trigger(irq, 0, 1n);
  await zx_port_wait(port, ZX_TIME_INFINITE_PAST, out<zx_port_packet_t>({} as zx_port_packet_t));
  zx_interrupt_trigger(irq, 0, 2n); // pending
  t.equal(zx_object_wait_async(irq, plain, 3n, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0), ZX_OK);
  t.equal(zx_interrupt_ack(irq), ZX_OK);
  const packet = out<zx_port_packet_t>({} as zx_port_packet_t);
  t.equal(await zx_port_wait(plain, ZX_TIME_INFINITE_PAST, packet), ZX_OK, 'the strobe was observed');
  t.equal(packet.value.type, ZX_PKT_TYPE_SIGNAL_ONE);
  t.equal(packet.value.signal?.trigger, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED);
  t.equal((await signalsOf(irq)) & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0, 'cleared again: the ack re-triggered');
  for (const h of [irq, port, plain]) zx_handle_close(h);
});

t.test('zx_object_signal: user signals only, SIGNAL right, ports not supported', async (t) => {
  const irq = virtualInterrupt();
  t.equal(zx_object_signal(irq, 0, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7), ZX_OK);
  t.equal(((await signalsOf(irq)) & 0xff000000) >>> 0, (ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7) >>> 0);
  t.equal(zx_object_signal(irq, ZX_USER_SIGNAL_7, 0), ZX_OK);
  t.equal((await signalsOf(irq)) & 0xff000000, ZX_USER_SIGNAL_0);
  t.equal(zx_object_signal(irq, 0, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED), ZX_ERR_INVALID_ARGS, 'not a user signal');
  const noSignal = out(0);
  zx_handle_duplicate(irq, ZX_DEFAULT_INTERRUPT_RIGHTS & ~ZX_RIGHT_SIGNAL, noSignal);
  t.equal(zx_object_signal(noSignal.value, 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
  const port = interruptPort();
  t.equal(zx_object_signal(port, 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED, 'ports have no SIGNAL right');
  for (const h of [irq, noSignal.value, port]) zx_handle_close(h);
});

t.test('zx_object_wait_one: satisfied, poll TIMED_OUT, blocking, deadline, handle close', async (t) => {
  const irq = virtualInterrupt();
  const observed = out(0);
  t.equal(await zx_object_wait_one(irq, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE_PAST, observed), ZX_ERR_TIMED_OUT);
  t.equal(observed.value & ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 'observed written on TIMED_OUT (as C)');
  const waiting = zx_object_wait_one(irq, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE, observed);
  t.equal(await stateOf(waiting), 'pending');
  zx_object_signal(irq, 0, ZX_USER_SIGNAL_0);
  t.equal(await waiting, ZX_OK);
  t.equal(observed.value & ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_0);
  t.equal(await zx_object_wait_one(irq, ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1, 0n, null), ZX_OK, 'already satisfied with NULL observed');
  t.equal(await zx_object_wait_one(irq, ZX_USER_SIGNAL_7, zx_deadline_after(2_000_000n), observed), ZX_ERR_TIMED_OUT, 'a future deadline expires');
  const dup = out(0);
  zx_handle_duplicate(irq, ZX_RIGHT_SAME_RIGHTS, dup);
  const cancelled = zx_object_wait_one(dup.value, ZX_USER_SIGNAL_7, ZX_TIME_INFINITE, observed);
  zx_handle_close(dup.value);
  t.equal(await cancelled, ZX_ERR_CANCELED, 'closing the waited handle cancels');
  t.equal(observed.value & ZX_SIGNAL_HANDLE_CLOSED, ZX_SIGNAL_HANDLE_CLOSED);
  const noWait = out(0);
  zx_handle_duplicate(irq, ZX_DEFAULT_INTERRUPT_RIGHTS & ~ZX_RIGHT_WAIT, noWait);
  t.equal(await zx_object_wait_one(noWait.value, ZX_USER_SIGNAL_0, 0n, null), ZX_ERR_ACCESS_DENIED);
  for (const h of [irq, noWait.value]) zx_handle_close(h);
});

t.test('zx_object_wait_async: SIGNAL_ONE packet once; options, port type and rights checked', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort(0);
  t.equal(zx_object_wait_async(irq, port, 11n, ZX_USER_SIGNAL_0, 0x80), ZX_ERR_INVALID_ARGS, 'unknown option');
  t.equal(zx_object_wait_async(irq, irq, 11n, ZX_USER_SIGNAL_0, 0), ZX_ERR_WRONG_TYPE, 'not a port');
  t.equal(zx_object_wait_async(port, port, 11n, ZX_USER_SIGNAL_0, 0), ZX_ERR_ACCESS_DENIED, 'ports lack WAIT');
  t.equal(zx_object_wait_async(irq, port, 11n, ZX_USER_SIGNAL_0, 0), ZX_OK);
  const packet = out<zx_port_packet_t>({} as zx_port_packet_t);
  const waiting = zx_port_wait(port, ZX_TIME_INFINITE, packet);
  zx_object_signal(irq, 0, ZX_USER_SIGNAL_0);
  t.equal(await waiting, ZX_OK);
  t.equal(packet.value.key, 11n);
  t.equal(packet.value.type, ZX_PKT_TYPE_SIGNAL_ONE);
  t.equal(packet.value.status, ZX_OK);
  t.equal(packet.value.signal?.trigger, ZX_USER_SIGNAL_0);
  t.equal((packet.value.signal?.observed ?? 0) & ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_0);
  t.equal(packet.value.signal?.count, 1n);
  zx_object_signal(irq, ZX_USER_SIGNAL_0, 0);
  zx_object_signal(irq, 0, ZX_USER_SIGNAL_0);
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, packet), ZX_ERR_TIMED_OUT, 'one shot');
  t.equal(zx_object_wait_async(irq, port, 12n, ZX_USER_SIGNAL_0, 0), ZX_OK, 'already asserted: queued at once');
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, packet), ZX_OK);
  t.equal(zx_object_wait_async(irq, port, 13n, ZX_USER_SIGNAL_0, ZX_WAIT_ASYNC_EDGE), ZX_OK, 'edge: waits for a new assertion');
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, packet), ZX_ERR_TIMED_OUT);
  zx_object_signal(irq, 0, ZX_USER_SIGNAL_1);
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, packet), ZX_ERR_TIMED_OUT, 'another signal changing is no edge');
  zx_object_signal(irq, ZX_USER_SIGNAL_0, 0);
  zx_object_signal(irq, 0, ZX_USER_SIGNAL_0);
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, packet), ZX_OK, 'deassert then assert: the edge');
  t.equal(packet.value.key, 13n);
  for (const h of [irq, port]) zx_handle_close(h);
});
