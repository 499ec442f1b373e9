/** Every row of spec/zircon.md A.8 on virtual interrupts (wait, trigger, ack, bind, unbind, destroy). */
import t from 'tap';
import {
  ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE, ZX_ERR_CANCELED, ZX_ERR_NOT_FOUND, ZX_INTERRUPT_BIND, ZX_INTERRUPT_UNBIND,
  ZX_OK, ZX_PKT_TYPE_INTERRUPT, ZX_TIME_INFINITE_PAST, ZX_ERR_TIMED_OUT,
  zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_destroy, zx_interrupt_trigger, zx_interrupt_wait,
  zx_port_wait, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { interruptPort, out, stateOf, virtualInterrupt } from './helpers.ts';

const poll = (port: number, packet = out<zx_port_packet_t | null>(null)) => zx_port_wait(port, ZX_TIME_INFINITE_PAST, packet as { value: zx_port_packet_t });

t.test('wait: TRIGGERED returns at once with the first timestamp and moves to NEEDACK', async (t) => {
  const irq = virtualInterrupt();
  t.equal(zx_interrupt_trigger(irq, 0, 10n), ZX_OK);
  t.equal(zx_interrupt_trigger(irq, 0, 20n), ZX_OK, 'coalesced');
  const ts = out(0n);
  t.equal(await zx_interrupt_wait(irq, ts), ZX_OK);
  t.equal(ts.value, 10n, 'first trigger wins');
  t.equal(await stateOf(zx_interrupt_wait(irq, ts)), 'pending', 'NEEDACK without pending blocks');
  t.equal(zx_interrupt_trigger(irq, 0, 30n), ZX_OK);
  zx_handle_close(irq);
});

t.test('wait: NEEDACK with a pending timestamp returns it and stays NEEDACK', async (t) => {
  const irq = virtualInterrupt();
  zx_interrupt_trigger(irq, 0, 5n);
  t.equal(await zx_interrupt_wait(irq, null), ZX_OK, 'NULL timestamp pointer allowed');
  t.equal(zx_interrupt_trigger(irq, 0, 6n), ZX_OK, 'trigger in NEEDACK (unbound) stays NEEDACK, pending kept');
  t.equal(zx_interrupt_trigger(irq, 0, 7n), ZX_OK);
  const ts = out(0n);
  t.equal(await zx_interrupt_wait(irq, ts), ZX_OK);
  t.equal(ts.value, 6n);
  zx_handle_close(irq);
});

t.test('wait: IDLE blocks until a trigger; the woken waiter gets that timestamp', async (t) => {
  const irq = virtualInterrupt();
  const ts = out(0n);
  const waiting = zx_interrupt_wait(irq, ts);
  t.equal(await stateOf(waiting), 'pending');
  t.equal(zx_interrupt_trigger(irq, 0, 42n), ZX_OK);
  t.equal(await waiting, ZX_OK);
  t.equal(ts.value, 42n);
  zx_handle_close(irq);
});

t.test('wait: a second waiter gets BAD_STATE; the first is undisturbed', async (t) => {
  const irq = virtualInterrupt();
  const first = zx_interrupt_wait(irq, null);
  const ts = out(99n);
  t.equal(await zx_interrupt_wait(irq, ts), ZX_ERR_BAD_STATE);
  t.equal(ts.value, 99n, 'out not written on failure');
  zx_interrupt_trigger(irq, 0, 1n);
  t.equal(await first, ZX_OK);
  zx_handle_close(irq);
});

t.test('wait: bound (even destroyed) → BAD_STATE; destroyed unbound → CANCELED', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  t.equal(zx_interrupt_bind(irq, port, 1n, ZX_INTERRUPT_BIND), ZX_OK);
  t.equal(await zx_interrupt_wait(irq, null), ZX_ERR_BAD_STATE);
  t.equal(zx_interrupt_destroy(irq), ZX_OK);
  t.equal(await zx_interrupt_wait(irq, null), ZX_ERR_BAD_STATE, 'destroy does not clear the port');
  const other = virtualInterrupt();
  t.equal(zx_interrupt_destroy(other), ZX_OK);
  t.equal(await zx_interrupt_wait(other, null), ZX_ERR_CANCELED);
  for (const h of [irq, other, port]) zx_handle_close(h);
});

t.test('destroy resolves a pending wait with CANCELED; later trigger → CANCELED', async (t) => {
  const irq = virtualInterrupt();
  const waiting = zx_interrupt_wait(irq, null);
  t.equal(zx_interrupt_destroy(irq), ZX_OK);
  t.equal(await waiting, ZX_ERR_CANCELED);
  t.equal(zx_interrupt_trigger(irq, 0, 1n), ZX_ERR_CANCELED);
  t.equal(zx_interrupt_ack(irq), ZX_ERR_BAD_STATE, 'ack unbound-destroyed: BAD_STATE (bound check first)');
  zx_handle_close(irq);
});

t.test('closing the last handle destroys: the pending wait returns CANCELED', async (t) => {
  const irq = virtualInterrupt();
  const waiting = zx_interrupt_wait(irq, null);
  zx_handle_close(irq);
  t.equal(await waiting, ZX_ERR_CANCELED);
});

t.test('trigger bound in IDLE sends a packet (NEEDACK); more triggers coalesce until ack', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  zx_interrupt_bind(irq, port, 0xabcn, ZX_INTERRUPT_BIND);
  t.equal(zx_interrupt_trigger(irq, 0, 100n), ZX_OK);
  t.equal(zx_interrupt_trigger(irq, 0, 200n), ZX_OK, 'coalesced');
  t.equal(zx_interrupt_trigger(irq, 0, 300n), ZX_OK);
  const packet = out<zx_port_packet_t | null>(null);
  t.equal(await poll(port, packet), ZX_OK);
  t.same(packet.value, { key: 0xabcn, type: ZX_PKT_TYPE_INTERRUPT, status: ZX_OK, interrupt: { timestamp: 100n } });
  t.equal(await poll(port), ZX_ERR_TIMED_OUT, 'one packet only');
  t.equal(zx_interrupt_ack(irq), ZX_OK, 'ack with pending: re-sends');
  t.equal(await poll(port, packet), ZX_OK);
  t.equal(packet.value?.interrupt?.timestamp, 200n, 'first of the coalesced triggers');
  t.equal(zx_interrupt_ack(irq), ZX_OK, 'nothing pending → IDLE');
  t.equal(await poll(port), ZX_ERR_TIMED_OUT);
  t.equal(zx_interrupt_trigger(irq, 0, 400n), ZX_OK, 'IDLE again: sends');
  t.equal(await poll(port, packet), ZX_OK);
  t.equal(packet.value?.interrupt?.timestamp, 400n);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('ack: unbound → BAD_STATE; IDLE bound → OK no change; destroyed bound → CANCELED', async (t) => {
  const irq = virtualInterrupt();
  t.equal(zx_interrupt_ack(irq), ZX_ERR_BAD_STATE);
  const port = interruptPort();
  zx_interrupt_bind(irq, port, 1n, ZX_INTERRUPT_BIND);
  t.equal(zx_interrupt_ack(irq), ZX_OK);
  t.equal(await poll(port), ZX_ERR_TIMED_OUT, 'no packet from an IDLE ack');
  zx_interrupt_destroy(irq);
  t.equal(zx_interrupt_ack(irq), ZX_ERR_CANCELED);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('ack: pending while the previous packet is unread → BAD_STATE and the pending timestamp is discarded', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  zx_interrupt_bind(irq, port, 1n, ZX_INTERRUPT_BIND);
  zx_interrupt_trigger(irq, 0, 1n); // packet queued, unread
  zx_interrupt_trigger(irq, 0, 2n); // pending
  t.equal(zx_interrupt_ack(irq), ZX_ERR_BAD_STATE);
  const packet = out<zx_port_packet_t | null>(null);
  t.equal(await poll(port, packet), ZX_OK);
  t.equal(packet.value?.interrupt?.timestamp, 1n);
  t.equal(zx_interrupt_ack(irq), ZX_OK, 'pending was discarded: ack → IDLE');
  t.equal(await poll(port), ZX_ERR_TIMED_OUT);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('bind: DESTROYED → CANCELED, WAITING → BAD_STATE, already bound → ALREADY_BOUND', async (t) => {
  const port = interruptPort();
  const a = virtualInterrupt();
  zx_interrupt_destroy(a);
  t.equal(zx_interrupt_bind(a, port, 0n, ZX_INTERRUPT_BIND), ZX_ERR_CANCELED);
  const b = virtualInterrupt();
  const waiting = zx_interrupt_wait(b, null);
  t.equal(zx_interrupt_bind(b, port, 0n, ZX_INTERRUPT_BIND), ZX_ERR_BAD_STATE);
  zx_interrupt_destroy(b);
  await waiting;
  const c = virtualInterrupt();
  t.equal(zx_interrupt_bind(c, port, 0n, ZX_INTERRUPT_BIND), ZX_OK);
  t.equal(zx_interrupt_bind(c, port, 0n, ZX_INTERRUPT_BIND), ZX_ERR_ALREADY_BOUND);
  for (const h of [a, b, c, port]) zx_handle_close(h);
});

t.test('bind a TRIGGERED interrupt delivers the packet at once (BindTriggeredIrqToPort)', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  zx_interrupt_trigger(irq, 0, 77n);
  t.equal(zx_interrupt_bind(irq, port, 5n, ZX_INTERRUPT_BIND), ZX_OK);
  const packet = out<zx_port_packet_t | null>(null);
  t.equal(await poll(port, packet), ZX_OK);
  t.equal(packet.value?.key, 5n);
  t.equal(packet.value?.interrupt?.timestamp, 77n);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('unbind: wrong port → NOT_FOUND; destroyed → CANCELED; other port after destroy → NOT_FOUND', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  const other = interruptPort();
  t.equal(zx_interrupt_bind(irq, port, 0n, ZX_INTERRUPT_UNBIND), ZX_ERR_NOT_FOUND, 'not bound');
  zx_interrupt_bind(irq, port, 0n, ZX_INTERRUPT_BIND);
  t.equal(zx_interrupt_bind(irq, other, 0n, ZX_INTERRUPT_UNBIND), ZX_ERR_NOT_FOUND);
  zx_interrupt_destroy(irq);
  t.equal(zx_interrupt_bind(irq, port, 0n, ZX_INTERRUPT_UNBIND), ZX_ERR_CANCELED);
  t.equal(zx_interrupt_bind(irq, other, 0n, ZX_INTERRUPT_UNBIND), ZX_ERR_NOT_FOUND);
  for (const h of [irq, port, other]) zx_handle_close(h);
});

t.test('unbind with an unread packet returns it to TRIGGERED: a wait gets it (PacketFollowsUnbindToWait)', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  zx_interrupt_bind(irq, port, 0n, ZX_INTERRUPT_BIND);
  zx_interrupt_trigger(irq, 0, 55n);
  t.equal(zx_interrupt_bind(irq, port, 0n, ZX_INTERRUPT_UNBIND), ZX_OK);
  t.equal(await poll(port), ZX_ERR_TIMED_OUT, 'packet removed from the port');
  const ts = out(0n);
  t.equal(await zx_interrupt_wait(irq, ts), ZX_OK);
  t.equal(ts.value, 55n);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('an unread packet follows a re-bind to a new port (PacketFollowsRebindToNewPort)', async (t) => {
  const irq = virtualInterrupt();
  const a = interruptPort();
  const b = interruptPort();
  zx_interrupt_bind(irq, a, 1n, ZX_INTERRUPT_BIND);
  zx_interrupt_trigger(irq, 0, 66n);
  zx_interrupt_bind(irq, a, 0n, ZX_INTERRUPT_UNBIND);
  t.equal(zx_interrupt_bind(irq, b, 2n, ZX_INTERRUPT_BIND), ZX_OK);
  const packet = out<zx_port_packet_t | null>(null);
  t.equal(await poll(b, packet), ZX_OK);
  t.equal(packet.value?.key, 2n);
  t.equal(packet.value?.interrupt?.timestamp, 66n);
  for (const h of [irq, a, b]) zx_handle_close(h);
});

t.test('unbind after the packet was read leaves NEEDACK: a wait blocks until a trigger', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  zx_interrupt_bind(irq, port, 0n, ZX_INTERRUPT_BIND);
  zx_interrupt_trigger(irq, 0, 1n);
  t.equal(await poll(port), ZX_OK);
  zx_interrupt_bind(irq, port, 0n, ZX_INTERRUPT_UNBIND);
  const waiting = zx_interrupt_wait(irq, null);
  t.equal(await stateOf(waiting), 'pending');
  zx_interrupt_trigger(irq, 0, 2n);
  t.equal(await waiting, ZX_OK);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('destroy bound: packet read but not acked → NOT_FOUND; queued → OK and removed; again → OK', async (t) => {
  const port = interruptPort();
  const a = virtualInterrupt();
  zx_interrupt_bind(a, port, 0n, ZX_INTERRUPT_BIND);
  zx_interrupt_trigger(a, 0, 1n);
  t.equal(await poll(port), ZX_OK);
  t.equal(zx_interrupt_destroy(a), ZX_ERR_NOT_FOUND);
  t.equal(zx_interrupt_destroy(a), ZX_OK, 'already destroyed');
  const b = virtualInterrupt();
  zx_interrupt_bind(b, port, 0n, ZX_INTERRUPT_BIND);
  zx_interrupt_trigger(b, 0, 1n);
  t.equal(zx_interrupt_destroy(b), ZX_OK);
  t.equal(await poll(port), ZX_ERR_TIMED_OUT, 'queued packet removed');
  const c = virtualInterrupt();
  zx_interrupt_bind(c, port, 0n, ZX_INTERRUPT_BIND);
  t.equal(zx_interrupt_destroy(c), ZX_OK, 'bound IDLE');
  t.equal(zx_interrupt_bind(c, port, 0n, ZX_INTERRUPT_BIND), ZX_ERR_CANCELED);
  for (const h of [a, b, c, port]) zx_handle_close(h);
});

t.test('a port waiter blocked before the trigger gets the packet', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  zx_interrupt_bind(irq, port, 9n, ZX_INTERRUPT_BIND);
  const packet = out<zx_port_packet_t | null>(null);
  const waiting = zx_port_wait(port, 0x7fffffffffffffffn, packet as { value: zx_port_packet_t });
  t.equal(await stateOf(waiting), 'pending');
  zx_interrupt_trigger(irq, 0, 3n);
  t.equal(await waiting, ZX_OK);
  t.equal(packet.value?.interrupt?.timestamp, 3n);
  zx_handle_close(irq);
  zx_handle_close(port);
});
