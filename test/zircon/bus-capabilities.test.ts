/**
 * GetCapabilities / GetFirstCapability / GetNextCapability and the extended variants (fidl.cc,
 * device_protocol.cc GetNextCapability: list order, not offset order).
 */
import t from 'tap';
import { createEduDevice, createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import { listCapabilities, PCI_CAP_ID_EXP, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CAP_ID_PM, type ConfigSpace } from 'vfio-ddk';
import { ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_OK } from 'vfio-ddk/zircon';
import { extendedCapabilities, nextCapability } from '../../lib/zircon/bus/capability-lists.ts';
import { out, pciFor } from './bus-fixtures.ts';

t.test('the standard list: first, next, all, as the device\'s capability pointers chain them', async (t) => {
  const device = createNvmeDevice();
  const pci = pciFor(device);
  const chain = listCapabilities(device.config);
  t.ok(chain.length >= 3, 'MSI-X, PM, PCIe');
  const at = out(0);
  for (const id of [PCI_CAP_ID_MSIX, PCI_CAP_ID_PM, PCI_CAP_ID_EXP]) {
    t.equal(pci.GetFirstCapability(id, at), ZX_OK);
    t.equal(at.value, chain.find((c) => c.id === id)?.offset);
    t.equal(pci.GetNextCapability(id, at.value, out(0)), ZX_ERR_NOT_FOUND, 'only one of each');
    const all = out<number[]>([]);
    t.equal(pci.GetCapabilities(id, all), ZX_OK);
    t.same(all.value, [at.value]);
  }
  t.equal(pci.GetFirstCapability(PCI_CAP_ID_MSI, at), ZX_ERR_NOT_FOUND, 'QEMU NVMe has no MSI');
  const none = out<number[]>([1]);
  t.equal(pci.GetCapabilities(PCI_CAP_ID_MSI, none), ZX_OK);
  t.same(none.value, []);
  t.equal(pci.GetNextCapability(PCI_CAP_ID_EXP, 0x41, at), ZX_ERR_NOT_FOUND, 'start_offset is no capability');
  t.equal(pci.GetFirstCapability(PCI_CAP_ID_MSIX, null), ZX_ERR_INVALID_ARGS);
  device.close();
});

t.test('GetNextCapability follows list order even when a pointer points backwards', async (t) => {
  const list = [{ id: 9, base: 0x80 }, { id: 5, base: 0x40 }, { id: 9, base: 0x60 }];
  t.equal(nextCapability(list, 9, null), 0x80);
  t.equal(nextCapability(list, 9, 0x80), 0x60, 'the 9 after 0x80 sits at a lower offset');
  t.equal(nextCapability(list, 9, 0x60), null);
});

t.test('extended capabilities: NOT_FOUND without any (a conventional edu, the NVMe\'s empty list)', async (t) => {
  for (const device of [createEduDevice(), createNvmeDevice(), createTestDevice({ msi: { vectors: 1 } })]) {
    const pci = pciFor(device);
    t.equal(pci.GetFirstExtendedCapability(1, out(0)), ZX_ERR_NOT_FOUND, device.bdf);
    t.equal(pci.GetNextExtendedCapability(1, 0x100, out(0)), ZX_ERR_NOT_FOUND);
    const all = out<number[]>([1]);
    t.equal(pci.GetExtendedCapabilities(1, all), ZX_OK);
    t.same(all.value, []);
    device.close();
  }
});

t.test('the extended-list walk: headers at 0x100+, id 15:0, next 31:20; a loop or an empty header ends it', async (t) => {
  const bytes = new DataView(new ArrayBuffer(4096));
  bytes.setUint32(0x100, (0x150 << 20) | (1 << 16) | 0x0001, true); // AER → 0x150
  bytes.setUint32(0x150, (0x100 << 20) | (1 << 16) | 0x000e, true); // ARI → back to 0x100 (a loop)
  const config = { size: 4096, read32: (o: number) => bytes.getUint32(o, true) } as unknown as ConfigSpace;
  t.same(extendedCapabilities(config), [{ id: 1, base: 0x100 }, { id: 0xe, base: 0x150 }]);
  t.same(extendedCapabilities({ ...config, size: 256 } as ConfigSpace), [], 'no extended space');
});
