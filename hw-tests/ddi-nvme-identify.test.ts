/**
 * NVMe Identify Controller on the real QEMU NVMe (serial deadbeef) through the illumos DDI alone:
 * BAR0 by ddi_regs_map_setup + ddi_get/ddi_put (CC, CSTS, AQA, ASQ, ACQ, doorbells), admin queues
 * and the identify buffer by ddi_dma_alloc_handle / ddi_dma_mem_alloc / ddi_dma_addr_bind_handle
 * through the device's IOMMU domain, the completion by a ddi_intr MSI-X vector 0 handler. The flow is
 * test/ddi/nvme-identify-flow.ts, which the emulated suite runs too.
 */
import t from 'tap';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { DDI_SUCCESS } from 'vfio-ddk/ddi';
import { identifyThroughDdi } from '../test/ddi/nvme-identify-flow.ts';
import { guestBdf, skipReason } from './helpers.ts';

const SERIAL = 'deadbeef';
const bdf = guestBdf('nvme');
if (bdf === null) {
  t.plan(0, skipReason('nvme'));
} else {
  t.test('Identify through ddi_regs_* + ddi_dma_* + ddi_intr_* (MSI-X vector 0)', async (t) => {
    using device = openVfioDevice(bdf);
    const result = await identifyThroughDdi(device);
    t.equal(result.serial, SERIAL, 'serial reads back deadbeef');
    t.equal(result.claimed, 1, 'the completion came by the MSI-X handler');
    t.equal(result.accCheck, DDI_SUCCESS, 'ddi_check_acc_handle: no access errors');
    t.ok(result.iovas.every((iova) => iova > 0n && iova % 0x1000n === 0n), `IOVAs ${result.iovas.map((i) => `0x${i.toString(16)}`).join(', ')}`);
    t.equal(device.irq.activeIndex, null, 'MSI-X disabled after ddi_intr_free');
  });
}
