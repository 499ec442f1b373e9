/** Ports (spec/zircon.md A.6, A.7): create options, queue, wait deadlines, ordering, waiter release. */
import t from 'tap';
import {
  ZX_DEFAULT_PORT_RIGHTS, ZX_ERR_ACCESS_DENIED, ZX_ERR_CANCELED, ZX_ERR_INVALID_ARGS, ZX_ERR_TIMED_OUT, ZX_ERR_WRONG_TYPE,
  ZX_INTERRUPT_BIND, ZX_OK, ZX_PKT_TYPE_INTERRUPT, ZX_PKT_TYPE_USER, ZX_RIGHT_READ, ZX_RIGHT_WRITE, ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
  zx_deadline_after, zx_handle_close, zx_handle_duplicate, zx_interrupt_bind, zx_interrupt_trigger, zx_port_create,
  zx_port_queue, zx_port_wait, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { interruptPort, out, stateOf, virtualInterrupt } from './helpers.ts';

const packetOut = () => out<zx_port_packet_t>({} as zx_port_packet_t);
const user = (key: bigint, words: bigint[] = []): zx_port_packet_t => ({ key, type: ZX_PKT_TYPE_USER, status: 0, user: { u64: words } });

t.test('zx_port_create accepts options 0 and ZX_PORT_BIND_TO_INTERRUPT only', async (t) => {
  const o = out(0);
  t.equal(zx_port_create(2, o), ZX_ERR_INVALID_ARGS);
  t.equal(zx_port_create(0xffffffff, o), ZX_ERR_INVALID_ARGS);
  t.equal(zx_port_create(0, null), ZX_ERR_INVALID_ARGS);
  t.equal(o.value, 0);
  t.equal(zx_port_create(0, o), ZX_OK);
  const irq = virtualInterrupt();
  t.equal(zx_interrupt_bind(irq, o.value, 0n, ZX_INTERRUPT_BIND), ZX_ERR_WRONG_TYPE, 'binding needs BIND_TO_INTERRUPT');
  zx_handle_close(irq);
  zx_handle_close(o.value);
});

t.test('zx_port_queue: user packets round-trip; type and rights checked', async (t) => {
  const port = interruptPort(0);
  t.equal(zx_port_queue(port, user(1n, [1n, 2n, 3n, 0xffffffffffffffffn])), ZX_OK);
  const p = packetOut();
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, p), ZX_OK);
  t.same(p.value, { key: 1n, type: ZX_PKT_TYPE_USER, status: 0, user: { u64: [1n, 2n, 3n, 0xffffffffffffffffn] } });
  t.equal(zx_port_queue(port, { key: 9n, type: ZX_PKT_TYPE_INTERRUPT, status: 0 }), ZX_OK, 'any type: QueueUser overwrites it');
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, p), ZX_OK);
  t.same([p.value.key, p.value.type], [9n, ZX_PKT_TYPE_USER], 'dequeued as a user packet');
  t.equal(zx_port_queue(port, null), ZX_ERR_INVALID_ARGS, 'NULL packet');
  const readOnly = out(0);
  zx_handle_duplicate(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_WRITE, readOnly);
  t.equal(zx_port_queue(readOnly.value, user(2n)), ZX_ERR_ACCESS_DENIED);
  const writeOnly = out(0);
  zx_handle_duplicate(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_READ, writeOnly);
  t.equal(await zx_port_wait(writeOnly.value, ZX_TIME_INFINITE_PAST, p), ZX_ERR_ACCESS_DENIED, 'wait needs READ');
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, null), ZX_ERR_TIMED_OUT, 'NULL packet out, empty: the wait times out first (sys_port_wait)');
  zx_port_queue(port, user(5n));
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, null), ZX_ERR_INVALID_ARGS, 'NULL packet out with a packet: the copy out fails');
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, p), ZX_ERR_TIMED_OUT, 'and the packet was consumed');
  const irq = virtualInterrupt();
  t.equal(zx_port_queue(irq, user(1n)), ZX_ERR_WRONG_TYPE);
  for (const h of [port, readOnly.value, writeOnly.value, irq]) zx_handle_close(h);
});

t.test('interrupt packets are dequeued before user packets', async (t) => {
  const port = interruptPort();
  const irq = virtualInterrupt();
  zx_interrupt_bind(irq, port, 100n, ZX_INTERRUPT_BIND);
  zx_port_queue(port, user(1n));
  zx_port_queue(port, user(2n));
  zx_interrupt_trigger(irq, 0, 5n);
  const p = packetOut();
  await zx_port_wait(port, ZX_TIME_INFINITE_PAST, p);
  t.equal(p.value.type, ZX_PKT_TYPE_INTERRUPT);
  t.equal(p.value.key, 100n);
  await zx_port_wait(port, ZX_TIME_INFINITE_PAST, p);
  t.equal(p.value.key, 1n, 'then user packets in order');
  await zx_port_wait(port, ZX_TIME_INFINITE_PAST, p);
  t.equal(p.value.key, 2n);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('deadlines: past polls, a future deadline times out, INFINITE waits', async (t) => {
  const port = interruptPort();
  const p = packetOut();
  t.equal(await zx_port_wait(port, 0n, p), ZX_ERR_TIMED_OUT, 'deadline 0 polls');
  t.equal(await zx_port_wait(port, ZX_TIME_INFINITE_PAST, p), ZX_ERR_TIMED_OUT);
  t.equal(await zx_port_wait(port, zx_deadline_after(1_000_000n), p), ZX_ERR_TIMED_OUT, 'a timer ends the wait');
  const forever = zx_port_wait(port, ZX_TIME_INFINITE, p);
  t.equal(await stateOf(forever), 'pending');
  zx_port_queue(port, user(3n));
  t.equal(await forever, ZX_OK);
  t.equal(p.value.key, 3n);
  const timed = zx_port_wait(port, zx_deadline_after(60_000_000_000n), p);
  zx_port_queue(port, user(4n));
  t.equal(await timed, ZX_OK, 'a packet before the deadline wins (timer cancelled)');
  zx_handle_close(port);
});

t.test('one waiter is released per packet, in order; closing the last handle does not wake a waiter', async (t) => {
  const port = interruptPort();
  const a = packetOut();
  const b = packetOut();
  const first = zx_port_wait(port, ZX_TIME_INFINITE, a);
  const second = zx_port_wait(port, ZX_TIME_INFINITE, b);
  zx_port_queue(port, user(1n));
  t.equal(await first, ZX_OK);
  t.equal(a.value.key, 1n);
  t.equal(await stateOf(second), 'pending', 'the second waiter still waits');
  zx_port_queue(port, user(2n));
  t.equal(await second, ZX_OK);
  t.equal(b.value.key, 2n);
  const third = zx_port_wait(port, zx_deadline_after(50_000_000n), a);
  zx_handle_close(port);
  t.equal(await stateOf(third), 'pending', 'PortDispatcher::on_zero_handles wakes nobody');
  t.equal(await third, ZX_ERR_TIMED_OUT, 'the wait ends at its deadline');
});
