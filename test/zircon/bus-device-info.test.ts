/** GetDeviceInfo (fidl.cc FidlDevice::GetDeviceInfo): the function's identity and its bus address. */
import t from 'tap';
import { createEduDevice, createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import { Pci, ZX_ERR_INVALID_ARGS, ZX_OK, type pci_device_info_t } from 'vfio-ddk/zircon';
import { out, pciFor } from './bus-fixtures.ts';

t.test('GetDeviceInfo reports IDs, class triple, revision and bus/dev/func from the config space and BDF', async (t) => {
  for (const device of [createEduDevice(), createNvmeDevice(), createTestDevice({ intx: true })]) {
    const pci = pciFor(device);
    const info = out<pci_device_info_t | null>(null);
    t.equal(pci.GetDeviceInfo(info as { value: pci_device_info_t }), ZX_OK);
    const id = device.identity;
    const [, bus, dev, fn] = /^[0-9a-f]{4}:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(device.bdf) as RegExpExecArray;
    t.same(info.value, {
      vendor_id: id.vendorId, device_id: id.deviceId,
      base_class: id.classCode >> 16, sub_class: (id.classCode >> 8) & 0xff, program_interface: id.classCode & 0xff,
      revision_id: id.revision, bus_id: parseInt(bus as string, 16), dev_id: parseInt(dev as string, 16), func_id: parseInt(fn as string, 16),
    }, device.bdf);
    device.close();
  }
});

t.test('GetDeviceInfo: a NULL out-pointer is INVALID_ARGS, a non-object out a TypeError', async (t) => {
  const device = createEduDevice();
  const pci = pciFor(device);
  t.equal(pci.GetDeviceInfo(null), ZX_ERR_INVALID_ARGS);
  t.throws(() => pci.GetDeviceInfo(5 as never), TypeError);
  device.close();
});

t.test('new Pci(x) throws TypeError for something that is not a PciDevice', async (t) => {
  t.throws(() => new Pci({} as never), TypeError);
  t.throws(() => new Pci(null as never), TypeError);
});
