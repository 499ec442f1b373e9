/** NVMe Identify through the PCI protocol (GetBar, GetBti + zx_bti_pin, MSI-X, MapInterrupt) on the emulated controller. */
import t from 'tap';
import { createNvmeDevice } from 'vfio-ddk/emu';
import { ZX_OK } from 'vfio-ddk/zircon';
import { fuchsiaNvmeIdentify } from './bus-nvme-identify.ts';

t.test('Identify Controller completes on the MSI-X interrupt MapInterrupt(0) returned', async (t) => {
  const device = createNvmeDevice({ serial: 'fx-pci-1' });
  const result = await fuchsiaNvmeIdentify(device);
  t.equal(result.serial, 'fx-pci-1');
  t.equal(result.model, 'QEMU NVMe Ctrl');
  t.equal(result.waitStatus, ZX_OK);
  t.ok(result.timestamp > 0n, 'zx_interrupt_wait timestamp');
  t.equal(new Set(result.iovas).size, 3, 'three pinned pages, three IOVAs');
  t.same(device.iommuFaults, [], 'every DMA went to a pinned IOVA');
  t.same(device.deviceErrors, []);
  const again = await fuchsiaNvmeIdentify(device);
  t.equal(again.serial, 'fx-pci-1', 'the protocol can be set up again after the first run released it');
  device.close();
});
