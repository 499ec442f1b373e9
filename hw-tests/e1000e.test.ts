/**
 * A device the library has no driver or model for — QEMU's e1000e (Intel 82574L) given with
 * `--device e1000e` — through VfioDevice, to show the VFIO layer is generic: identity and BARs from
 * the real config space, then interrupts the device raises from software. The 82574's Interrupt
 * Cause Set register (ICS) sets causes in ICR; a cause also set in the mask (IMS) interrupts: as
 * INTx without MSI/MSI-X, and with MSI-X on the vector IVAR routes that cause to (82574L datasheet
 * §10.2.4 "Interrupt Registers"; QEMU hw/net/e1000e_core.c e1000e_set_ics, e1000e_msix_notify_one),
 * through VfioDevice's IRQ API and through the DDI kit (ddi_intr_alloc MSIX + a handler).
 * Skipped when the guest has no e1000e (npm run test:hw -- --device e1000e).
 */
import t from 'tap';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import {
  DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSIX, DDI_SUCCESS, ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc,
  ddi_intr_disable, ddi_intr_enable, ddi_intr_free, ddi_intr_remove_handler, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { LineProbe, guestDeviceById } from './helpers.ts';
import { out } from './kit-helpers.ts';
import {
  E1000E_MMIO_SIZE, E1000E_MSIX_BAR, E1000E_MSIX_SIZE, E1000E_MSIX_VEC_NUM, E1000_DEV_ID_82574L, E1000_ICR_LSC, E1000_ICR_RXQ0, E1000_ICS,
  E1000_IMC, E1000_IMS, E1000_IVAR, E1000_IVAR_VALID, E1000_STATUS, E1000_VENDOR_ID_INTEL, PCI_CLASS_NETWORK_ETHERNET, ack,
} from './e1000e-regs.ts';

const e1000e = guestDeviceById('8086:10d3');
if (e1000e === null) {
  t.plan(0, 'no e1000e in the guest (VFIO_DDK_DEVICES): run npm run test:hw -- --device e1000e');
} else {
  t.test('identity and BARs from the real config space', async (t) => {
    using dev = openVfioDevice(e1000e.bdf);
    t.equal(dev.identity.vendorId, E1000_VENDOR_ID_INTEL);
    t.equal(dev.identity.deviceId, E1000_DEV_ID_82574L);
    t.equal(dev.identity.classCode, PCI_CLASS_NETWORK_ETHERNET, 'Ethernet controller');
    t.equal(e1000e.class, '020000', 'VFIO_DDK_DEVICES gives the same class');
    const command = dev.config.read16(PCI_COMMAND);
    t.equal(command & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const bar0 = dev.bar(0);
    t.equal(bar0.size, BigInt(E1000E_MMIO_SIZE), 'BAR0: 128 KiB of registers');
    t.equal(dev.bar(E1000E_MSIX_BAR).size, BigInt(E1000E_MSIX_SIZE), 'BAR3: the MSI-X table and PBA');
    t.not(bar0.read32(E1000_STATUS), 0xffffffff, 'STATUS reads as a live register (not all-ones)');
    t.equal(dev.irq.info(VFIO_PCI_MSIX_IRQ_INDEX).count, E1000E_MSIX_VEC_NUM, `${E1000E_MSIX_VEC_NUM} MSI-X vectors`);
    t.equal(dev.irq.info(VFIO_PCI_MSI_IRQ_INDEX).count, 1, 'one MSI vector');
  });

  t.test('MSI-X: ICS of RxQ0 routed by IVAR to vector 0', async (t) => {
    using dev = openVfioDevice(e1000e.bdf);
    const bar = dev.bar(0);
    bar.write32(E1000_IMC, 0xffffffff);
    ack(bar);
    const probe = new LineProbe('e1000e msix 0', () => ack(bar));
    dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, probe.line);
    t.equal(dev.irq.activeIndex, VFIO_PCI_MSIX_IRQ_INDEX);
    bar.write32(E1000_IVAR, E1000_IVAR_VALID | 0);
    bar.write32(E1000_IMS, E1000_ICR_RXQ0);
    for (let i = 1; i <= 3; i++) {
      const fired = probe.next();
      bar.write32(E1000_ICS, E1000_ICR_RXQ0);
      await fired;
      t.equal(probe.deliveries, i, `software cause ${i} delivered on vector 0`);
    }
    bar.write32(E1000_IMC, 0xffffffff);
    dev.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, 0);
    t.ok(probe.detached);
  });

  t.test('DDI: ddi_intr_alloc(MSIX) + a handler that claims the ICS-raised cause', async (t) => {
    using dev = openVfioDevice(e1000e.bdf);
    const bar = dev.bar(0);
    bar.write32(E1000_IMC, 0xffffffff);
    ack(bar);
    const handles: ddi_intr_handle_t[] = [];
    const actual = out(0);
    t.equal(ddi_intr_alloc(ddi_dev_info(dev), handles, DDI_INTR_TYPE_MSIX, 0, 1, actual, DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
    t.equal(actual.value, 1);
    const causes: number[] = [];
    let wake: (() => void) | null = null;
    t.equal(ddi_intr_add_handler(handles[0] ?? null, () => {
      causes.push(ack(bar));
      wake?.();
      return DDI_INTR_CLAIMED;
    }, null, null), DDI_SUCCESS);
    t.equal(ddi_intr_enable(handles[0] ?? null), DDI_SUCCESS);
    bar.write32(E1000_IVAR, E1000_IVAR_VALID | 0);
    bar.write32(E1000_IMS, E1000_ICR_RXQ0);
    for (let i = 1; i <= 2; i++) {
      const ran = new Promise<void>((resolve) => { wake = resolve; });
      bar.write32(E1000_ICS, E1000_ICR_RXQ0);
      await ran;
      t.ok(((causes[i - 1] ?? 0) & E1000_ICR_RXQ0) !== 0, `handler run ${i} read RxQ0 in ICR`);
    }
    bar.write32(E1000_IMC, 0xffffffff);
    t.equal(ddi_intr_disable(handles[0] ?? null), DDI_SUCCESS);
    t.equal(ddi_intr_remove_handler(handles[0] ?? null), DDI_SUCCESS);
    t.equal(ddi_intr_free(handles[0] ?? null), DDI_SUCCESS);
    t.equal(dev.irq.activeIndex, null, 'MSI-X off again');
  });

  t.test('INTx: ICS of a masked-in cause asserts the line until ICR is cleared', async (t) => {
    using dev = openVfioDevice(e1000e.bdf);
    const bar = dev.bar(0);
    bar.write32(E1000_IMC, 0xffffffff);
    ack(bar);
    const probe = new LineProbe('e1000e intx');
    dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, probe.line);
    bar.write32(E1000_IMS, E1000_ICR_LSC);
    bar.write32(E1000_ICS, E1000_ICR_LSC);
    await probe.next();
    t.equal(probe.deliveries, 1, 'the cause was delivered');
    // Not cleared: the level is still up, so VFIO's unmask re-delivers (automasked INTx).
    dev.irq.unmaskIntx();
    await probe.next();
    t.equal(probe.deliveries, 2, 'unmask with the level still up re-delivers');
    t.ok((ack(bar) & E1000_ICR_LSC) !== 0, 'LSC is the pending cause');
    dev.irq.unmaskIntx();
    const again = probe.next();
    bar.write32(E1000_ICS, E1000_ICR_LSC);
    await again;
    t.equal(probe.deliveries, 3, 'after clearing ICR + unmask the next cause is delivered');
    ack(bar);
    bar.write32(E1000_IMC, 0xffffffff);
    dev.irq.unmaskIntx();
    dev.irq.disable(VFIO_PCI_INTX_IRQ_INDEX);
    t.ok(probe.detached);
  });
}
