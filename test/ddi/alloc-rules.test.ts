import t from 'tap';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_free, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable,
  ddi_intr_remove_handler, ddi_intr_get_nintrs,
  DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI, DDI_INTR_TYPE_MSIX, DDI_INTR_ALLOC_NORMAL, DDI_INTR_ALLOC_STRICT,
  DDI_INTR_CLAIMED, DDI_SUCCESS, DDI_EINVAL, DDI_EAGAIN, type ddi_intr_handle_t, type dev_info_t,
} from 'vfio-ddk/ddi';
import { out, raiseMsix, testDevice, turn } from './helpers.ts';

const NORMAL = DDI_INTR_ALLOC_NORMAL;
const STRICT = DDI_INTR_ALLOC_STRICT;

function alloc(dip: dev_info_t, type: number, inum: number, count: number, behavior = STRICT): { status: number; handles: ddi_intr_handle_t[]; actual: number } {
  const handles: ddi_intr_handle_t[] = [];
  const actual = out(-1);
  const status = ddi_intr_alloc(dip, handles, type, inum, count, actual, behavior);
  return { status, handles, actual: actual.value };
}

t.test('rule 1: argument checks → DDI_EINVAL, out untouched', (t) => {
  const dip = ddi_dev_info(testDevice(t, { msix: { vectors: 8 } }));
  const actual = out(-1);
  const M = DDI_INTR_TYPE_MSIX;
  t.equal(ddi_intr_alloc(null, [], M, 0, 1, actual, STRICT), DDI_EINVAL, 'NULL dip');
  t.equal(ddi_intr_alloc({} as dev_info_t, [], M, 0, 1, actual, STRICT), DDI_EINVAL, 'plain object dip');
  t.equal(ddi_intr_alloc(dip, null, M, 0, 1, actual, STRICT), DDI_EINVAL, 'NULL h_array');
  t.equal(ddi_intr_alloc(dip, [], M, 0, 1, null, STRICT), DDI_EINVAL, 'NULL actual');
  t.equal(ddi_intr_alloc(dip, [], M, -1, 1, actual, STRICT), DDI_EINVAL, 'inum < 0');
  t.equal(ddi_intr_alloc(dip, [], M, 0, 0, actual, STRICT), DDI_EINVAL, 'count < 1');
  t.equal(ddi_intr_alloc(dip, [], M, 0, 1, actual, 2), DDI_EINVAL, 'behavior');
  t.equal(ddi_intr_alloc(dip, [], M, 0.5, 1, actual, STRICT), DDI_EINVAL, 'inum not an integer');
  t.equal(ddi_intr_alloc(dip, [], M, 0, NaN, actual, STRICT), DDI_EINVAL, 'count NaN');
  t.equal(ddi_intr_alloc(dip, [], M, 0, '1' as unknown as number, actual, STRICT), DDI_EINVAL, 'count a string');
  t.equal(ddi_intr_alloc(dip, [], 3, 0, 1, actual, STRICT), DDI_EINVAL, 'rule 2: two type bits');
  t.equal(ddi_intr_alloc(dip, [], DDI_INTR_TYPE_MSI, 0, 1, actual, STRICT), DDI_EINVAL, 'rule 2: unsupported type');
  t.equal(actual.value, -1);
  t.end();
});

t.test('h_array is filled from index 0 (not from inum as illumos does)', async (t) => {
  const device = testDevice(t, { msix: { vectors: 8 } });
  const r = alloc(ddi_dev_info(device), DDI_INTR_TYPE_MSIX, 4, 2);
  t.equal(r.status, DDI_SUCCESS);
  t.equal(r.actual, 2);
  t.equal(r.handles.length, 2, 'h_array[0] and h_array[1] only');
  let fired = -1;
  ddi_intr_add_handler(r.handles[0] ?? null, () => { fired = 4; return DDI_INTR_CLAIMED; }, null, null);
  ddi_intr_enable(r.handles[0] ?? null);
  raiseMsix(device, 4);
  await turn();
  t.equal(fired, 4, 'h_array[0] is inum 4');
});

t.test('rule 3: FIXED inum already allocated → EINVAL', (t) => {
  const dip = ddi_dev_info(testDevice(t, { intx: true }));
  t.equal(alloc(dip, DDI_INTR_TYPE_FIXED, 0, 1).status, DDI_SUCCESS);
  t.equal(alloc(dip, DDI_INTR_TYPE_FIXED, 0, 1).status, DDI_EINVAL);
  t.equal(alloc(dip, DDI_INTR_TYPE_FIXED, 1, 1).status, DDI_EINVAL, 'inum beyond nintrs (1)');
  t.end();
});

t.test('rule 5: one interrupt type per device; the type resets when every handle is freed', (t) => {
  const dip = ddi_dev_info(testDevice(t, { intx: true, msi: { vectors: 4 }, msix: { vectors: 4 } }));
  const msix = alloc(dip, DDI_INTR_TYPE_MSIX, 0, 2);
  t.equal(msix.status, DDI_SUCCESS);
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 0, 1).status, DDI_EINVAL, 'MSI while MSI-X is in use');
  t.equal(alloc(dip, DDI_INTR_TYPE_FIXED, 0, 1).status, DDI_EINVAL, 'FIXED while MSI-X is in use');
  t.equal(ddi_intr_free(msix.handles[0] ?? null), DDI_SUCCESS);
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 0, 1).status, DDI_EINVAL, 'still one MSI-X handle');
  t.equal(ddi_intr_free(msix.handles[1] ?? null), DDI_SUCCESS);
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 0, 1).status, DDI_SUCCESS, 'type reset after the last free');
  t.end();
});

t.test('rule 6: count against nintrs, and the vectors themselves', (t) => {
  const dip = ddi_dev_info(testDevice(t, { msix: { vectors: 8 } }));
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 0, 9).status, DDI_EINVAL, 'count > nintrs');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 0, 6).status, DDI_SUCCESS);
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 6, 3).status, DDI_EINVAL, 'count + already > nintrs');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 7, 2, NORMAL).status, DDI_EINVAL, 'inum + count > nintrs');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 5, 1).status, DDI_EINVAL, 'inum 5 already allocated');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 6, 2).status, DDI_SUCCESS, 'the free ones');
  const n = out(0);
  t.equal(ddi_intr_get_nintrs(dip, DDI_INTR_TYPE_MSIX, n), DDI_SUCCESS);
  t.equal(n.value, 8);
  t.end();
});

t.test('rule 7: MSI allocations keep the block a power of two, from inum 0 up', (t) => {
  const dip = ddi_dev_info(testDevice(t, { msi: { vectors: 8, perVectorMask: true } }));
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 0, 3).status, DDI_EINVAL, '3 vectors');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 1, 1).status, DDI_EINVAL, 'not starting at 0');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 0, 1).status, DDI_SUCCESS);
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 1, 2).status, DDI_EINVAL, '1 + 2 = 3');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 1, 1).status, DDI_SUCCESS, '1 + 1 = 2');
  t.equal(alloc(dip, DDI_INTR_TYPE_MSI, 2, 2).status, DDI_SUCCESS, '2 + 2 = 4');
  t.end();
});

t.test('rules 9–10: navail; STRICT → EAGAIN, NORMAL → count reduced', (t) => {
  const device = testDevice(t, { msix: { vectors: 16 } });
  const dip = ddi_dev_info(device, { limits: 'illumos-x86' });
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 0, 12, STRICT).status, DDI_EAGAIN, 'STRICT beyond navail 8');
  const normal = alloc(dip, DDI_INTR_TYPE_MSIX, 0, 12, NORMAL);
  t.equal(normal.status, DDI_SUCCESS);
  t.equal(normal.actual, 8, 'NORMAL: reduced to navail');
  t.equal(normal.handles.length, 8);
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 8, 1, NORMAL).status, DDI_EAGAIN, 'already == navail');
  for (const h of normal.handles) ddi_intr_free(h);
  ddi_dev_info(device, { limits: 'device' });
  t.equal(alloc(dip, DDI_INTR_TYPE_MSIX, 0, 12, STRICT).status, DDI_SUCCESS, 'default policy: all 16 available');
  const msiDip = ddi_dev_info(testDevice(t, { msi: { vectors: 8 } }), { limits: 'illumos-x86' });
  const msi = alloc(msiDip, DDI_INTR_TYPE_MSI, 0, 8, NORMAL);
  t.equal(msi.actual, 2, 'x86: at most 2 MSI');
  t.end();
});

t.test('free: only from ALLOC (a dup: ADDED); ADDED/ENABLE/freed → EINVAL', (t) => {
  const dip = ddi_dev_info(testDevice(t, { msix: { vectors: 4 } }));
  const [h] = alloc(dip, DDI_INTR_TYPE_MSIX, 0, 1).handles;
  ddi_intr_add_handler(h ?? null, () => DDI_INTR_CLAIMED, null, null);
  t.equal(ddi_intr_free(h ?? null), DDI_EINVAL, 'ADDED');
  ddi_intr_enable(h ?? null);
  t.equal(ddi_intr_free(h ?? null), DDI_EINVAL, 'ENABLE');
  ddi_intr_disable(h ?? null);
  ddi_intr_remove_handler(h ?? null);
  t.equal(ddi_intr_free(h ?? null), DDI_SUCCESS);
  t.equal(ddi_intr_free(h ?? null), DDI_EINVAL, 'freed twice');
  t.equal(ddi_intr_free(null), DDI_EINVAL);
  t.equal(ddi_intr_free({} as ddi_intr_handle_t), DDI_EINVAL);
  t.end();
});
