/**
 * NVMe Identify Controller on QEMU's real NVMe controller (serial deadbeef) through Fuchsia's PCI device
 * protocol only (`Pci`, lib/zircon/bus): GetBar(0) → a physical VMO mapped with zx_vmar_map, GetBti(0)
 * + zx_vmo_create + zx_bti_pin for the admin queues and the data page, SetInterruptMode(MSI_X, 1) —
 * the bus driver's MSI-X Enable write becomes VFIO_DEVICE_SET_IRQS underneath — and MapInterrupt(0)
 * + zx_interrupt_wait for the completion (the routine is test/zircon/bus-nvme-identify.ts, which the
 * emulated suite runs too). Skipped when no NVMe is bound to vfio-pci.
 */
import t from 'tap';
import { openVfioDevice } from 'vfio-ddk/vfio';
import {
  Pci, ZX_ERR_NOT_FOUND, ZX_OK, type pci_bar_t, type pci_interrupt_modes_t,
} from 'vfio-ddk/zircon';
import { fuchsiaNvmeIdentify } from '../test/zircon/bus-nvme-identify.ts';
import { guestBdf, skipReason } from './helpers.ts';

const SERIAL = 'deadbeef';
const bdf = guestBdf('nvme');
if (bdf === null) {
  t.plan(0, skipReason('nvme'));
} else {
  t.test('the protocol describes the real controller', async (t) => {
    using device = openVfioDevice(bdf);
    const pci = new Pci(device);
    const modes = { value: null as unknown as pci_interrupt_modes_t };
    t.equal(pci.GetInterruptModes(modes), ZX_OK);
    t.ok(modes.value.msix_count >= 1, `MSI-X table of ${modes.value.msix_count}`);
    const bar = { value: null as unknown as pci_bar_t };
    t.equal(pci.GetBar(0, bar), ZX_OK);
    t.ok(bar.value.size >= 0x2000n, `BAR0 usable part ${bar.value.size} bytes (registers + doorbells, MSI-X pages excluded)`);
    t.equal(pci.GetBar(1, { value: null as unknown as pci_bar_t }), ZX_ERR_NOT_FOUND, 'BAR1 is BAR0\'s upper half');
  });

  t.test('Identify Controller: BAR VMO, BTI pins, MSI-X MapInterrupt + zx_interrupt_wait', async (t) => {
    using device = openVfioDevice(bdf);
    const result = await fuchsiaNvmeIdentify(device, 10_000);
    t.equal(result.serial, SERIAL, 'serial reads back deadbeef');
    t.equal(result.waitStatus, ZX_OK, 'the completion arrived as an MSI-X interrupt');
    t.ok(result.timestamp > 0n);
    t.comment(`model ${JSON.stringify(result.model)} firmware ${result.firmware}, IOVAs ${result.iovas.map((a) => `0x${a.toString(16)}`).join(' ')}`);
  });
}
