/**
 * Removal of a device while a Zircon driver waits on it — the emulated counterpart of
 * hw-tests/surprise-removal.test.ts (requestRemoval() behaves as VFIO's device request). As upstream:
 * the bus destroys the function's interrupts, so a zx_interrupt_wait ends ZX_ERR_CANCELED
 * (interrupt_dispatcher.cc Destroy, spec/zircon.md A.8 destroy table); a destroyed interrupt bound to
 * a port queues nothing, so the port hears of the removal through the protocol channel's
 * ZX_CHANNEL_PEER_CLOSED (a ZX_PKT_TYPE_SIGNAL_ONE packet) — the way a driver's async loop learns its
 * FIDL peer is gone.
 */
import t, { type Test } from 'tap';
import { createTestDevice, TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_WRITABLE, ZX_DEFAULT_CHANNEL_RIGHTS, ZX_ERR_CANCELED,
  ZX_ERR_INVALID_ARGS, ZX_ERR_PEER_CLOSED, ZX_ERR_TIMED_OUT, ZX_INFO_HANDLE_BASIC, ZX_OBJ_TYPE_CHANNEL, ZX_OK,
  ZX_PKT_TYPE_INTERRUPT, ZX_PKT_TYPE_SIGNAL_ONE, ZX_TIME_INFINITE, zx_deadline_after,
  zx_handle_close, zx_interrupt_ack, zx_interrupt_wait, zx_object_get_info, zx_object_wait_one, zx_port_wait, type zx_info_handle_basic_t, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { out, pciFor, within } from './bus-fixtures.ts';
import { IRQ_KEY, PEER_KEY, armZirconDriver } from '../suites/zircon-armed.ts';

/** A Zircon driver on an MSI-X test device (test/suites/zircon-armed.ts). */
function armed(t: Test) {
  const device = createTestDevice({ msix: { vectors: 4 } });
  const pci = pciFor(device);
  return { device, pci, ...armZirconDriver(t, pci) };
}

t.test('both routes work before the removal', async (t) => {
  const d = armed(t);
  const wait = zx_interrupt_wait(d.waited, null);
  d.device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 0);
  t.equal(await within(wait), ZX_OK, 'vector 0 → zx_interrupt_wait');
  const packet = out<zx_port_packet_t | null>(null);
  const portWait = zx_port_wait(d.port, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
  d.device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 1);
  t.equal(await within(portWait), ZX_OK);
  t.match(packet.value, { key: IRQ_KEY, type: ZX_PKT_TYPE_INTERRUPT }, 'vector 1 → the port');
  t.equal(zx_interrupt_ack(d.bound), ZX_OK);
  d.device.close();
});

t.test('removal: the interrupt wait ends CANCELED, the port wait gets the channel\'s PEER_CLOSED packet', async (t) => {
  const d = armed(t);
  const wait = zx_interrupt_wait(d.waited, null);
  const packet = out<zx_port_packet_t | null>(null);
  const portWait = zx_port_wait(d.port, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
  let heard = '';
  d.device.onRemovalRequest(() => { heard = `request while open: ${String(!d.device.closed)}`; });
  d.device.requestRemoval();
  t.equal(heard, 'request while open: true');
  t.equal(await within(wait), ZX_ERR_CANCELED, 'zx_interrupt_wait: ZX_ERR_CANCELED');
  t.equal(await within(portWait), ZX_OK, 'zx_port_wait returns');
  t.match(packet.value, { key: PEER_KEY, type: ZX_PKT_TYPE_SIGNAL_ONE, status: ZX_OK });
  t.ok(((packet.value?.signal?.observed ?? 0) & ZX_CHANNEL_PEER_CLOSED) !== 0, 'observed: ZX_CHANNEL_PEER_CLOSED');
  t.equal((packet.value?.signal?.observed ?? 0) & ZX_CHANNEL_WRITABLE, 0, 'no longer WRITABLE');

  t.equal(zx_interrupt_ack(d.bound), ZX_ERR_CANCELED, 'the bound interrupt was destroyed: ack → CANCELED');
  t.equal(await zx_interrupt_wait(d.waited, null), ZX_ERR_CANCELED, 'a later wait → CANCELED at once');
  const late = out<zx_port_packet_t | null>(null);
  t.equal(await zx_port_wait(d.port, zx_deadline_after(20_000_000n), late as { value: zx_port_packet_t }), ZX_ERR_TIMED_OUT,
    'no interrupt packet follows (a destroyed interrupt queues nothing)');
  const observed = out(0);
  t.equal(await zx_object_wait_one(d.channel, ZX_CHANNEL_PEER_CLOSED, 0n, observed), ZX_OK, 'a late waiter sees PEER_CLOSED too');
  t.equal(d.pci.GetInterruptModes(out(null as never)), ZX_ERR_PEER_CLOSED, 'protocol calls: PEER_CLOSED');
  for (const h of [d.waited, d.bound, d.port, d.channel]) t.equal(zx_handle_close(h), ZX_OK, 'every handle still closes');
});

t.test('client_end: a new caller-owned channel handle per call; NULL out is INVALID_ARGS', async (t) => {
  const device = createTestDevice({ msix: { vectors: 1 } });
  const pci = pciFor(device);
  const a = out(0);
  const b = out(0);
  t.equal(pci.client_end(a), ZX_OK);
  t.equal(pci.client_end(b), ZX_OK);
  t.not(a.value, b.value);
  const info = out<zx_info_handle_basic_t | null>(null);
  t.equal(zx_object_get_info(a.value, ZX_INFO_HANDLE_BASIC, info as { value: object }), ZX_OK);
  t.match(info.value, { type: ZX_OBJ_TYPE_CHANNEL, rights: ZX_DEFAULT_CHANNEL_RIGHTS });
  t.equal(pci.client_end(null), ZX_ERR_INVALID_ARGS);
  const observed = out(0);
  t.equal(await zx_object_wait_one(a.value, ZX_CHANNEL_PEER_CLOSED, 0n, observed), ZX_ERR_TIMED_OUT, 'open device: not PEER_CLOSED');
  t.equal(observed.value, ZX_CHANNEL_WRITABLE);
  const onB = zx_object_wait_one(b.value, ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE, observed);
  device.close();
  t.equal(await within(onB), ZX_OK, 'a plain close() drops the device too');
  const second = createTestDevice({ msix: { vectors: 1 } });
  const c = out(0);
  t.equal(pciFor(second).client_end(c), ZX_OK);
  t.equal(await zx_object_wait_one(c.value, ZX_CHANNEL_PEER_CLOSED, 0n, null), ZX_ERR_TIMED_OUT, 'each device its own connection');
  for (const h of [a.value, b.value, c.value]) zx_handle_close(h);
  second.close();
});

t.test('a Pci made after the device closed has its peer closed from the start', async (t) => {
  const device = createTestDevice({ msix: { vectors: 2 } });
  pciFor(device); // the bus knows the function from an earlier connection
  device.close();
  const pci = pciFor(device);
  const channel = out(0);
  t.equal(pci.client_end(channel), ZX_OK);
  const observed = out(0);
  t.equal(await zx_object_wait_one(channel.value, ZX_CHANNEL_PEER_CLOSED, 0n, observed), ZX_OK, 'PEER_CLOSED already asserted');
  t.equal(observed.value & ZX_CHANNEL_WRITABLE, 0, 'and not WRITABLE');
  t.equal(zx_handle_close(channel.value), ZX_OK);
});
