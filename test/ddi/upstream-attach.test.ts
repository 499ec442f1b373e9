/**
 * Issue 11 items 9–11, from illumos: ddi_dev_info is attach's dip — the framework has already set
 * Command (pcie_initchild: Memory Space, Bus Master) —, the single-handle ddi_intr_alloc idiom, and a
 * failed ddi_intr_enable that leaves every other owner of the device as it was.
 */
import t from 'tap';
import { createTestDevice, TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, VFIO_PCI_MSIX_IRQ_INDEX, findMsix,
} from 'vfio-ddk';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import {
  DDI_FAILURE, DDI_INTR_ALLOC_STRICT, DDI_INTR_FLAG_BLOCK, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSI, DDI_INTR_TYPE_MSIX, DDI_SUCCESS,
  ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_enable, ddi_intr_block_disable, ddi_intr_enable,
  ddi_intr_free, ddi_intr_remove_handler, ddi_intr_get_cap, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { out, raiseMsi, turns } from './helpers.ts';

t.test('ddi_dev_info applies pcie_command_default before attach: Memory Space and Bus Master set, INTx Disable cleared', async (t) => {
  const device = createTestDevice({ msi: { vectors: 1 }, intx: true });
  t.teardown(() => device.close());
  device.config.write16(PCI_COMMAND, PCI_COMMAND_INTX_DISABLE); // whatever firmware left
  ddi_dev_info(device);
  const command = device.config.read16(PCI_COMMAND);
  t.equal(command & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  t.equal(command & PCI_COMMAND_INTX_DISABLE, 0, 'pcie_command_default_fw does not keep INTx Disable');

  // An illumos driver's attach never touches PCI_COMMAND; its MSI still arrives (Bus Master is on).
  const h = out<ddi_intr_handle_t | null>(null);
  t.equal(ddi_intr_alloc(ddi_dev_info(device), h, DDI_INTR_TYPE_MSI, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_SUCCESS,
    'the &sc->intr_handle idiom: an out-object as the handle array for count 1');
  let calls = 0;
  t.equal(ddi_intr_add_handler(h.value, () => { calls++; return DDI_INTR_CLAIMED; }, null, null), DDI_SUCCESS);
  const cap = out(0);
  ddi_intr_get_cap(h.value, cap);
  const enable = (cap.value & DDI_INTR_FLAG_BLOCK) !== 0 ? ddi_intr_block_enable(h, 1) : ddi_intr_enable(h.value);
  t.equal(enable, DDI_SUCCESS, 'block_enable(&sc->intr_handle, 1) is written block_enable(h, 1)');
  raiseMsi(device, 0);
  await turns(3);
  t.equal(calls, 1, 'the MSI reached the handler with no driver write to Command');
  t.equal(cap.value & DDI_INTR_FLAG_BLOCK, DDI_INTR_FLAG_BLOCK, 'MSI without per-vector masking: BLOCK (B.4)');
  ddi_intr_block_disable(h, 1);
  ddi_intr_remove_handler(h.value);
  t.equal(ddi_intr_free(h.value), DDI_SUCCESS);
});

t.test('a failed ddi_intr_enable changes nothing: another owner of the MSI-X vector keeps its mask, line and Enable', async (t) => {
  const device = createTestDevice({ msix: { vectors: 4 } });
  t.teardown(() => device.close());
  const dip = ddi_dev_info(device);
  const msix = findMsix(device.config);
  if (msix === null) throw new Error('no MSI-X');
  // Another owner (a driver's own line) routes vector 1 first.
  const other = new IrqLine('other owner');
  let otherFires = 0;
  let otherDetached = 0;
  other.setConsumer({ fire: () => { otherFires++; }, detached: () => { otherDetached++; } });
  device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 1, other);

  const handles: ddi_intr_handle_t[] = [];
  t.equal(ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSIX, 1, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
  const h = handles[0] as ddi_intr_handle_t;
  ddi_intr_add_handler(h, () => DDI_INTR_CLAIMED, null, null);
  const entryCtrl = msix.tableOffset + PCI_MSIX_ENTRY_SIZE * 1 + PCI_MSIX_ENTRY_VECTOR_CTRL;
  const maskBefore = device.bar(msix.tableBar).read32(entryCtrl) & PCI_MSIX_ENTRY_CTRL_MASKBIT;
  t.equal(ddi_intr_enable(h), DDI_FAILURE, 'the vector is routed elsewhere');
  t.equal(device.bar(msix.tableBar).read32(entryCtrl) & PCI_MSIX_ENTRY_CTRL_MASKBIT, maskBefore, 'its entry mask untouched');
  t.equal(otherDetached, 0, 'the other owner\'s line is still attached');
  t.equal(device.config.read16(msix.offset + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_ENABLE, 'MSI-X Enable still set');
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 1);
  await turns(3);
  t.equal(otherFires, 1, 'and its interrupts still arrive');
  ddi_intr_remove_handler(h);
  ddi_intr_free(h);
});
