import t from 'tap';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable, ddi_intr_block_enable,
  ddi_intr_block_disable, ddi_intr_get_cap, ddi_intr_set_mask, ddi_intr_clr_mask, ddi_intr_get_pending,
  ddi_intr_remove_handler, ddi_intr_free,
  DDI_INTR_TYPE_MSI, DDI_INTR_ALLOC_NORMAL, DDI_INTR_CLAIMED, DDI_SUCCESS, DDI_EINVAL, DDI_INTR_FLAG_BLOCK,
  DDI_INTR_FLAG_EDGE, DDI_INTR_FLAG_MASKABLE, DDI_INTR_FLAG_PENDING, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { findMsi } from '../../lib/pci/capabilities.ts';
import { PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE } from '../../lib/pci/regs.ts';
import type { PciDevice } from '../../lib/pci/device.ts';
import { out, raiseMsi, testDevice, turn } from './helpers.ts';

function alloc(device: PciDevice, count: number, calls: number[]): ddi_intr_handle_t[] {
  const handles: ddi_intr_handle_t[] = [];
  const actual = out(0);
  const status = ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSI, 0, count, actual, DDI_INTR_ALLOC_NORMAL);
  if (status !== DDI_SUCCESS) throw new Error(`alloc: ${status}`);
  handles.forEach((h, i) => {
    ddi_intr_add_handler(h, (a1) => { calls.push(a1 as number); return DDI_INTR_CLAIMED; }, i, null);
  });
  return handles;
}

t.test('MSI with per-vector masking: EDGE|MASKABLE|PENDING, enabled one by one, nexus programs MME/address/data', async (t) => {
  const device = testDevice(t, { msi: { vectors: 8, perVectorMask: true, addr64: true } });
  const calls: number[] = [];
  const handles = alloc(device, 4, calls);
  const caps = out(0);
  t.equal(ddi_intr_get_cap(handles[0] ?? null, caps), DDI_SUCCESS);
  t.equal(caps.value, DDI_INTR_FLAG_EDGE | DDI_INTR_FLAG_MASKABLE | DDI_INTR_FLAG_PENDING, 'MSI64 hidden, no BLOCK');
  for (const h of handles) t.equal(ddi_intr_enable(h), DDI_SUCCESS);
  const msi = findMsi(device.config);
  if (msi === null) throw new Error('no MSI');
  const control = device.config.read16(msi.offset + PCI_MSI_FLAGS);
  t.equal((control & PCI_MSI_FLAGS_QSIZE) >> 4, 2, 'MME = log2(4 allocated)');
  t.ok(control & PCI_MSI_FLAGS_ENABLE, 'MSI Enable');
  t.equal((device.config.read32(msi.addressLo) & 0xfff00000) >>> 0, 0xfee00000, 'x86 address');
  t.equal(device.config.read32(msi.addressHi ?? 0), 0, 'upper address');
  t.equal(device.config.read16(msi.data) & 0x1f, 0, 'data aligned for the block');
  raiseMsi(device, 3);
  raiseMsi(device, 1);
  await turn();
  t.same(calls.sort(), [1, 3]);
  raiseMsi(device, 5);
  await turn();
  t.same(calls.length, 2, 'a vector beyond the allocated block is not delivered (MME)');
});

t.test('MSI mask bit: masked raise is pending, clr_mask delivers exactly once', async (t) => {
  const device = testDevice(t, { msi: { vectors: 4, perVectorMask: true } });
  const calls: number[] = [];
  const handles = alloc(device, 2, calls);
  for (const h of handles) ddi_intr_enable(h);
  const h1 = handles[1] ?? null;
  const msi = findMsi(device.config);
  t.equal(ddi_intr_set_mask(h1), DDI_SUCCESS);
  t.equal((device.config.read32(msi?.mask ?? 0) >>> 1) & 1, 1, 'mask bit 1 set');
  raiseMsi(device, 1);
  await turn();
  t.same(calls, []);
  const p = out(-1);
  t.equal(ddi_intr_get_pending(h1, p), DDI_SUCCESS);
  t.equal(p.value, 1, 'vector 1 pending');
  t.equal(ddi_intr_get_pending(handles[0] ?? null, p), DDI_SUCCESS);
  t.equal(p.value, 0, 'vector 0 is not (bit inum, not illumos\' & ~(1 >> inum))');
  t.equal(ddi_intr_clr_mask(h1), DDI_SUCCESS);
  await turn();
  await turn();
  t.same(calls, [1], 'exactly once');
});

t.test('MSI without per-vector masking: BLOCK; enable → EINVAL, block_enable delivers, block_disable', async (t) => {
  const device = testDevice(t, { msi: { vectors: 4 } });
  const calls: number[] = [];
  const handles = alloc(device, 4, calls);
  const caps = out(0);
  ddi_intr_get_cap(handles[0] ?? null, caps);
  t.equal(caps.value, DDI_INTR_FLAG_EDGE | DDI_INTR_FLAG_BLOCK);
  t.equal(ddi_intr_enable(handles[0] ?? null), DDI_EINVAL, 'BLOCK handles need block_enable');
  t.equal(ddi_intr_set_mask(handles[0] ?? null), DDI_EINVAL, 'not maskable (and not enabled)');
  t.equal(ddi_intr_get_pending(handles[0] ?? null, out(0)), DDI_EINVAL, 'no PENDING cap');
  t.equal(ddi_intr_block_enable(handles, 4), DDI_SUCCESS);
  t.equal(ddi_intr_block_enable(handles, 4), DDI_EINVAL, 'already enabled');
  t.equal(ddi_intr_disable(handles[0] ?? null), DDI_EINVAL, 'BLOCK handles need block_disable');
  const msi = findMsi(device.config);
  t.equal((device.config.read16((msi?.offset ?? 0) + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_QSIZE) >> 4, 2, 'MME = 2');
  raiseMsi(device, 0);
  raiseMsi(device, 2);
  await turn();
  t.same(calls.sort(), [0, 2]);
  t.equal(ddi_intr_remove_handler(handles[0] ?? null), DDI_EINVAL, 'remove while ENABLE');
  t.equal(ddi_intr_block_disable(handles, 4), DDI_SUCCESS);
  t.equal(device.config.read16((msi?.offset ?? 0) + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE, 0, 'MSI Enable cleared');
  raiseMsi(device, 1);
  await turn();
  t.same(calls.length, 2, 'nothing after block_disable');
  for (const h of handles) {
    t.equal(ddi_intr_remove_handler(h), DDI_SUCCESS);
    t.equal(ddi_intr_free(h), DDI_SUCCESS);
  }
});

t.test('block_enable refuses MSI-X, mixed states, bad counts, repeats and foreign handles', (t) => {
  const device = testDevice(t, { msi: { vectors: 4 } });
  const handles = alloc(device, 2, []);
  t.equal(ddi_intr_block_enable(null, 2), DDI_EINVAL);
  t.equal(ddi_intr_block_enable(handles, 0), DDI_EINVAL, 'count 0');
  t.equal(ddi_intr_block_enable(handles, 3), DDI_EINVAL, 'count past the array');
  t.equal(ddi_intr_block_enable(handles, 1.5), DDI_EINVAL, 'count not an integer');
  t.equal(ddi_intr_block_enable([handles[0] ?? null, handles[0] ?? null], 2), DDI_EINVAL, 'same handle twice');
  t.equal(ddi_intr_block_enable([handles[0] ?? null, {} as ddi_intr_handle_t], 2), DDI_EINVAL, 'plain object');
  const other = testDevice(t, { msi: { vectors: 4 } });
  const foreign = alloc(other, 1, []);
  t.equal(ddi_intr_block_enable([handles[0] ?? null, foreign[0] ?? null], 2), DDI_EINVAL, 'two devices');
  t.equal(device.irq.activeIndex, null, 'nothing was routed by the refused calls');
  t.end();
});
