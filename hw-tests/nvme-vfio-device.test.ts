/**
 * `VfioDevice` on QEMU's NVMe controller (1b36:0010) — only what VfioDevice itself does: MSI-X with
 * 65 vectors — all enabled in one SET_IRQS where the kernel reports NORESIZE (Debian 6.1), only the
 * attached ones where it does not (dynamic MSI-X, the 6.12 guest; lib/vfio/vfio-msix-dynamic.ts) —
 * routed per vector (checked with the kernel's loopback trigger, spec/pci-vfio.md C.4), BAR0 with the
 * MSI-X table (mmapped or not, as the kernel allows), VFIO_DEVICE_RESET (FLR), close and fds. The NVMe
 * driver suite comes with lib/drivers/nvme.ts.
 */
import t from 'tap';
import { IrqLine, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, findMsix } from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { LineProbe, guestBdf, openFdCount, skipReason, vfioMsixVectors } from './helpers.ts';

const NVME_VENDOR_QEMU = 0x1b36;
const NVME_DEVICE_QEMU = 0x0010;
/** NVMe 1.4 §3.1.1: CAP, the 64-bit Controller Capabilities register at BAR0 offset 0. */
const NVME_REG_CAP = 0x0;

const bdf = guestBdf('nvme');
if (bdf === null) {
  t.plan(0, skipReason('nvme'));
} else {
  t.test('identity, BAR0 with the MSI-X table, 65 MSI-X vectors', async (t) => {
    using dev = openVfioDevice(bdf);
    t.equal(dev.identity.vendorId, NVME_VENDOR_QEMU);
    t.equal(dev.identity.deviceId, NVME_DEVICE_QEMU);
    const bar = dev.bar(0);
    t.not(bar.read64(NVME_REG_CAP), 0n, 'CAP reads through BAR0');
    const layout = findMsix(dev.config);
    if (layout === null) throw new Error('no MSI-X capability on the NVMe controller');
    t.equal(dev.irq.info(VFIO_PCI_MSIX_IRQ_INDEX).count, layout.vectors, 'VFIO reports the table size');
    t.comment(`MSI-X: ${layout.vectors} vectors, table in BAR${layout.tableBar} at 0x${layout.tableOffset.toString(16)}; ` +
      `BAR0 ${bar.view === null ? 'partly mapped (sparse) or trapped' : 'fully mmapped'}`);
  });

  t.test('MSI-X: the whole table (NORESIZE) or the attached vectors alone (dynamic), fires routed per vector (loopback trigger)', async (t) => {
    using dev = openVfioDevice(bdf);
    const { count, noresize } = dev.irq.info(VFIO_PCI_MSIX_IRQ_INDEX);
    const first = new LineProbe('msix 0');
    const last = new LineProbe(`msix ${count - 1}`);
    const fdsBefore = openFdCount();
    dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, first.line);
    dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, count - 1, last.line);
    const requested = vfioMsixVectors(bdf);
    t.same(requested, noresize ? Array.from({ length: count }, (_, v) => v) : [0, count - 1], `interrupts requested: ${noresize ? 'every vector' : 'vectors 0 and the last'}`);
    t.comment(`2 vectors attached (${noresize ? 'NORESIZE' : 'dynamic MSI-X'}): ${requested.length} kernel interrupts, ${openFdCount() - fdsBefore} eventfds`);
    t.throws(() => dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, new IrqLine()), { code: 'EBUSY' }, 'one index at a time');
    dev.irq.trigger(VFIO_PCI_MSIX_IRQ_INDEX, count - 1);
    await last.next();
    dev.irq.trigger(VFIO_PCI_MSIX_IRQ_INDEX, 0);
    await first.next();
    t.same([first.deliveries, last.deliveries], [1, 1], 'each trigger reached only its own line');
    dev.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, 0);
    t.equal(dev.irq.activeIndex, VFIO_PCI_MSIX_IRQ_INDEX, 'still active while a vector is routed');
    dev.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, count - 1);
    t.equal(dev.irq.activeIndex, null);
  });

  t.test('reset (FLR) works and keeps the device usable; no fds left behind', async (t) => {
    openVfioDevice(bdf).close();
    const before = openFdCount();
    const dev = openVfioDevice(bdf);
    const line = new LineProbe('msix 1');
    dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 1, line.line);
    dev.dma.alloc(8192);
    dev.reset();
    t.not(dev.bar(0).read64(NVME_REG_CAP), 0n, 'BAR0 still answers after the reset');
    dev.close();
    t.ok(line.detached);
    t.equal(openFdCount(), before, '/proc/self/fd count unchanged');
  });
}
