/**
 * The DDI kit when its device is taken away or reset, on the emulated backend (hw-tests/
 * surprise-removal.test.ts and reset-under-load.test.ts do the same on real devices):
 * * removal (requestRemoval(), as VFIO's device request): DDI_DEVI_REMOVE_EVENT handlers run while the
 *   device is still open; then no interrupt handler runs again — not even for a fire already
 *   scheduled — and the later calls return the documented statuses (services/events.ts);
 * * reset: the nexus writes the MSI / MSI-X settings of the enabled handles again (ddi_intr_alloc(9F)
 *   NOTES), then posts DDI_DEVI_DEVICE_RESET_EVENT; the handlers keep running.
 */
import t from 'tap';
import {
  DDI_DEVI_BUS_RESET_EVENT, DDI_DEVI_DEVICE_RESET_EVENT, DDI_DEVI_INSERT_EVENT, DDI_DEVI_REMOVE_EVENT, DDI_FAILURE,
  DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSI, DDI_INTR_TYPE_MSIX, DDI_SUCCESS, ddi_add_event_handler,
  ddi_dev_info, ddi_get_eventcookie, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_clr_mask, ddi_intr_disable, ddi_intr_dup_handler,
  ddi_intr_enable,
  ddi_intr_free, ddi_intr_get_pending, ddi_intr_remove_handler, ddi_remove_event_handler, type ddi_callback_id_t,
  type ddi_eventcookie_t, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { createTestDevice, type EmuPciDevice } from 'vfio-ddk/emu';
import { findMsi, findMsix } from '../../lib/pci/capabilities.ts';
import {
  PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
} from '../../lib/pci/regs.ts';
import type { PciDevice } from '../../lib/pci/device.ts';
import { out, raiseMsi, raiseMsix, testDevice, turn } from './helpers.ts';

/** `count` vectors of `type` allocated, each with a handler that records its inum, enabled. */
function enabled(device: PciDevice, type: number, count: number, runs: number[]): ddi_intr_handle_t[] {
  const handles: ddi_intr_handle_t[] = [];
  if (ddi_intr_alloc(ddi_dev_info(device), handles, type, 0, count, out(0), DDI_INTR_ALLOC_STRICT) !== DDI_SUCCESS) throw new Error('alloc');
  for (const h of handles) {
    ddi_intr_add_handler(h, () => { runs.push(h.inum); return DDI_INTR_CLAIMED; }, null, null);
    if (ddi_intr_enable(h) !== DDI_SUCCESS) throw new Error('enable');
  }
  return handles;
}

function cookie(device: PciDevice, name: string): ddi_eventcookie_t {
  const c = out<ddi_eventcookie_t | null>(null);
  if (ddi_get_eventcookie(ddi_dev_info(device), name, c) !== DDI_SUCCESS || c.value === null) throw new Error(`no cookie for ${name}`);
  return c.value;
}

t.test('removal: the REMOVE event runs while the device is open, then no handler runs again', async (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const runs: number[] = [];
  const handles = enabled(device, DDI_INTR_TYPE_MSIX, 2, runs);
  const dip = ddi_dev_info(device);
  const remove = cookie(device, DDI_DEVI_REMOVE_EVENT);
  const seen: unknown[][] = [];
  const id = out<ddi_callback_id_t | null>(null);
  t.equal(ddi_add_event_handler(dip, remove, (d, c, arg, impl) => { seen.push([d === dip, c === remove, arg, impl, device.closed]); }, 'soft', id), DDI_SUCCESS);
  raiseMsix(device, 0);
  await turn();
  t.same(runs, [0], 'the handler runs before the removal');
  raiseMsix(device, 1); // scheduled on the loop, not yet delivered
  (device as EmuPciDevice).requestRemoval();
  t.same(seen, [[true, true, 'soft', null, false]], 'handler(dip, cookie, arg, impl_data) while the device was still open');
  await turn();
  t.same(runs, [0], 'the fire scheduled before the removal is dropped');
  const [h0, h1] = handles as [ddi_intr_handle_t, ddi_intr_handle_t];
  t.equal(ddi_intr_clr_mask(h0), DDI_FAILURE);
  t.equal(ddi_intr_get_pending(h0, out(0)), DDI_FAILURE);
  t.equal(ddi_intr_disable(h0), DDI_SUCCESS, 'teardown still succeeds');
  t.equal(ddi_intr_enable(h0), DDI_FAILURE, 'enable on a removed device: DDI_FAILURE');
  t.equal(ddi_intr_disable(h1), DDI_SUCCESS);
  for (const h of handles) {
    t.equal(ddi_intr_remove_handler(h), DDI_SUCCESS);
    t.equal(ddi_intr_free(h), DDI_SUCCESS);
  }
  t.equal(ddi_remove_event_handler(id.value), DDI_SUCCESS, 'the event handler is removed as detach(9E) must');
  t.equal(ddi_remove_event_handler(id.value), DDI_FAILURE, 'a second time: DDI_FAILURE');
  t.equal(ddi_get_eventcookie(dip, DDI_DEVI_REMOVE_EVENT, out(null)), DDI_FAILURE, 'no cookies for a removed node');
});

t.test('reset: the nexus re-programs lost MSI-X settings, then posts DEVICE_RESET; interrupts keep coming', async (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const runs: number[] = [];
  enabled(device, DDI_INTR_TYPE_MSIX, 2, runs);
  const msix = findMsix(device.config);
  if (msix === null) throw new Error('no MSI-X');
  const table = device.bar(msix.tableBar);
  const at = (inum: number) => msix.tableOffset + 16 * inum;
  const programmed = [0, 1].map((i) => [table.read32(at(i) + PCI_MSIX_ENTRY_LOWER_ADDR), table.read32(at(i) + PCI_MSIX_ENTRY_DATA)]);
  // What a reset that loses the settings leaves (the manual page's case): entries masked and blank, Enable off.
  for (const i of [0, 1]) {
    table.write32(at(i) + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
    table.write32(at(i) + PCI_MSIX_ENTRY_LOWER_ADDR, 0);
    table.write32(at(i) + PCI_MSIX_ENTRY_DATA, 0);
  }
  const control = msix.offset + PCI_MSIX_FLAGS;
  device.config.write16(control, device.config.read16(control) & ~PCI_MSIX_FLAGS_ENABLE);
  const atEvent: unknown[] = [];
  ddi_add_event_handler(ddi_dev_info(device), cookie(device, DDI_DEVI_DEVICE_RESET_EVENT), () => {
    atEvent.push(table.read32(at(1) + PCI_MSIX_ENTRY_VECTOR_CTRL), (device.config.read16(control) & PCI_MSIX_FLAGS_ENABLE) !== 0);
  }, null, out(null));
  const busId = out<ddi_callback_id_t | null>(null);
  let bus = 0;
  ddi_add_event_handler(ddi_dev_info(device), cookie(device, DDI_DEVI_BUS_RESET_EVENT), () => { bus++; }, null, busId);
  device.reset();
  t.same(atEvent, [0, true], 'the event handler already sees the vector unmasked and MSI-X enabled');
  t.equal(bus, 0, 'a function reset is not a bus reset');
  t.same([0, 1].map((i) => [table.read32(at(i) + PCI_MSIX_ENTRY_LOWER_ADDR), table.read32(at(i) + PCI_MSIX_ENTRY_DATA)]), programmed,
    'each entry holds its message again');
  raiseMsix(device, 1);
  raiseMsix(device, 0);
  await turn();
  t.same(runs.sort(), [0, 1], 'both handlers run after the reset');
});

t.test('reset: an enabled MSI-X dup gets its original\'s message again', async (t) => {
  const device = testDevice(t, { msix: { vectors: 8 } });
  const runs: number[] = [];
  const [org] = enabled(device, DDI_INTR_TYPE_MSIX, 1, runs) as [ddi_intr_handle_t];
  const dup = out<ddi_intr_handle_t | null>(null);
  t.equal(ddi_intr_dup_handler(org, 5, dup), DDI_SUCCESS);
  t.equal(ddi_intr_enable(dup.value), DDI_SUCCESS);
  const msix = findMsix(device.config);
  if (msix === null) throw new Error('no MSI-X');
  const table = device.bar(msix.tableBar);
  const entry5 = msix.tableOffset + 16 * 5;
  const data = table.read32(entry5 + PCI_MSIX_ENTRY_DATA);
  table.write32(entry5 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
  table.write32(entry5 + PCI_MSIX_ENTRY_DATA, 0);
  device.reset();
  t.equal(table.read32(entry5 + PCI_MSIX_ENTRY_DATA), data, 'the dup entry carries the original\'s data again');
  t.equal(table.read32(entry5 + PCI_MSIX_ENTRY_VECTOR_CTRL), 0, 'unmasked');
  raiseMsix(device, 5);
  await turn();
  t.same(runs, [0], 'a fire on the dup entry runs the original\'s handler');
});

t.test('reset with MSI (per-vector masking): MME, message, mask bits and Enable written again', async (t) => {
  const device = testDevice(t, { msi: { vectors: 4, perVectorMask: true } });
  const runs: number[] = [];
  enabled(device, DDI_INTR_TYPE_MSI, 2, runs);
  const msi = findMsi(device.config);
  if (msi === null || msi.mask === null) throw new Error('no MSI with PVM');
  const control = msi.offset + PCI_MSI_FLAGS;
  const before = [device.config.read16(control), device.config.read32(msi.addressLo), device.config.read16(msi.data), device.config.read32(msi.mask)];
  device.config.write16(control, 0);
  device.config.write32(msi.mask, 0xffffffff);
  device.reset();
  t.same([device.config.read16(control), device.config.read32(msi.addressLo), device.config.read16(msi.data), device.config.read32(msi.mask)],
    before, 'control (MME, Enable), address, data and the mask bits as the nexus left them');
  t.ok((device.config.read16(control) & PCI_MSI_FLAGS_ENABLE) !== 0);
  raiseMsi(device, 1);
  await turn();
  t.same(runs, [1]);
});

t.test('event services refuse what C could not be given: DDI_FAILURE, nothing thrown', async (t) => {
  const device = createTestDevice({ msix: { vectors: 1 } });
  t.teardown(() => device.close());
  const dip = ddi_dev_info(device);
  const c = out<ddi_eventcookie_t | null>(null);
  t.equal(ddi_get_eventcookie(dip, DDI_DEVI_INSERT_EVENT, c), DDI_FAILURE, 'INSERT is not served (a new node would come)');
  t.equal(ddi_get_eventcookie(dip, 'DDI:NOPE', c), DDI_FAILURE);
  t.equal(ddi_get_eventcookie(null, DDI_DEVI_REMOVE_EVENT, c), DDI_FAILURE);
  t.equal(ddi_get_eventcookie(dip, 42 as never, c), DDI_FAILURE);
  t.equal(ddi_get_eventcookie(dip, DDI_DEVI_REMOVE_EVENT, null), DDI_FAILURE);
  t.equal(c.value, null, 'nothing written');
  t.equal(ddi_get_eventcookie(dip, DDI_DEVI_REMOVE_EVENT, c), DDI_SUCCESS);
  const again = out<ddi_eventcookie_t | null>(null);
  ddi_get_eventcookie(dip, DDI_DEVI_REMOVE_EVENT, again);
  t.equal(again.value, c.value, 'one cookie per event');
  const id = out<ddi_callback_id_t | null>(null);
  t.equal(ddi_add_event_handler(dip, { name: DDI_DEVI_REMOVE_EVENT }, () => {}, null, id), DDI_FAILURE, 'a look-alike cookie');
  t.equal(ddi_add_event_handler(dip, null, () => {}, null, id), DDI_FAILURE);
  t.equal(ddi_add_event_handler(dip, c.value, null, null, id), DDI_FAILURE);
  t.equal(ddi_add_event_handler(dip, c.value, () => {}, null, null), DDI_FAILURE);
  t.equal(ddi_add_event_handler({} as never, c.value, () => {}, null, id), DDI_FAILURE);
  t.equal(ddi_remove_event_handler(null), DDI_FAILURE);
  t.equal(ddi_remove_event_handler({} as never), DDI_FAILURE);
  t.equal(id.value, null);
});

t.test('a throwing event handler is reported once and the others still run', async (t) => {
  const device = testDevice(t, { msix: { vectors: 1 } });
  const dip = ddi_dev_info(device);
  const reset = cookie(device, DDI_DEVI_DEVICE_RESET_EVENT);
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => { warnings.push(w.code ?? ''); };
  process.on('warning', onWarning);
  t.teardown(() => { process.off('warning', onWarning); });
  let after = 0;
  ddi_add_event_handler(dip, reset, () => { throw new Error('driver bug'); }, null, out(null));
  ddi_add_event_handler(dip, reset, () => { after++; }, null, out(null));
  device.reset();
  device.reset();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(after, 2);
  t.same(warnings, ['DDI_EVENT_HANDLER_THREW'], 'one warning per registration');
});

t.test('a reset whose MSI-X re-programming fails is a warning on an open device; the event is posted all the same', async (t) => {
  const device = testDevice(t, { msix: { vectors: 2 } });
  enabled(device, DDI_INTR_TYPE_MSIX, 1, []);
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => { warnings.push(w.code ?? ''); };
  process.on('warning', onWarning);
  t.teardown(() => { process.off('warning', onWarning); });
  let posted = 0;
  ddi_add_event_handler(ddi_dev_info(device), cookie(device, DDI_DEVI_DEVICE_RESET_EVENT), () => { posted++; }, null, out(null));
  const bar = device.bar.bind(device);
  // What a failing bus would do: the table BAR refuses the nexus's writes after the reset.
  device.bar = (i: number) => ({ ...bar(i), write32: () => { throw new Error('BAR write refused'); } }) as unknown as ReturnType<typeof bar>;
  device.reset();
  device.bar = bar;
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(posted, 1, 'DEVICE_RESET posted');
  t.same(warnings, ['DDI_RESET_RESTORE_FAILED']);
});
