/** pci_config_setup / teardown / get8–64 / put8–64 on emulated devices, with bad-handle and range cases. */
import t from 'tap';
import { createEduDevice } from 'vfio-ddk/emu';
import {
  DDI_FAILURE, DDI_SUCCESS, ddi_check_acc_handle, ddi_dev_info, ddi_get16, pci_config_get16, pci_config_get32,
  pci_config_get64, pci_config_get8, pci_config_put16, pci_config_put32, pci_config_put64, pci_config_put8,
  pci_config_setup, pci_config_teardown, type ddi_acc_handle_t,
} from 'vfio-ddk/ddi';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_DEVICE_ID, PCI_INTERRUPT_LINE, PCI_VENDOR_ID } from '../../lib/pci/regs.ts';

function setup(t: { teardown(fn: () => void): void }) {
  const device = createEduDevice();
  t.teardown(() => device.close());
  const dip = ddi_dev_info(device);
  const h = { value: null as ddi_acc_handle_t | null };
  if (pci_config_setup(dip, h) !== DDI_SUCCESS) throw new Error('pci_config_setup failed');
  return { device, dip, handle: h.value as ddi_acc_handle_t, out: h };
}

t.test('pci_config_get8/16/32/64 read the identity; the handle also serves ddi_get16', async (t) => {
  const { device, handle } = setup(t);
  t.equal(pci_config_get16(handle, PCI_VENDOR_ID), 0x1234);
  t.equal(pci_config_get16(handle, PCI_DEVICE_ID), 0x11e8);
  t.equal(pci_config_get8(handle, PCI_VENDOR_ID + 1), 0x12);
  t.equal(pci_config_get32(handle, PCI_VENDOR_ID), 0x11e81234);
  const lo = BigInt(device.config.read32(0));
  const hi = BigInt(device.config.read32(4));
  t.equal(pci_config_get64(handle, 0), lo | (hi << 32n), 'two 32-bit reads, low dword first');
  t.equal(ddi_get16(handle, (handle as unknown as { base: bigint }).base + BigInt(PCI_DEVICE_ID)), 0x11e8);
  t.equal(pci_config_get16(handle, PCI_COMMAND) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY, 'ddi_dev_info set Memory Space');
  t.equal(ddi_check_acc_handle(handle), DDI_SUCCESS);
});

t.test('pci_config_put8/16/32/64 write config space', async (t) => {
  const { device, handle } = setup(t);
  pci_config_put8(handle, PCI_INTERRUPT_LINE, 0x5a);
  t.equal(device.config.read8(PCI_INTERRUPT_LINE), 0x5a);
  const cmd = pci_config_get16(handle, PCI_COMMAND);
  pci_config_put16(handle, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
  t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_MEMORY, 0);
  pci_config_put16(handle, PCI_COMMAND, cmd);
  pci_config_put32(handle, PCI_BASE_ADDRESS_0, 0xffffffff);
  t.not(device.config.read32(PCI_BASE_ADDRESS_0), 0xffffffff, 'BAR sizing: read-only low bits stay');
  const writes: number[] = [];
  const orig = device.config.write32.bind(device.config);
  device.config.write32 = (offset: number, value: number) => { writes.push(offset); orig(offset, value); };
  pci_config_put64(handle, 0x40, 0x1111_2222_3333_4444n);
  t.same(writes, [0x40, 0x44], 'two 32-bit writes, low dword first');
  t.equal(ddi_check_acc_handle(handle), DDI_SUCCESS);
});

t.test('bad offsets fault the handle and read all-ones', async (t) => {
  const { device, handle } = setup(t);
  t.equal(pci_config_get32(handle, device.config.size), 0xffffffff, 'past config space');
  t.equal(ddi_check_acc_handle(handle), DDI_FAILURE);
  const b = setup(t);
  t.equal(pci_config_get16(b.handle, 1), 0xffff, 'misaligned');
  t.equal(ddi_check_acc_handle(b.handle), DDI_FAILURE);
  const c = setup(t);
  t.equal(pci_config_get8(c.handle, 'x' as never), 0xff, 'offset not a number');
  t.equal(ddi_check_acc_handle(c.handle), DDI_FAILURE);
  const d = setup(t);
  pci_config_put64(d.handle, 0x40, 'x' as never);
  t.equal(ddi_check_acc_handle(d.handle), DDI_FAILURE, 'put64 of a non-bigint');
});

t.test('pci_config_setup bad input; pci_config_teardown NULLs the handle', async (t) => {
  const { handle, out } = setup(t);
  t.equal(pci_config_setup({} as never, { value: null }), DDI_FAILURE, 'not a dip');
  t.equal(pci_config_setup(null, { value: null }), DDI_FAILURE);
  const device = createEduDevice();
  const dip = ddi_dev_info(device);
  t.equal(pci_config_setup(dip, null), DDI_FAILURE, 'NULL out-pointer');
  device.close();
  t.equal(pci_config_setup(dip, { value: null }), DDI_FAILURE, 'closed device');
  pci_config_teardown(out);
  t.equal(out.value, null);
  t.equal(pci_config_get16(handle, 0), 0xffff, 'torn-down handle reads all-ones');
  t.equal(ddi_check_acc_handle(handle), DDI_FAILURE);
  pci_config_teardown(out);
  pci_config_teardown(null);
  pci_config_teardown({ value: {} as never });
  t.equal(pci_config_get8(null, 0), 0xff, 'NULL handle');
});
