/**
 * A function-level reset of the real NVMe controller (it has FLR) while the driver has its admin
 * queues mapped for DMA and MSI-X enabled: VfioDevice.reset() → VFIO_DEVICE_RESET →
 * pci_try_reset_function, which saves the config space and the kernel's MSI-X programming, resets,
 * and restores them (drivers/pci/pci.c pci_dev_save_and_disable / pci_dev_restore →
 * pci_restore_msi_state). The controller itself is disabled (CC 0, CSTS.RDY 0);
 * the IOMMU mappings and the eventfd routes are the library's and stay. The driver is told (onReset,
 * DDI_DEVI_DEVICE_RESET_EVENT), re-enables the controller on the same admin queues (same IOVAs) and
 * an Identify completes through the same interrupt route. Fuchsia's bus driver refuses ResetDevice
 * while an interrupt mode is set (ZX_ERR_BAD_STATE: the reset clears MSI-X programming the bus owns).
 */
import t from 'tap';
import {
  NVME_CSTS_RDY, NVME_REG, NvmeDriver, type ResetEvent,
} from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import {
  PCI_INTERRUPT_MODE_DISABLED, PCI_INTERRUPT_MODE_MSI_X, Pci, ZX_ERR_BAD_STATE, ZX_OK,
} from 'vfio-ddk/zircon';
import {
  DDI_DEVI_DEVICE_RESET_EVENT, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSIX, DDI_SUCCESS, ddi_add_event_handler,
  ddi_dev_info, ddi_get_eventcookie, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_disable, ddi_intr_enable, ddi_intr_free,
  ddi_intr_remove_handler, type ddi_eventcookie_t, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { guestBdf, skipReason } from './helpers.ts';
import { out } from './kit-helpers.ts';
import { keptAcrossReset } from './reset-checks.ts';

const SERIAL = 'deadbeef';
const bdf = guestBdf('nvme');

if (bdf === null) {
  t.plan(0, skipReason('nvme'));
} else {
  t.test('FLR with the admin queues mapped and MSI-X enabled; Identify again on the same route and IOVAs', async (t) => {
    using device = openVfioDevice(bdf);
    const nvme = await NvmeDriver.open(device);
    t.equal((await nvme.identifyController()).serial, SERIAL, 'Identify before the reset');
    const line = nvme.interruptLine;
    const deliveries = line?.deliveries ?? 0;
    t.ok(deliveries >= 1, 'its completion came on MSI-X vector 0');
    const mappings = device.dma.mappings;
    const bar = device.bar(0);
    const asq = bar.read64(NVME_REG.ASQ);
    const events: ResetEvent[] = [];
    device.onReset((e) => events.push(e));

    const started = performance.now();
    device.reset();
    const ms = performance.now() - started;
    t.same(events, [{ kind: 'function' }], 'onReset heard the function reset');
    t.comment(`VFIO_DEVICE_RESET (FLR) of ${bdf} (${device.iommuKind}): ${ms.toFixed(0)} ms`);
    t.equal(bar.read32(NVME_REG.CC), 0, 'the controller lost CC: disabled');
    t.equal(bar.read32(NVME_REG.CSTS) & NVME_CSTS_RDY, 0, 'not ready');
    // QEMU 7.2's FLR (nvme_pci_reset → nvme_ctrl_reset(NVME_RESET_FUNCTION)) keeps AQA / ASQ / ACQ,
    // as lib/emu/nvme.ts models it; the driver writes them again anyway (§7.6.1 step 2).
    t.comment(`after the FLR AQA = 0x${bar.read32(NVME_REG.AQA).toString(16)}, ASQ = 0x${bar.read64(NVME_REG.ASQ).toString(16)}`);
    keptAcrossReset(t, device, mappings, 'the admin queues are still mapped');

    await nvme.reset(); // the driver's part: §7.6.1 on the same queues
    t.equal(bar.read64(NVME_REG.ASQ), asq, 'the admin SQ is back at the same IOVA');
    t.equal((await nvme.identifyController()).serial, SERIAL, 'Identify after the reset: DMA through the same mappings');
    t.equal(nvme.interruptLine, line, 'the same line');
    t.ok((line?.deliveries ?? 0) > deliveries, 'its completion came on the same MSI-X route');
    await nvme.close();
  });

  t.test('DDI: the nexus restores the MSI-X entry, posts DDI_DEVI_DEVICE_RESET_EVENT, the handler completes Identify', async (t) => {
    using device = openVfioDevice(bdf);
    const nvme = await NvmeDriver.open(device, { interrupts: 'external' });
    const dip = ddi_dev_info(device);
    const handles: ddi_intr_handle_t[] = [];
    t.equal(ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSIX, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
    const h = handles[0] as ddi_intr_handle_t;
    let runs = 0;
    t.equal(ddi_intr_add_handler(h, () => { runs++; nvme.onInterrupt(); return DDI_INTR_CLAIMED; }, null, null), DDI_SUCCESS);
    t.equal(ddi_intr_enable(h), DDI_SUCCESS);
    t.equal((await nvme.identifyController()).serial, SERIAL);
    const cookie = out<ddi_eventcookie_t | null>(null);
    t.equal(ddi_get_eventcookie(dip, DDI_DEVI_DEVICE_RESET_EVENT, cookie), DDI_SUCCESS);
    let heard = 0;
    t.equal(ddi_add_event_handler(dip, cookie.value, () => { heard++; }, null, out(null)), DDI_SUCCESS);
    device.reset();
    t.equal(heard, 1, 'DDI_DEVI_DEVICE_RESET_EVENT posted');
    const before = runs;
    await nvme.reset();
    t.equal((await nvme.identifyController()).serial, SERIAL, 'Identify after the reset through the DDI handler');
    t.ok(runs > before, 'the handler ran for it');
    await nvme.close();
    t.equal(ddi_intr_disable(h), DDI_SUCCESS);
    t.equal(ddi_intr_remove_handler(h), DDI_SUCCESS);
    t.equal(ddi_intr_free(h), DDI_SUCCESS);
  });

  t.test('Fuchsia\'s bus: ResetDevice is BAD_STATE while MSI-X is set, an FLR once the mode is DISABLED', async (t) => {
    using device = openVfioDevice(bdf);
    const pci = new Pci(device);
    t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 1), ZX_OK);
    t.equal(pci.ResetDevice(), ZX_ERR_BAD_STATE);
    t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0), ZX_OK);
    t.equal(pci.ResetDevice(), ZX_OK);
  });
}
