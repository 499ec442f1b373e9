import t from 'tap';
import * as ddi from 'vfio-ddk/ddi';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable, ddi_intr_remove_handler,
  ddi_intr_free, ddi_intr_get_pending, ddi_intr_set_mask,
  DDI_INTR_TYPE_MSIX, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_SUCCESS, DDI_EINVAL, DDI_FAILURE,
  type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { out, raiseMsix, testDevice, turn } from './helpers.ts';

const GARBAGE: unknown[] = [
  null, undefined, {}, [], 0, -1, 1.5, NaN, Infinity, '1', 1n, true, Symbol('x'), () => 0, { value: 1 },
];

/** Every ddi_* function taking a handle first, with the other arguments plausible. */
const HANDLE_CALLS: [string, (h: unknown) => unknown][] = [
  ['free', (h) => ddi.ddi_intr_free(h as never)],
  ['get_cap', (h) => ddi.ddi_intr_get_cap(h as never, out(0))],
  ['set_cap', (h) => ddi.ddi_intr_set_cap(h as never, ddi.DDI_INTR_FLAG_EDGE)],
  ['get_pri', (h) => ddi.ddi_intr_get_pri(h as never, out(0))],
  ['set_pri', (h) => ddi.ddi_intr_set_pri(h as never, 5)],
  ['add_handler', (h) => ddi.ddi_intr_add_handler(h as never, () => 1, null, null)],
  ['remove_handler', (h) => ddi.ddi_intr_remove_handler(h as never)],
  ['dup_handler', (h) => ddi.ddi_intr_dup_handler(h as never, 1, out(null))],
  ['enable', (h) => ddi.ddi_intr_enable(h as never)],
  ['disable', (h) => ddi.ddi_intr_disable(h as never)],
  ['block_enable', (h) => ddi.ddi_intr_block_enable([h as never], 1)],
  ['block_disable', (h) => ddi.ddi_intr_block_disable([h as never], 1)],
  ['set_mask', (h) => ddi.ddi_intr_set_mask(h as never)],
  ['clr_mask', (h) => ddi.ddi_intr_clr_mask(h as never)],
  ['get_pending', (h) => ddi.ddi_intr_get_pending(h as never, out(0))],
  ['trigger_softint', (h) => ddi.ddi_intr_trigger_softint(h as never, null)],
  ['remove_softint', (h) => ddi.ddi_intr_remove_softint(h as never)],
  ['get_softint_pri', (h) => ddi.ddi_intr_get_softint_pri(h as never, out(0))],
  ['set_softint_pri', (h) => ddi.ddi_intr_set_softint_pri(h as never, 1)],
];

t.test('garbage for a handle → DDI_EINVAL from every function, never a throw', (t) => {
  for (const [name, call] of HANDLE_CALLS) {
    for (const value of GARBAGE) {
      let result: unknown;
      t.doesNotThrow(() => { result = call(value); });
      if (result !== DDI_EINVAL) t.fail(`${name}(${String(typeof value)}) returned ${String(result)}`);
    }
  }
  t.end();
});

t.test('garbage for a dip or numbers → DDI_EINVAL, never a throw', (t) => {
  const dip = ddi_dev_info(testDevice(t, { msix: { vectors: 4 } }));
  for (const value of GARBAGE) {
    t.equal(ddi.ddi_intr_get_supported_types(value as never, out(0)), DDI_EINVAL);
    t.equal(ddi.ddi_intr_get_nintrs(value as never, DDI_INTR_TYPE_MSIX, out(0)), DDI_EINVAL);
    t.equal(ddi.ddi_intr_alloc(value as never, [], DDI_INTR_TYPE_MSIX, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_EINVAL);
    t.equal(ddi.ddi_intr_add_softint(value as never, out(null), 1, () => 1, null), DDI_EINVAL);
    // Of the garbage only 0 is a valid inum / count-free value.
    if (value !== 0) {
      t.equal(ddi.ddi_intr_alloc(dip, [], DDI_INTR_TYPE_MSIX, value as never, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_EINVAL);
    }
    t.equal(ddi.ddi_intr_alloc(dip, [], DDI_INTR_TYPE_MSIX, 0, value as never, out(0), DDI_INTR_ALLOC_STRICT), DDI_EINVAL);
    t.equal(ddi.ddi_intr_alloc(dip, [], value as never, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_EINVAL);
    t.equal(ddi.ddi_intr_get_navail(dip, value as never, out(0)), DDI_EINVAL);
  }
  t.end();
});

t.test('a freed handle or a forged one is refused and the device is left alone', async (t) => {
  const device = testDevice(t, { msix: { vectors: 4 } });
  const handles: ddi_intr_handle_t[] = [];
  ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSIX, 0, 2, out(0), DDI_INTR_ALLOC_STRICT);
  const [a, b] = handles as [ddi_intr_handle_t, ddi_intr_handle_t];
  let runs = 0;
  ddi_intr_add_handler(b, () => { runs++; return DDI_INTR_CLAIMED; }, null, null);
  ddi_intr_enable(b);
  t.equal(ddi_intr_free(a), DDI_SUCCESS);
  t.equal(ddi_intr_add_handler(a, () => 1, null, null), DDI_EINVAL, 'freed');
  t.equal(ddi_intr_enable(a), DDI_EINVAL, 'freed');
  const forged = Object.create(Object.getPrototypeOf(b) as object) as ddi_intr_handle_t;
  t.equal(ddi_intr_enable(forged), DDI_EINVAL, 'same prototype, not made by alloc');
  t.equal(ddi_intr_set_mask({ ...b } as ddi_intr_handle_t), DDI_EINVAL, 'a copy of a handle');
  raiseMsix(device, 1);
  await turn();
  t.equal(runs, 1, 'the live handle still works');
});

t.test('a handler returning garbage counts as UNCLAIMED and does not disturb delivery', async (t) => {
  const device = testDevice(t, { msix: { vectors: 2 } });
  const handles: ddi_intr_handle_t[] = [];
  ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSIX, 0, 1, out(0), DDI_INTR_ALLOC_STRICT);
  let runs = 0;
  ddi_intr_add_handler(handles[0] ?? null, () => { runs++; return 'yes' as unknown as number; }, null, null);
  ddi_intr_enable(handles[0] ?? null);
  raiseMsix(device, 0);
  await turn();
  raiseMsix(device, 0);
  await turn();
  t.equal(runs, 2);
});

t.test('closed device: programming calls → DDI_FAILURE, teardown still succeeds', (t) => {
  const device = testDevice(t, { msix: { vectors: 2 } });
  const handles: ddi_intr_handle_t[] = [];
  ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSIX, 0, 2, out(0), DDI_INTR_ALLOC_STRICT);
  const [a, b] = handles as [ddi_intr_handle_t, ddi_intr_handle_t];
  ddi_intr_add_handler(a, () => 1, null, null);
  ddi_intr_add_handler(b, () => 1, null, null);
  t.equal(ddi_intr_enable(a), DDI_SUCCESS);
  device.close();
  t.equal(ddi_intr_enable(b), DDI_FAILURE);
  t.equal(ddi_intr_set_mask(a), DDI_FAILURE);
  t.equal(ddi_intr_get_pending(a, out(0)), DDI_FAILURE);
  t.equal(ddi_intr_disable(a), DDI_SUCCESS);
  for (const h of handles) {
    t.equal(ddi_intr_remove_handler(h), DDI_SUCCESS);
    t.equal(ddi_intr_free(h), DDI_SUCCESS);
  }
  t.end();
});
