/**
 * MSI-X on the real NVMe controller (serial deadbeef) through each interrupt path: Identify Controller
 * with its completion on MSI-X vector 0 delivered (a) to the driver's own IrqLine, (b) through the
 * Zircon kit — zx_msi_create(ZX_MSI_MODE_MSI_X) over a physical VMO of the BAR holding the MSI-X table
 * (zx_platform_attach bars + the table offset of findMsix), zx_interrupt_wait → driver.onInterrupt —
 * and (c) through the DDI kit — ddi_intr_alloc(DDI_INTR_TYPE_MSIX) + a handler calling onInterrupt.
 *
 * (b) and (c) write their own message address/data and mask bits into the table: VfioDevice serves
 * the table from its shadow (lib/vfio/vfio-msix-shadow.ts), so the kernel's remapped entry stays
 * intact and the completion still arrives — a clobbered entry would leave Identify timing out.
 */
import t from 'tap';
import {
  NvmeDriver, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL,
  VFIO_PCI_MSIX_IRQ_INDEX, findMsix,
} from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import {
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_ERR_CANCELED, ZX_INFO_MSI, ZX_MSI_MODE_MSI_X, ZX_OK, get_root_resource, zx_handle_close,
  zx_interrupt_wait, zx_msi_allocate, zx_msi_create, zx_object_get_info, zx_platform_attach, zx_vmo_create_physical,
  zx_vmo_set_cache_policy, setMsixEnable, type zx_info_msi_t,
} from 'vfio-ddk/zircon';
import {
  DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSIX, DDI_SUCCESS, ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc,
  ddi_intr_disable, ddi_intr_enable, ddi_intr_free, ddi_intr_remove_handler, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { guestBdf, skipReason } from './helpers.ts';
import { out } from './kit-helpers.ts';

const SERIAL = 'deadbeef';
const root = get_root_resource();

const bdf = guestBdf('nvme');
if (bdf === null) {
  t.plan(0, skipReason('nvme'));
} else {
  t.test('(a) the driver\'s own IrqLine on MSI-X vector 0', async (t) => {
    using device = openVfioDevice(bdf);
    const nvme = await NvmeDriver.open(device);
    t.equal(device.irq.activeIndex, VFIO_PCI_MSIX_IRQ_INDEX);
    const info = await nvme.identifyController();
    t.equal(info.serial, SERIAL, 'serial reads back deadbeef');
    t.ok((nvme.interruptLine?.deliveries ?? 0) >= 1, 'the completion came by MSI-X');
    await nvme.close();
  });

  t.test('(b) Zircon: zx_msi_create(MSI_X) over the table BAR, zx_interrupt_wait → onInterrupt', async (t) => {
    const device = openVfioDevice(bdf);
    const layout = findMsix(device.config);
    if (layout === null) throw new Error('the NVMe controller has no MSI-X capability');
    const platform = zx_platform_attach(device);
    const barAddr = platform.bars[layout.tableBar];
    if (barAddr === null || barAddr === undefined) throw new Error(`BAR${layout.tableBar} (MSI-X table) not placed`);
    const bar = device.bar(layout.tableBar);
    t.equal(bar.view, null, 'the BAR holding the MSI-X table has no whole-BAR view (table virtualized)');
    const tableMapped = (bar as { isMapped?(offset: number, width?: number): boolean }).isMapped?.(layout.tableOffset, 4) === true;
    t.comment(tableMapped
      ? 'the kernel mmapped the MSI-X table (MSIX_MAPPABLE): the shadow kept the kits\' writes off the real entries'
      : 'the kernel left the MSI-X table out of the mmap (sparse hole; pwrite there is dropped): the shadow serves it');
    const vmo = out(0);
    t.equal(zx_vmo_create_physical(root, barAddr, (bar.size + 4095n) / 4096n * 4096n, vmo), ZX_OK);
    t.equal(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE), ZX_OK);
    const msi = out(0);
    t.equal(zx_msi_allocate(root, 1, msi), ZX_OK);
    const block = out<object>({});
    zx_object_get_info(msi.value, ZX_INFO_MSI, block);
    const nvme = await NvmeDriver.open(device, { interrupts: 'external' });
    const irq = out(0);
    t.equal(zx_msi_create(msi.value, ZX_MSI_MODE_MSI_X, 0, vmo.value, layout.tableOffset, irq), ZX_OK);
    const entry = layout.tableOffset; // vector 0
    const { target_addr: addr, target_data: data } = block.value as zx_info_msi_t;
    t.equal(bar.read32(entry + PCI_MSIX_ENTRY_LOWER_ADDR), Number(addr & 0xffffffffn), 'the entry reads back Zircon\'s address (shadow)');
    t.equal(bar.read32(entry + PCI_MSIX_ENTRY_DATA), data, 'and its data');
    setMsixEnable(device, true); // the bus driver's step: MSI-X Enable → VFIO_DEVICE_SET_IRQS underneath
    // The interrupt thread of a Zircon driver: wait, service, wait again (the wait unmasks).
    let waits = 0;
    const pump = (async () => {
      for (;;) {
        const status = await zx_interrupt_wait(irq.value, null);
        if (status !== ZX_OK) return status;
        waits++;
        nvme.onInterrupt();
      }
    })();
    const info = await nvme.identifyController();
    t.equal(info.serial, SERIAL, 'Identify completed through zx_interrupt_wait');
    t.ok(waits >= 1, 'delivered by the Zircon interrupt');
    t.equal(bar.read32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT, 0, 'the pump\'s next wait unmasked the entry again (masked only between delivery and wait)');
    await nvme.close();
    device.close();
    t.equal(await pump, ZX_ERR_CANCELED, 'closing the device resolves the pending zx_interrupt_wait with CANCELED');
    for (const h of [irq.value, msi.value, vmo.value]) zx_handle_close(h);
  });

  t.test('(c) DDI: ddi_intr_alloc(MSIX) + handler → onInterrupt', async (t) => {
    using device = openVfioDevice(bdf);
    const nvme = await NvmeDriver.open(device, { interrupts: 'external' });
    const handles: ddi_intr_handle_t[] = [];
    const actual = out(0);
    t.equal(ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSIX, 0, 1, actual, DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
    let runs = 0;
    const token = {};
    let seenArg: unknown = null;
    t.equal(ddi_intr_add_handler(handles[0] ?? null, (arg1) => {
      runs++;
      seenArg = arg1;
      nvme.onInterrupt();
      return DDI_INTR_CLAIMED;
    }, token, null), DDI_SUCCESS);
    t.equal(ddi_intr_enable(handles[0] ?? null), DDI_SUCCESS);
    const info = await nvme.identifyController();
    t.equal(info.serial, SERIAL, 'Identify completed through the DDI handler');
    t.ok(runs >= 1, 'the handler ran');
    t.equal(seenArg, token, 'with its arg1');
    await nvme.close();
    t.equal(ddi_intr_disable(handles[0] ?? null), DDI_SUCCESS);
    t.equal(ddi_intr_remove_handler(handles[0] ?? null), DDI_SUCCESS);
    t.equal(ddi_intr_free(handles[0] ?? null), DDI_SUCCESS);
    t.equal(device.irq.activeIndex, null);
  });
}
