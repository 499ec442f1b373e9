/** The DDI NVMe Identify flow (nvme-identify-flow.ts, also run by hw-tests on QEMU's NVMe) on the emulated controller. */
import t from 'tap';
import { createNvmeDevice, type EmuIommu } from 'vfio-ddk/emu';
import { DDI_SUCCESS } from 'vfio-ddk/ddi';
import { identifyThroughDdi } from './nvme-identify-flow.ts';

t.test('Identify Controller through ddi_regs_* + ddi_dma_* + an MSI-X ddi_intr handler', async (t) => {
  const device = createNvmeDevice({ serial: 'ddi-svc-1' });
  t.teardown(() => device.close());
  const result = await identifyThroughDdi(device);
  t.equal(result.serial, 'ddi-svc-1', 'the serial came back through the bound identify buffer');
  t.equal(result.claimed, 1, 'the completion came by the MSI-X vector 0 handler');
  t.equal(result.accCheck, DDI_SUCCESS, 'no access errors on the register mapping');
  t.ok(result.iovas.every((iova) => iova % 0x1000n === 0n), 'page-aligned IOVAs');
  t.equal((device.dma as EmuIommu).mappings, 0, 'everything unbound');
  t.equal(device.iommuFaults.length, 0, 'no IOMMU faults');
  t.equal(device.irq.activeIndex, null, 'MSI-X disabled again');
});
