import t from 'tap';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable, ddi_intr_remove_handler,
  ddi_intr_free, ddi_intr_set_mask, ddi_intr_clr_mask, ddi_intr_get_pending,
  DDI_INTR_TYPE_MSIX, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_SUCCESS, DDI_EINVAL, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { findMsix } from '../../lib/pci/capabilities.ts';
import {
  PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL,
} from '../../lib/pci/regs.ts';
import { out, raiseMsix, testDevice, turn } from './helpers.ts';
import type { PciDevice } from '../../lib/pci/device.ts';

/** Allocates `count` MSI-X vectors with a recording handler and enables them. */
function setup(device: PciDevice, count: number, calls: unknown[][]): ddi_intr_handle_t[] {
  const dip = ddi_dev_info(device);
  const handles: ddi_intr_handle_t[] = [];
  const actual = out(0);
  if (ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSIX, 0, count, actual, DDI_INTR_ALLOC_STRICT) !== DDI_SUCCESS) {
    throw new Error('alloc failed');
  }
  handles.forEach((h, i) => {
    ddi_intr_add_handler(h, (a1, a2) => { calls.push([i, a1, a2]); return DDI_INTR_CLAIMED; }, `arg1-${i}`, i * 10);
    ddi_intr_enable(h);
  });
  return handles;
}

function entry(device: PciDevice, inum: number): { lo: number; hi: number; data: number; ctrl: number } {
  const msix = findMsix(device.config);
  if (msix === null) throw new Error('no MSI-X');
  const bar = device.bar(msix.tableBar);
  const at = msix.tableOffset + 16 * inum;
  return {
    lo: bar.read32(at + PCI_MSIX_ENTRY_LOWER_ADDR), hi: bar.read32(at + PCI_MSIX_ENTRY_UPPER_ADDR),
    data: bar.read32(at + PCI_MSIX_ENTRY_DATA), ctrl: bar.read32(at + PCI_MSIX_ENTRY_VECTOR_CTRL),
  };
}

t.test('a raise on the device runs the handler with arg1 and arg2, on the event loop', async (t) => {
  const device = testDevice(t, { msix: { vectors: 8 } });
  const calls: unknown[][] = [];
  setup(device, 4, calls);
  raiseMsix(device, 2);
  t.same(calls, [], 'not inside the register write');
  await turn();
  t.same(calls, [[2, 'arg1-2', 20]]);
  raiseMsix(device, 0);
  raiseMsix(device, 3);
  await turn();
  t.same(calls.slice(1), [[0, 'arg1-0', 0], [3, 'arg1-3', 30]]);
});

t.test('enable programs the MSI-X entry like the nexus: address, data, unmasked, MSI-X Enable', (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const msix = findMsix(device.config);
  const handles = setup(device, 2, []);
  const e0 = entry(device, 0);
  const e1 = entry(device, 1);
  t.equal((e0.lo & 0xfff00000) >>> 0, 0xfee00000, 'x86 MSI address window');
  t.equal(e0.hi, 0);
  t.not(e0.data, e1.data, 'each entry gets its own vector');
  t.equal(e0.ctrl & 1, 0, 'entry 0 unmasked');
  t.equal(entry(device, 2).ctrl & 1, 1, 'an entry never enabled stays masked');
  t.ok((device.config.read16((msix?.offset ?? 0) + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE) !== 0, 'MSI-X Enable set');
  t.equal(ddi_intr_disable(handles[1] ?? null), DDI_SUCCESS);
  t.equal(entry(device, 1).ctrl & 1, 1, 'disable masks the entry again');
  t.equal(ddi_intr_disable(handles[0] ?? null), DDI_SUCCESS);
  t.equal(device.config.read16((msix?.offset ?? 0) + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE, 0, 'last disable clears MSI-X Enable');
  t.equal(device.irq.activeIndex, null, 'no vector routed any more');
  t.end();
});

t.test('masked raise → pending → clr_mask delivers exactly once', async (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const calls: unknown[][] = [];
  const [h] = setup(device, 1, calls);
  const pending = out(-1);
  t.equal(ddi_intr_get_pending(h ?? null, pending), DDI_SUCCESS);
  t.equal(pending.value, 0, 'nothing pending at first');
  t.equal(ddi_intr_set_mask(h ?? null), DDI_SUCCESS);
  t.equal(entry(device, 0).ctrl & 1, 1, 'vector control mask bit set');
  raiseMsix(device, 0);
  raiseMsix(device, 0);
  await turn();
  t.same(calls, [], 'masked: not delivered');
  t.equal(ddi_intr_get_pending(h ?? null, pending), DDI_SUCCESS);
  t.equal(pending.value, 1, 'PBA bit reported');
  t.equal(ddi_intr_clr_mask(h ?? null), DDI_SUCCESS);
  t.same(calls, [], 'clr_mask delivers on the loop, not inside the call');
  await turn();
  await turn();
  t.equal(calls.length, 1, 'delivered exactly once');
  t.equal(ddi_intr_get_pending(h ?? null, pending), DDI_SUCCESS);
  t.equal(pending.value, 0, 'no longer pending');
});

t.test('the IrqLine latch alone masks too (VFIO, where capability writes do not reach the device)', async (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const calls: unknown[][] = [];
  const [h] = setup(device, 1, calls);
  t.equal(ddi_intr_set_mask(h ?? null), DDI_SUCCESS);
  device.irq.trigger(2, 0); // loopback: the host signals the vector's eventfd, as VFIO would
  await turn();
  t.same(calls, []);
  const pending = out(-1);
  t.equal(ddi_intr_get_pending(h ?? null, pending), DDI_SUCCESS);
  t.equal(pending.value, 1, 'a fire latched in the line is pending');
  t.equal(ddi_intr_clr_mask(h ?? null), DDI_SUCCESS);
  await turn();
  await turn();
  t.equal(calls.length, 1);
});

t.test('MSI-X Function Mask set: set_mask / clr_mask succeed and change nothing (B.3)', async (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const calls: unknown[][] = [];
  const [h] = setup(device, 1, calls);
  const control = (findMsix(device.config)?.offset ?? 0) + PCI_MSIX_FLAGS;
  device.config.write16(control, device.config.read16(control) | PCI_MSIX_FLAGS_MASKALL);
  t.equal(ddi_intr_set_mask(h ?? null), DDI_SUCCESS);
  t.equal(entry(device, 0).ctrl & 1, 0, 'entry mask bit untouched');
  raiseMsix(device, 0);
  await turn();
  t.same(calls, [], 'the function mask holds it');
  device.config.write16(control, device.config.read16(control) & ~PCI_MSIX_FLAGS_MASKALL);
  await turn();
  t.equal(calls.length, 1, 'clearing the function mask delivers: set_mask did not mask the line');
});

t.test('2048 MSI-X vectors allocated, enabled, each delivering, disabled and freed', async (t) => {
  const device = testDevice(t, { msix: { vectors: 2048 } });
  const calls: unknown[][] = [];
  const handles = setup(device, 2048, calls);
  t.equal(handles.length, 2048);
  raiseMsix(device, 0);
  raiseMsix(device, 1000);
  raiseMsix(device, 2047);
  await turn();
  t.same(calls.map((c) => c[0]), [0, 1000, 2047]);
  let failures = 0;
  for (const h of handles) {
    if (ddi_intr_disable(h) !== DDI_SUCCESS) failures++;
    if (ddi_intr_remove_handler(h) !== DDI_SUCCESS) failures++;
    if (ddi_intr_free(h) !== DDI_SUCCESS) failures++;
  }
  t.equal(failures, 0);
  t.equal(device.irq.activeIndex, null);
  raiseMsix(device, 5);
  await turn();
  t.equal(calls.length, 3, 'nothing delivered after free');
});

t.test('get_pending needs no state: a handle still in ALLOC reads its PBA bit', (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const dip = ddi_dev_info(device);
  const handles: ddi_intr_handle_t[] = [];
  ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSIX, 0, 2, out(0), DDI_INTR_ALLOC_STRICT);
  ddi_intr_add_handler(handles[1] ?? null, () => DDI_INTR_CLAIMED, null, null);
  ddi_intr_enable(handles[1] ?? null); // MSI-X Enable on; entry 0 stays masked
  raiseMsix(device, 0);
  const p = out(-1);
  t.equal(ddi_intr_get_pending(handles[0] ?? null, p), DDI_SUCCESS);
  t.equal(p.value, 1, 'entry 0 (ALLOC, masked) is pending in the PBA');
  t.equal(ddi_intr_get_pending(handles[1] ?? null, p), DDI_SUCCESS);
  t.equal(p.value, 0);
  t.equal(ddi_intr_get_pending(handles[0] ?? null, null), DDI_EINVAL, 'NULL out');
  t.end();
});

t.test('MSI-X Function Mask set: clr_mask leaves a masked entry masked', async (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const calls: unknown[][] = [];
  const [h] = setup(device, 1, calls);
  t.equal(ddi_intr_set_mask(h ?? null), DDI_SUCCESS);
  const control = (findMsix(device.config)?.offset ?? 0) + PCI_MSIX_FLAGS;
  device.config.write16(control, device.config.read16(control) | PCI_MSIX_FLAGS_MASKALL);
  t.equal(ddi_intr_clr_mask(h ?? null), DDI_SUCCESS);
  t.equal(entry(device, 0).ctrl & 1, 1, 'entry still masked');
  device.config.write16(control, device.config.read16(control) & ~PCI_MSIX_FLAGS_MASKALL);
  raiseMsix(device, 0);
  await turn();
  t.same(calls, [], 'still masked after the function mask is lifted');
  t.equal(ddi_intr_clr_mask(h ?? null), DDI_SUCCESS);
  await turn();
  await turn();
  t.equal(calls.length, 1);
});
