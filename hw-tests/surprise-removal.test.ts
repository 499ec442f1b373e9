/**
 * Surprise removal of open devices: QMP device_del of an e1000e on its own root port while a driver
 * holds it through VFIO with interrupts armed. QEMU presses the slot's attention button, the guest's
 * pciehp removes the function, vfio-pci's remove signals the device-request eventfd
 * (vfio_pci_core_request) and waits for the user to let go; the library runs the onRemovalRequest
 * listeners and closes the device, so the removal completes and QEMU emits DEVICE_DELETED.
 *
 * Two e1000e (test:hw adds two): one held by a Zircon driver through Fuchsia's PCI protocol (MSI-X
 * vector 0 in zx_interrupt_wait, vector 1 bound to a port in zx_port_wait, the protocol channel
 * watched on that port), one by an illumos driver (an MSI-X handler, a DDI_DEVI_REMOVE_EVENT
 * callback). Each wait ends as the kits document: zx_interrupt_wait ZX_ERR_CANCELED; zx_port_wait a
 * ZX_PKT_TYPE_SIGNAL_ONE packet with ZX_CHANNEL_PEER_CLOSED; the DDI remove callback runs while the
 * device is still open and no handler runs after. The process survives, no VFIO fd, BAR mapping or
 * locked DMA memory is left (/proc/self/fd, /proc/self/maps, VmLck), and device_add brings both back
 * on vfio-pci for the suites that follow. Removal timings are reported with t.comment.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { openVfioDevice, type VfioDevice } from 'vfio-ddk/vfio';
import {
  PCI_INTERRUPT_MODE_MSI_X, Pci, ZX_CHANNEL_PEER_CLOSED, ZX_ERR_CANCELED, ZX_ERR_PEER_CLOSED, ZX_OK, ZX_PKT_TYPE_INTERRUPT,
  ZX_PKT_TYPE_SIGNAL_ONE, ZX_TIME_INFINITE, zx_handle_close, zx_interrupt_ack, zx_interrupt_wait, zx_port_wait, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import {
  DDI_DEVI_REMOVE_EVENT, DDI_FAILURE, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSIX, DDI_SUCCESS,
  ddi_add_event_handler, ddi_dev_info, ddi_get_eventcookie, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_disable, ddi_intr_enable,
  ddi_intr_free, ddi_intr_remove_handler, ddi_remove_event_handler, type ddi_callback_id_t, type ddi_eventcookie_t,
  type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { E1000_ICR_RXQ0, E1000_ICR_TXQ0, E1000_ICS, ack, quiet, routeQueues } from './e1000e-regs.ts';
import { guestDevices, plugBack, qmp, sysfsDevice, until, vfioFootprint, type GuestDevice } from './helpers.ts';
import { Calls, out } from './kit-helpers.ts';
import { IRQ_KEY, PEER_KEY, armZirconDriver } from '../test/suites/zircon-armed.ts';

const e1000es = guestDevices().filter((d) => d.bus !== 'pcie.0' && d.vendorDevice === '8086:10d3');

/** Resolves with the promise's value, or 'timeout' after `ms` (a wait that never ends fails, not hangs). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * device_del of `target` (open as `device`), timed from the command: when the removal request reached
 * the library, when the function left sysfs (polled meanwhile), when QEMU answered (DEVICE_DELETED).
 */
async function remove(target: GuestDevice, device: VfioDevice): Promise<{ requestMs: number; goneMs: number; qmpMs: number }> {
  const started = performance.now();
  let requestMs = -1;
  let qmpMs = -1;
  device.onRemovalRequest(() => { requestMs = performance.now() - started; });
  const answered = qmp('device_del', { id: target.id }).then(() => { qmpMs = performance.now() - started; });
  await until(() => !existsSync(sysfsDevice(target.bdf)), 20_000);
  const goneMs = performance.now() - started;
  await answered;
  return { requestMs, goneMs, qmpMs };
}

if (e1000es.length < 2) {
  t.plan(0, 'needs two e1000e on root ports (VFIO_DDK_DEVICES): npm run test:hw adds them, or --device e1000e --device e1000e');
} else {
  const [zircon, ddi] = e1000es as [GuestDevice, GuestDevice];
  t.teardown(async () => {
    for (const d of [zircon, ddi]) if (!existsSync(sysfsDevice(d.bdf))) await plugBack(d);
  });

  t.test('removal while armed: each wait ends as documented, nothing is left, the unbind completes', async (t) => {
    t.ok(vfioFootprint().fds.every((fd) => !/vfio|iommu/.test(fd)), 'no VFIO fd open before');
    const before = vfioFootprint();

    // The Zircon driver: Fuchsia's PCI protocol on the first e1000e.
    const a = openVfioDevice(zircon.bdf);
    t.equal(a.removalRequestSupported, true, 'the kernel offers the device request channel');
    const bufferA = a.dma.alloc(4096);
    const barA = a.bar(0);
    quiet(barA);
    const pci = new Pci(a);
    const { waited, bound, port, channel } = armZirconDriver(t, pci);
    routeQueues(barA, 0, 1);
    const first = zx_interrupt_wait(waited, null);
    barA.write32(E1000_ICS, E1000_ICR_RXQ0);
    t.equal(await within(first, 10_000), ZX_OK, 'vector 0 reaches zx_interrupt_wait before the removal');
    ack(barA);
    const packet = out<zx_port_packet_t | null>(null);
    const firstPacket = zx_port_wait(port, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
    barA.write32(E1000_ICS, E1000_ICR_TXQ0);
    t.equal(await within(firstPacket, 10_000), ZX_OK);
    t.match(packet.value, { key: IRQ_KEY, type: ZX_PKT_TYPE_INTERRUPT }, 'vector 1 reaches the port');
    ack(barA);
    t.equal(zx_interrupt_ack(bound), ZX_OK);

    // The illumos driver on the second.
    const b = openVfioDevice(ddi.bdf);
    const bufferB = b.dma.alloc(4096);
    const barB = b.bar(0);
    quiet(barB);
    const dip = ddi_dev_info(b);
    const handles: ddi_intr_handle_t[] = [];
    t.equal(ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSIX, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
    const h = handles[0] as ddi_intr_handle_t;
    const runs = new Calls<number>();
    t.equal(ddi_intr_add_handler(h, () => { runs.hit(ack(barB)); return DDI_INTR_CLAIMED; }, null, null), DDI_SUCCESS);
    t.equal(ddi_intr_enable(h), DDI_SUCCESS);
    const cookie = out<ddi_eventcookie_t | null>(null);
    t.equal(ddi_get_eventcookie(dip, DDI_DEVI_REMOVE_EVENT, cookie), DDI_SUCCESS);
    const removal = new Calls<boolean>();
    const id = out<ddi_callback_id_t | null>(null);
    t.equal(ddi_add_event_handler(dip, cookie.value, () => { removal.hit(b.closed); }, null, id), DDI_SUCCESS);
    routeQueues(barB, 0, 0);
    barB.write32(E1000_ICS, E1000_ICR_RXQ0);
    const causes = await within(runs.next(), 10_000);
    t.ok(typeof causes === 'number' && (causes & E1000_ICR_RXQ0) !== 0, 'the DDI handler runs before the removal');

    // Armed: a zx_interrupt_wait, a zx_port_wait, a DDI handler. Remove the Zircon driver's device.
    const zxWait = zx_interrupt_wait(waited, null);
    const portPacket = out<zx_port_packet_t | null>(null);
    const portWait = zx_port_wait(port, ZX_TIME_INFINITE, portPacket as { value: zx_port_packet_t });
    const timesA = await remove(zircon, a);
    t.equal(await within(zxWait, 10_000), ZX_ERR_CANCELED, 'zx_interrupt_wait ends ZX_ERR_CANCELED');
    t.equal(await within(portWait, 10_000), ZX_OK, 'zx_port_wait returns');
    t.match(portPacket.value, { key: PEER_KEY, type: ZX_PKT_TYPE_SIGNAL_ONE }, 'with the protocol channel\'s signal packet');
    t.ok(((portPacket.value?.signal?.observed ?? 0) & ZX_CHANNEL_PEER_CLOSED) !== 0, 'observed ZX_CHANNEL_PEER_CLOSED');
    t.equal(zx_interrupt_ack(bound), ZX_ERR_CANCELED, 'the bound interrupt was destroyed');
    t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 1), ZX_ERR_PEER_CLOSED, 'protocol calls: ZX_ERR_PEER_CLOSED');
    t.ok(a.closed, 'the device closed itself');
    t.throws(() => barA.read32(0), { code: 'ECLOSED' }, 'its BAR answers ECLOSED, not a fault');
    t.equal(bufferA.bytes.byteLength, 0, 'its DMA buffer is unmapped (the view is detached)');
    t.ok(timesA.requestMs >= 0, 'the removal request was heard');
    t.notOk(existsSync(sysfsDevice(zircon.bdf)), `${zircon.bdf} left sysfs`);
    t.comment(`removal of ${zircon.bdf} (Zircon): request heard ${timesA.requestMs.toFixed(0)} ms after device_del (pciehp waits 5 s ` +
      `after the button), gone from sysfs ${(timesA.goneMs - timesA.requestMs).toFixed(0)} ms after the request, DEVICE_DELETED at ${timesA.qmpMs.toFixed(0)} ms`);
    for (const handle of [waited, bound, port, channel]) t.equal(zx_handle_close(handle), ZX_OK);

    // Remove the DDI driver's device with its handler enabled.
    const runsBefore = runs.count;
    const timesB = await remove(ddi, b);
    t.same(removal.values, [false], 'DDI_DEVI_REMOVE_EVENT ran once, while the device was still open');
    t.ok(b.closed);
    t.equal(runs.count, runsBefore, 'no handler run after the removal');
    t.equal(ddi_intr_disable(h), DDI_SUCCESS, 'teardown succeeds: disable');
    t.equal(ddi_intr_enable(h), DDI_FAILURE, 'enable on the removed device: DDI_FAILURE');
    t.equal(ddi_intr_remove_handler(h), DDI_SUCCESS);
    t.equal(ddi_intr_free(h), DDI_SUCCESS);
    t.equal(ddi_remove_event_handler(id.value), DDI_SUCCESS);
    t.comment(`removal of ${ddi.bdf} (DDI): request heard ${timesB.requestMs.toFixed(0)} ms after device_del, gone from sysfs ` +
      `${(timesB.goneMs - timesB.requestMs).toFixed(0)} ms after the request, DEVICE_DELETED at ${timesB.qmpMs.toFixed(0)} ms`);
    t.equal(bufferB.bytes.byteLength, 0);

    const after = vfioFootprint();
    t.same(after.fds, before.fds, 'no VFIO, iommufd or eventfd fd left (/proc/self/fd)');
    t.equal(after.maps, before.maps, 'no BAR mapping left (/proc/self/maps)');
    t.equal(after.lockedKb, before.lockedKb, 'no locked DMA memory left (VmLck)');
    t.equal(a.dma.mappings + b.dma.mappings, 0, 'no IOMMU mapping left');
  });

  t.test('device_add brings both back on vfio-pci, and they open again', async (t) => {
    for (const d of [zircon, ddi]) {
      t.ok(await plugBack(d), `${d.bdf} is back, bound to vfio-pci`);
      using again = openVfioDevice(d.bdf);
      t.equal(again.identity.deviceId, 0x10d3);
    }
  });
}
