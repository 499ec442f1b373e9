/**
 * The IRQ-thread mailbox on this thread: a message posted (port + eventfd) wakes a blocking wait here,
 * which hands it to onMessage on its own stack; once closed, the eventfd is no longer polled.
 */
import t from 'tap';
import { ZX_ERR_TIMED_OUT, ZX_OK, ZX_PKT_TYPE_USER, zx_deadline_after, zx_handle_close, zx_port_create, zx_port_queue, type zx_port_packet_t } from 'vfio-ddk/zircon';
import { zx_port_wait } from 'vfio-ddk/zircon/blocking';
import { IrqThreadMailbox, createIrqThreadChannel } from '../../lib/drivers/irq-thread-mailbox.ts';
import { addNativeSource, nativeSourceCount, removeNativeSource } from '../../lib/irq/blocking.ts';
import { Eventfd } from '../../lib/native/eventfd.ts';
import { loadNative } from '../../lib/native/loader.ts';

t.test('a posted message wakes zx_port_wait; onMessage runs inside the wait and queues the packet it returns', async (t) => {
  const { sender, worker } = createIrqThreadChannel();
  const port = { value: 0 };
  t.equal(zx_port_create(0, port), ZX_OK);
  const seen: unknown[] = [];
  const mailbox = new IrqThreadMailbox(worker, (message) => {
    seen.push(message);
    zx_port_queue(port.value, { key: BigInt((message as { n: number }).n), type: ZX_PKT_TYPE_USER, status: 0 });
  });
  t.equal(nativeSourceCount(), 1, 'the eventfd is one of this thread\'s native sources');
  sender.post({ n: 7 });
  sender.post({ n: 8 });
  const packet = { value: { key: 0n, type: 0, status: 0 } as zx_port_packet_t };
  t.equal(zx_port_wait(port.value, zx_deadline_after(10_000_000_000n), packet), ZX_OK, 'woken by the mailbox, not the deadline');
  t.equal(packet.value.key, 7n);
  t.same(seen, [{ n: 7 }, { n: 8 }], 'both messages drained in one wake, in order');
  t.equal(zx_port_wait(port.value, 0n, packet), ZX_OK);
  t.equal(packet.value.key, 8n);
  t.equal(mailbox.received, 2);
  t.equal(mailbox.drain(), 0, 'nothing left');

  mailbox.close();
  mailbox.close();
  t.equal(nativeSourceCount(), 0);
  sender.post({ n: 9 });
  t.equal(zx_port_wait(port.value, zx_deadline_after(20_000_000n), packet), ZX_ERR_TIMED_OUT, 'a closed mailbox is not polled');
  t.equal(seen.length, 2);
  sender.close();
  t.throws(() => sender.post({ n: 10 }), RangeError, 'posting after close');
  zx_handle_close(port.value);
});

t.test('a mailbox needs an eventfd number', async (t) => {
  const { sender, worker } = createIrqThreadChannel();
  t.throws(() => new IrqThreadMailbox({ port: worker.port, wakeFd: -1 }, () => {}), TypeError);
  t.throws(() => new IrqThreadMailbox({ port: worker.port, wakeFd: 1.5 }, () => {}), TypeError);
  worker.port.close();
  sender.close();
});

// An NVMe controller's MSI-X table has 65 vectors, and VFIO gives each its eventfd (65 native sources):
// the mailbox, registered first, must survive the registry growing (it once lost its entries: fd 0).
t.test('the mailbox is polled beside more than 8 native sources (an NVMe\'s MSI-X vectors)', async (t) => {
  const { sender, worker } = createIrqThreadChannel();
  const port = { value: 0 };
  zx_port_create(0, port);
  const mailbox = new IrqThreadMailbox(worker, () => {
    zx_port_queue(port.value, { key: 1n, type: ZX_PKT_TYPE_USER, status: 0 });
  });
  const addon = loadNative();
  const vectors = Array.from({ length: 9 }, () => new Eventfd(addon));
  const sources = vectors.map((efd) => ({ fd: efd.fd, deliver: () => {} }));
  for (const source of sources) addNativeSource(source, addon);
  try {
    sender.post({ n: 1 });
    const packet = { value: { key: 0n, type: 0, status: 0 } as zx_port_packet_t };
    t.equal(zx_port_wait(port.value, zx_deadline_after(2_000_000_000n), packet), ZX_OK);
    t.equal(packet.value.key, 1n);
  } finally {
    for (const source of sources) removeNativeSource(source);
    for (const efd of vectors) efd.close();
    mailbox.close();
    worker.port.close();
    sender.close();
    zx_handle_close(port.value);
  }
});
