import t from 'tap';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_block_enable,
  DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_SUCCESS, DDI_EINVAL,
  type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { createEduDevice } from 'vfio-ddk/emu';
import { PCI_COMMAND, PCI_COMMAND_MASTER } from '../../lib/pci/regs.ts';
import type { PciRegion } from '../../lib/pci/device.ts';
import { out, turns } from './helpers.ts';

/** edu registers (spec/edu.md D.2). */
const EDU_IRQ_STATUS = 0x24;
const EDU_IRQ_RAISE = 0x60;
const EDU_IRQ_ACK = 0x64;

function edu(t: { teardown(fn: () => void): void }) {
  const device = createEduDevice();
  device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MASTER);
  t.teardown(() => device.close());
  return device;
}

t.test('edu over INTx: the handler acks the cause and claims; the next raise is delivered too', async (t) => {
  const device = edu(t);
  const handles: ddi_intr_handle_t[] = [];
  t.equal(ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_FIXED, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
  const seen: number[] = [];
  ddi_intr_add_handler(handles[0] ?? null, (bar) => {
    const region = bar as PciRegion;
    const status = region.read32(EDU_IRQ_STATUS);
    seen.push(status);
    region.write32(EDU_IRQ_ACK, status);
    return DDI_INTR_CLAIMED;
  }, device.bar(0), null);
  t.equal(ddi_intr_enable(handles[0] ?? null), DDI_SUCCESS);
  device.bar(0).write32(EDU_IRQ_RAISE, 0x100);
  await turns(3);
  device.bar(0).write32(EDU_IRQ_RAISE, 0x1);
  await turns(3);
  t.same(seen, [0x100, 0x1]);
});

t.test('edu over MSI (1 vector, no per-vector masking): BLOCK, enabled with block_enable', async (t) => {
  const device = edu(t);
  const handles: ddi_intr_handle_t[] = [];
  t.equal(ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSI, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
  let runs = 0;
  ddi_intr_add_handler(handles[0] ?? null, () => {
    runs++;
    device.bar(0).write32(EDU_IRQ_ACK, device.bar(0).read32(EDU_IRQ_STATUS));
    return DDI_INTR_CLAIMED;
  }, null, null);
  t.equal(ddi_intr_enable(handles[0] ?? null), DDI_EINVAL, 'BLOCK: ddi_intr_enable refused');
  t.equal(ddi_intr_block_enable(handles, 1), DDI_SUCCESS);
  device.bar(0).write32(EDU_IRQ_RAISE, 0x2);
  await turns(2);
  device.bar(0).write32(EDU_IRQ_RAISE, 0x4);
  await turns(2);
  t.equal(runs, 2, 'one handler run per MSI');
});
