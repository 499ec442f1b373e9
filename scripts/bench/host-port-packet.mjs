/**
 * The port packet's garbage, on the host: a bound virtual interrupt, trigger → blocking zx_port_wait →
 * zx_interrupt_ack, once into a new packet per wait (what `{ value: null }` gets) and once into a
 * PortPacketBuffer (C's caller-owned zx_port_packet_t). The blocking form keeps the event loop and its
 * Promises out, so what differs is the packet alone.
 *
 *   zx_port_wait_into_buffer   per round, batches of 64   vs zx_port_wait_new_packet
 *
 * Besides the times, each case runs `opts.gcRounds` more rounds alone (20 × iterations) and reports how many young-generation
 * collections (scavenges) they caused — a count, not a time: 0 means no garbage per packet.
 */
import {
  PortPacketBuffer, ZX_INTERRUPT_BIND, ZX_INTERRUPT_VIRTUAL, ZX_OK, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE,
  zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create, zx_interrupt_trigger, zx_port_create,
} from 'vfio-ddk/zircon';
import { zx_port_wait } from 'vfio-ddk/zircon/blocking';
import { scavengesDuring } from './gc-count.mjs';
import { measureBatchedInterleaved } from './measure.mjs';
import { makeRow } from './report.mjs';

function check(status, what) {
  if (status !== ZX_OK) throw new Error(`${what} failed with status ${status}`);
}

export async function portPacketRows(opts) {
  const port = { value: 0 };
  const irq = { value: 0 };
  check(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), 'zx_port_create');
  check(zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL, irq), 'zx_interrupt_create');
  check(zx_interrupt_bind(irq.value, port.value, 1n, ZX_INTERRUPT_BIND), 'zx_interrupt_bind');
  const rounds = (packet) => (k) => {
    for (let i = 0; i < k; i++) {
      zx_interrupt_trigger(irq.value, 0, 5n);
      check(zx_port_wait(port.value, ZX_TIME_INFINITE, packet), 'zx_port_wait');
      zx_interrupt_ack(irq.value);
    }
  };
  const fresh = { value: null }; // one out, reused: each wait puts a new packet in it
  const buffer = new PortPacketBuffer().out;
  try {
    const [newPacket, inPlace] = measureBatchedInterleaved([rounds(fresh), rounds(buffer)], opts.step('zx_port_wait_new_packet / zx_port_wait_into_buffer'));
    await opts.checkpoint();
    const gcRounds = opts.gcRounds;
    const scavengesFresh = await scavengesDuring(() => rounds(fresh)(gcRounds));
    const scavengesBuffer = await scavengesDuring(() => rounds(buffer)(gcRounds));
    opts.log(`scavenges in ${gcRounds} rounds: new packet ${scavengesFresh}, PortPacketBuffer ${scavengesBuffer}`);
    return [makeRow({
      name: 'zx_port_wait_into_buffer', subject: inPlace, baseline: newPacket, baselineName: 'zx_port_wait_new_packet',
      extra: { gc_rounds: gcRounds, scavenges_new_packet: scavengesFresh, scavenges_buffer: scavengesBuffer },
    })];
  } finally {
    zx_handle_close(irq.value);
    zx_handle_close(port.value);
  }
}
