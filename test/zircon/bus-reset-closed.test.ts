/** ResetDevice, and every protocol call once the device is gone (ZX_ERR_PEER_CLOSED). */
import t from 'tap';
import { createEduDevice, createTestDevice } from 'vfio-ddk/emu';
import {
  PCI_INTERRUPT_MODE_DISABLED, PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_MSI, ZX_ERR_BAD_STATE, ZX_ERR_CANCELED, ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_PEER_CLOSED, ZX_OK, zx_interrupt_wait,
} from 'vfio-ddk/zircon';
import { out, pciFor, within } from './bus-fixtures.ts';

t.test('ResetDevice: a function-level reset; NOT_SUPPORTED without one (the edu); BAD_STATE with a mode set', async (t) => {
  const device = createTestDevice({ msi: { vectors: 1 } });
  const pci = pciFor(device);
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 1), ZX_OK);
  t.equal(pci.ResetDevice(), ZX_ERR_BAD_STATE, 'the reset would clear the MSI programming the bus owns');
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0), ZX_OK);
  t.equal(pci.ResetDevice(), ZX_OK);
  device.close();
  const edu = createEduDevice();
  t.equal(pciFor(edu).ResetDevice(), ZX_ERR_NOT_SUPPORTED, 'QEMU edu has no FLR');
  edu.close();
});

t.test('after the device closes every call is PEER_CLOSED, and a mapped interrupt\'s wait ends', async (t) => {
  const device = createTestDevice({ intx: true, msi: { vectors: 1 } });
  const pci = pciFor(device);
  t.ok(pci.is_valid());
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_LEGACY, 1), ZX_OK);
  const irq = out(0);
  t.equal(pci.MapInterrupt(0, irq), ZX_OK);
  const wait = zx_interrupt_wait(irq.value, null);
  device.close();
  t.notOk(pci.is_valid());
  t.equal(await within(wait, 200), ZX_ERR_CANCELED, 'the wait ends CANCELED: the bus destroyed the function\'s interrupt');
  const v = out<never>(null as never);
  const calls: [string, () => number][] = [
    ['GetDeviceInfo', () => pci.GetDeviceInfo(v)], ['GetBar', () => pci.GetBar(0, v)], ['GetBti', () => pci.GetBti(0, v)],
    ['SetBusMastering', () => pci.SetBusMastering(true)], ['ResetDevice', () => pci.ResetDevice()],
    ['AckInterrupt', () => pci.AckInterrupt()], ['MapInterrupt', () => pci.MapInterrupt(0, v)],
    ['GetInterruptModes', () => pci.GetInterruptModes(v)], ['SetInterruptMode', () => pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 1)],
    ['ReadConfig8', () => pci.ReadConfig8(0, v)], ['ReadConfig16', () => pci.ReadConfig16(0, v)], ['ReadConfig32', () => pci.ReadConfig32(0, v)],
    ['WriteConfig8', () => pci.WriteConfig8(0x40, 0)], ['WriteConfig16', () => pci.WriteConfig16(0x40, 0)], ['WriteConfig32', () => pci.WriteConfig32(0x40, 0)],
    ['GetCapabilities', () => pci.GetCapabilities(5, v)], ['GetExtendedCapabilities', () => pci.GetExtendedCapabilities(1, v)],
    ['GetFirstCapability', () => pci.GetFirstCapability(5, v)], ['GetNextCapability', () => pci.GetNextCapability(5, 0x40, v)],
    ['GetFirstExtendedCapability', () => pci.GetFirstExtendedCapability(1, v)], ['GetNextExtendedCapability', () => pci.GetNextExtendedCapability(1, 0x100, v)],
  ];
  for (const [name, call] of calls) t.equal(call(), ZX_ERR_PEER_CLOSED, name);
  t.equal(v.value, null, 'nothing written');
});
