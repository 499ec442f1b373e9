/** ReadConfig8/16/32, WriteConfig8/16/32 (device.h Device::ReadConfig / WriteConfig). */
import t from 'tap';
import { createEduDevice, createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import { findMsi, PCI_COMMAND, PCI_DEVICE_ID, PCI_VENDOR_ID } from 'vfio-ddk';
import {
  PCI_CONFIG_HDR_SIZE, ZX_ERR_ACCESS_DENIED, ZX_ERR_INVALID_ARGS, ZX_ERR_OUT_OF_RANGE, ZX_OK,
} from 'vfio-ddk/zircon';
import { out, pciFor } from './bus-fixtures.ts';

t.test('ReadConfig8/16/32 read the function\'s config space through the bus\'s ECAM mapping', async (t) => {
  const device = createNvmeDevice();
  const pci = pciFor(device);
  const v = out(0);
  t.equal(pci.ReadConfig16(PCI_VENDOR_ID, v), ZX_OK);
  t.equal(v.value, device.identity.vendorId);
  t.equal(pci.ReadConfig32(PCI_VENDOR_ID, v), ZX_OK);
  t.equal(v.value, ((device.identity.deviceId << 16) | device.identity.vendorId) >>> 0);
  t.equal(pci.ReadConfig8(PCI_DEVICE_ID + 1, v), ZX_OK);
  t.equal(v.value, device.identity.deviceId >> 8);
  t.equal(pci.ReadConfig32(4092, v), ZX_OK, 'the last dword of a PCIe function\'s 4 KiB');
  device.close();
  const edu = createEduDevice();
  t.equal(pciFor(edu).ReadConfig32(0x100, v), ZX_OK);
  t.equal(v.value, 0xffffffff, 'past a conventional function\'s 256 bytes: all-ones, as ECAM reads');
  edu.close();
});

t.test('reads: offset + width > 4096 is OUT_OF_RANGE; a misaligned offset or NULL out INVALID_ARGS', async (t) => {
  const device = createEduDevice();
  const pci = pciFor(device);
  const v = out(7);
  t.equal(pci.ReadConfig8(4096, v), ZX_ERR_OUT_OF_RANGE);
  t.equal(pci.ReadConfig16(4095, v), ZX_ERR_OUT_OF_RANGE);
  t.equal(pci.ReadConfig32(4094, v), ZX_ERR_OUT_OF_RANGE);
  t.equal(pci.ReadConfig32(0xffff_ffff, v), ZX_ERR_OUT_OF_RANGE);
  t.equal(pci.ReadConfig16(1, v), ZX_ERR_INVALID_ARGS);
  t.equal(pci.ReadConfig32(2, v), ZX_ERR_INVALID_ARGS);
  t.equal(pci.ReadConfig32(0, null), ZX_ERR_INVALID_ARGS);
  t.equal(v.value, 7, 'out untouched');
  t.throws(() => pci.ReadConfig8(-1.5, v), TypeError);
  device.close();
});

t.test('writes inside the 64-byte header are ACCESS_DENIED, checked before the range', async (t) => {
  const device = createTestDevice({ intx: true });
  const pci = pciFor(device);
  const command = device.config.read16(PCI_COMMAND);
  for (const at of [0, PCI_COMMAND, 0x10, 0x3c, PCI_CONFIG_HDR_SIZE - 1]) {
    t.equal(pci.WriteConfig8(at, 0xff), ZX_ERR_ACCESS_DENIED, `offset 0x${at.toString(16)}`);
  }
  t.equal(pci.WriteConfig16(PCI_COMMAND, 0), ZX_ERR_ACCESS_DENIED);
  t.equal(pci.WriteConfig32(0x3c, 0), ZX_ERR_ACCESS_DENIED);
  t.equal(device.config.read16(PCI_COMMAND), command, 'Command register unchanged');
  t.equal(pci.WriteConfig32(4096, 0), ZX_ERR_OUT_OF_RANGE);
  t.equal(pci.WriteConfig16(4095, 0), ZX_ERR_OUT_OF_RANGE);
  t.equal(pci.WriteConfig16(0x41, 0), ZX_ERR_INVALID_ARGS, 'misaligned');
  device.close();
});

t.test('writes above the header reach the capability registers (Fuchsia does not fence MSI off)', async (t) => {
  const device = createTestDevice({ msi: { vectors: 4, addr64: true } });
  const pci = pciFor(device);
  const msi = findMsi(device.config);
  if (msi === null) throw new Error('no MSI');
  t.equal(pci.WriteConfig16(msi.data, 0x1_2345), ZX_OK, 'value truncated to 16 bits as C converts');
  t.equal(device.config.read16(msi.data), 0x2345);
  t.equal(pci.WriteConfig32(msi.addressLo, 0xfee0_0000), ZX_OK);
  t.equal(device.config.read32(msi.addressLo) >>> 0, 0xfee0_0000);
  t.equal(pci.WriteConfig8(msi.offset + 3, 0), ZX_OK);
  device.close();
});
