/** GetBar (fidl.cc FidlDevice::GetBar, msix.cc GetBarDataSize). */
import t from 'tap';
import { createEduDevice, createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import { EDU_ID_VALUE, EDU_REG, NVME_REG, NVME_VS_1_4, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE_IO, type PciDevice } from 'vfio-ddk';
import {
  ZX_ERR_ACCESS_DENIED, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_INFO_HANDLE_BASIC, ZX_OBJ_TYPE_RESOURCE, ZX_OK, zx_handle_close,
  zx_object_get_info, zx_platform_attach, zx_vmo_get_size, type pci_bar_t, type zx_info_handle_basic_t,
} from 'vfio-ddk/zircon';
import { mapBar, out, pciFor } from './bus-fixtures.ts';

t.test('an MMIO BAR is a physical VMO over its platform address, and its mapping reaches the registers', async (t) => {
  const device = createEduDevice();
  const pci = pciFor(device);
  const { bar, mmio } = mapBar(pci, 0);
  t.equal(bar.bar_id, 0);
  t.equal(bar.size, 1n << 20n, 'edu BAR0 is 1 MiB');
  const size = out(0n);
  t.equal(zx_vmo_get_size((bar.result as { vmo: number }).vmo, size), ZX_OK);
  t.equal(size.value, 1n << 20n);
  t.equal(mmio.read32(EDU_REG.ID), EDU_ID_VALUE, 'identification register through the VMO mapping');
  mmio.write32(EDU_REG.LIVENESS, 0x1234);
  t.equal(mmio.read32(EDU_REG.LIVENESS), ~0x1234 >>> 0, 'liveness inverts: a real register, not memory');
  t.ok(zx_platform_attach(device).bars[0] !== null);
  zx_handle_close((bar.result as { vmo: number }).vmo);
  device.close();
});

t.test('bar_id ≥ 6 is INVALID_ARGS; an absent BAR or a 64-bit BAR\'s upper half NOT_FOUND', async (t) => {
  const edu = createEduDevice();
  const pci = pciFor(edu);
  const bar = out<pci_bar_t | null>(null);
  t.equal(pci.GetBar(6, bar as { value: pci_bar_t }), ZX_ERR_INVALID_ARGS);
  t.equal(pci.GetBar(0xffffffff, bar as { value: pci_bar_t }), ZX_ERR_INVALID_ARGS);
  for (const id of [1, 2, 3, 4, 5]) t.equal(pci.GetBar(id, bar as { value: pci_bar_t }), ZX_ERR_NOT_FOUND, `edu BAR${id}`);
  t.equal(bar.value, null, 'out untouched on failure');
  t.equal(pci.GetBar(0, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  t.throws(() => pci.GetBar('0' as never, bar as { value: pci_bar_t }), TypeError);
  edu.close();
  const nvme = createNvmeDevice();
  t.equal(pciFor(nvme).GetBar(1, bar as { value: pci_bar_t }), ZX_ERR_NOT_FOUND, 'NVMe BAR1 is BAR0\'s upper half');
  nvme.close();
});

t.test('a BAR shared with the MSI-X table is cut at the table page; a table in the first page denies the BAR', async (t) => {
  const nvme = createNvmeDevice();
  const { bar, mmio } = mapBar(pciFor(nvme), 0);
  t.equal(bar.size, 0x2000n, 'NVMe BAR0 up to the MSI-X table at 0x2000');
  t.equal(mmio.read32(NVME_REG.VS), NVME_VS_1_4, 'VS through the mapping');
  nvme.close();
  const test = createTestDevice({ msix: { vectors: 4 } });
  const out1 = out<pci_bar_t | null>(null);
  t.equal(pciFor(test).GetBar(1, out1 as { value: pci_bar_t }), ZX_ERR_ACCESS_DENIED, 'table at offset 0 of BAR1');
  test.close();
});

/** A minimal PciDevice whose BAR0 is an I/O BAR at port 0xc000 (32 ports): no emulated model has one. */
function ioBarDevice(): PciDevice {
  const config = new DataView(new ArrayBuffer(256));
  config.setUint32(PCI_BASE_ADDRESS_0, 0xc000 | PCI_BASE_ADDRESS_SPACE_IO, true);
  const listeners: (() => void)[] = [];
  let closed = false;
  const space = {
    size: 256,
    read8: (o: number) => config.getUint8(o), read16: (o: number) => config.getUint16(o, true), read32: (o: number) => config.getUint32(o, true),
    write8: (o: number, v: number) => config.setUint8(o, v), write16: (o: number, v: number) => config.setUint16(o, v, true),
    write32: (o: number, v: number) => config.setUint32(o, v >>> 0, true),
  };
  return {
    bdf: '0000:7e:00.0', backend: 'emu', config: space, irq: {}, dma: {},
    bar: (i: number) => { if (i === 0) return { index: 0, size: 32n }; throw new Error('no BAR'); },
    get closed() { return closed; },
    onClose: (l: () => void) => { listeners.push(l); return () => {}; },
    close: () => { closed = true; for (const l of listeners) l(); },
  } as unknown as PciDevice;
}

t.test('an I/O BAR is its port range and an IOPORT resource over it', async (t) => {
  const device = ioBarDevice();
  const bar = out<pci_bar_t | null>(null);
  t.equal(pciFor(device).GetBar(0, bar as { value: pci_bar_t }), ZX_OK);
  const result = bar.value?.result as { io: { address: bigint; resource: number } };
  t.equal(result.io.address, 0xc000n);
  t.equal(bar.value?.size, 32n);
  const basic = out<object>({});
  t.equal(zx_object_get_info(result.io.resource, ZX_INFO_HANDLE_BASIC, basic), ZX_OK);
  t.equal((basic.value as zx_info_handle_basic_t).type, ZX_OBJ_TYPE_RESOURCE);
  zx_handle_close(result.io.resource);
  device.close();
});
