import t from 'tap';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable, ddi_intr_dup_handler,
  ddi_intr_remove_handler, ddi_intr_free,
  DDI_INTR_TYPE_MSIX, DDI_INTR_TYPE_MSI, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_SUCCESS, DDI_EINVAL, DDI_FAILURE,
  type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { findMsix } from '../../lib/pci/capabilities.ts';
import { PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL } from '../../lib/pci/regs.ts';
import type { PciDevice } from '../../lib/pci/device.ts';
import { out, raiseMsix, testDevice, turn } from './helpers.ts';

function allocMsix(device: PciDevice, count: number, type = DDI_INTR_TYPE_MSIX): ddi_intr_handle_t[] {
  const handles: ddi_intr_handle_t[] = [];
  const status = ddi_intr_alloc(ddi_dev_info(device), handles, type, 0, count, out(0), DDI_INTR_ALLOC_STRICT);
  if (status !== DDI_SUCCESS) throw new Error(`alloc: ${status}`);
  return handles;
}

function entryWord(device: PciDevice, inum: number, field: number): number {
  const msix = findMsix(device.config);
  return device.bar(msix?.tableBar ?? 1).read32((msix?.tableOffset ?? 0) + 16 * inum + field);
}

t.test('a dup on MSI-X copies the entry and fires the original handler from both entries', async (t) => {
  const device = testDevice(t, { msix: { vectors: 8 } });
  const [org] = allocMsix(device, 2);
  const calls: unknown[][] = [];
  t.equal(ddi_intr_add_handler(org ?? null, (a1, a2) => { calls.push([a1, a2]); return DDI_INTR_CLAIMED; }, 'a', 'b'), DDI_SUCCESS);
  t.equal(ddi_intr_enable(org ?? null), DDI_SUCCESS);
  const dup = out<ddi_intr_handle_t | null>(null);
  t.equal(ddi_intr_dup_handler(org ?? null, 5, dup), DDI_SUCCESS);
  t.not(dup.value, null);
  t.equal(entryWord(device, 5, PCI_MSIX_ENTRY_DATA), entryWord(device, 0, PCI_MSIX_ENTRY_DATA), 'data copied');
  t.equal(entryWord(device, 5, PCI_MSIX_ENTRY_LOWER_ADDR), entryWord(device, 0, PCI_MSIX_ENTRY_LOWER_ADDR), 'address copied');
  t.equal(ddi_intr_enable(dup.value), DDI_SUCCESS, 'the dup is enabled like any handle');
  t.equal(entryWord(device, 5, PCI_MSIX_ENTRY_DATA), entryWord(device, 0, PCI_MSIX_ENTRY_DATA), 'still the original message');
  raiseMsix(device, 0);
  await turn();
  raiseMsix(device, 5);
  await turn();
  t.same(calls, [['a', 'b'], ['a', 'b']], 'both entries run the original handler with its args');

  t.equal(ddi_intr_remove_handler(dup.value), DDI_EINVAL, 'dup ENABLE: remove refused');
  t.equal(ddi_intr_free(dup.value), DDI_EINVAL, 'dup must be ADDED to be freed');
  t.equal(ddi_intr_disable(dup.value), DDI_SUCCESS);
  t.equal(ddi_intr_remove_handler(dup.value), DDI_SUCCESS, 'remove on a dup: success, no action');
  t.equal(ddi_intr_disable(org ?? null), DDI_SUCCESS);
  t.equal(ddi_intr_remove_handler(org ?? null), DDI_FAILURE, 'original with a dup outstanding → DDI_FAILURE');
  t.equal(ddi_intr_free(dup.value), DDI_SUCCESS);
  t.equal(entryWord(device, 5, PCI_MSIX_ENTRY_VECTOR_CTRL) & 1, 1, 'the dup entry is masked again');
  t.equal(ddi_intr_free(dup.value), DDI_EINVAL, 'a freed dup is no handle');
  t.equal(ddi_intr_remove_handler(org ?? null), DDI_SUCCESS, 'dup count back to 0');
});

t.test('dup_handler argument and state rules (B.3)', (t) => {
  const device = testDevice(t, { msix: { vectors: 8 } });
  const [org, second] = allocMsix(device, 2);
  const dup = out<ddi_intr_handle_t | null>(null);
  t.equal(ddi_intr_dup_handler(org ?? null, 4, dup), DDI_EINVAL, 'original still ALLOC (no handler)');
  ddi_intr_add_handler(org ?? null, () => DDI_INTR_CLAIMED, null, null);
  t.equal(ddi_intr_dup_handler(null, 4, dup), DDI_EINVAL, 'NULL org');
  t.equal(ddi_intr_dup_handler(org ?? null, -1, dup), DDI_EINVAL, 'dup_inum < 0');
  t.equal(ddi_intr_dup_handler(org ?? null, 4, null), DDI_EINVAL, 'NULL dup pointer');
  t.equal(ddi_intr_dup_handler(org ?? null, 4, out<ddi_intr_handle_t | null>(second ?? null)), DDI_EINVAL, '*dup not NULL');
  t.equal(ddi_intr_dup_handler(org ?? null, 8, dup), DDI_EINVAL, 'dup_inum beyond the table');
  t.equal(ddi_intr_dup_handler(org ?? null, 1, dup), DDI_EINVAL, 'dup_inum already allocated');
  t.equal(ddi_intr_dup_handler(org ?? null, 'x' as unknown as number, dup), DDI_EINVAL, 'dup_inum not a number');
  t.equal(dup.value, null, 'out untouched on failure');
  t.equal(ddi_intr_dup_handler(org ?? null, 4, dup), DDI_SUCCESS, 'dup while the original is ADDED');
  const again = out<ddi_intr_handle_t | null>(null);
  t.equal(ddi_intr_dup_handler(org ?? null, 4, again), DDI_EINVAL, 'entry 4 is already a dup');
  t.equal(ddi_intr_dup_handler(dup.value, 6, again), DDI_EINVAL, 'a dup cannot be duplicated');
  const alloc = ddi_intr_alloc(ddi_dev_info(device), [], DDI_INTR_TYPE_MSIX, 4, 1, out(0), DDI_INTR_ALLOC_STRICT);
  t.equal(alloc, DDI_EINVAL, 'allocating an inum used by a dup');
  t.end();
});

t.test('dup_handler refuses MSI handles', (t) => {
  const device = testDevice(t, { msi: { vectors: 2, perVectorMask: true } });
  const [h] = allocMsix(device, 1, DDI_INTR_TYPE_MSI);
  ddi_intr_add_handler(h ?? null, () => DDI_INTR_CLAIMED, null, null);
  t.equal(ddi_intr_dup_handler(h ?? null, 1, out<ddi_intr_handle_t | null>(null)), DDI_EINVAL);
  t.end();
});
