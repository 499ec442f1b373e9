import t from 'tap';
import {
  ddi_dev_info, ddi_intr_add_softint, ddi_intr_trigger_softint, ddi_intr_remove_softint, ddi_intr_get_softint_pri,
  ddi_intr_set_softint_pri, DDI_SUCCESS, DDI_EINVAL, DDI_EPENDING, DDI_FAILURE, DDI_INTR_SOFTPRI_DEFAULT,
  type ddi_softint_handle_t, type dev_info_t,
} from 'vfio-ddk/ddi';
import { out, testDevice, turn } from './helpers.ts';

t.test('trigger runs the handler on the loop with arg1/arg2; EPENDING until it has run', async (t) => {
  const dip = ddi_dev_info(testDevice(t, {}));
  const calls: unknown[][] = [];
  const h = out<ddi_softint_handle_t | null>(null);
  t.equal(ddi_intr_add_softint(dip, h, DDI_INTR_SOFTPRI_DEFAULT, (a1, a2) => { calls.push([a1, a2]); return 1; }, 'one'), DDI_SUCCESS);
  t.equal(ddi_intr_trigger_softint(h.value, 'two'), DDI_SUCCESS);
  t.equal(ddi_intr_trigger_softint(h.value, 'three'), DDI_EPENDING, 'already pending');
  t.same(calls, [], 'not inside the trigger');
  await turn();
  t.same(calls, [['one', 'two']]);
  t.equal(ddi_intr_trigger_softint(h.value, 'four'), DDI_SUCCESS, 'run: can be triggered again');
  await turn();
  t.same(calls[1], ['one', 'four']);
});

t.test('a handler may re-trigger itself; higher soft priority runs first', async (t) => {
  const dip = ddi_dev_info(testDevice(t, {}));
  const order: string[] = [];
  const low = out<ddi_softint_handle_t | null>(null);
  const high = out<ddi_softint_handle_t | null>(null);
  let again = true;
  ddi_intr_add_softint(dip, low, 2, () => {
    order.push('low');
    if (again) { again = false; t.equal(ddi_intr_trigger_softint(low.value, null), DDI_SUCCESS, 're-trigger from the handler'); }
    return 1;
  }, null);
  ddi_intr_add_softint(dip, high, 8, () => { order.push('high'); return 1; }, null);
  ddi_intr_trigger_softint(low.value, null);
  ddi_intr_trigger_softint(high.value, null);
  await turn();
  await turn();
  t.same(order, ['high', 'low', 'low']);
});

t.test('remove cancels a pending soft interrupt; the handle is then invalid', async (t) => {
  const dip = ddi_dev_info(testDevice(t, {}));
  let ran = 0;
  const h = out<ddi_softint_handle_t | null>(null);
  ddi_intr_add_softint(dip, h, 1, () => { ran++; return 1; }, null);
  ddi_intr_trigger_softint(h.value, null);
  t.equal(ddi_intr_remove_softint(h.value), DDI_SUCCESS);
  await turn();
  t.equal(ran, 0);
  t.equal(ddi_intr_trigger_softint(h.value, null), DDI_EINVAL);
  t.equal(ddi_intr_remove_softint(h.value), DDI_EINVAL);
});

t.test('soft priorities 1–9; set while pending → FAILURE, priority kept', async (t) => {
  const dip = ddi_dev_info(testDevice(t, {}));
  const h = out<ddi_softint_handle_t | null>(null);
  const fn = (): number => 1;
  t.equal(ddi_intr_add_softint(dip, h, 0, fn, null), DDI_EINVAL);
  t.equal(ddi_intr_add_softint(dip, h, 10, fn, null), DDI_EINVAL);
  t.equal(ddi_intr_add_softint(dip, h, 1.5, fn, null), DDI_EINVAL);
  t.equal(ddi_intr_add_softint(null, h, 1, fn, null), DDI_EINVAL);
  t.equal(ddi_intr_add_softint({} as dev_info_t, h, 1, fn, null), DDI_EINVAL);
  t.equal(ddi_intr_add_softint(dip, null, 1, fn, null), DDI_EINVAL);
  t.equal(ddi_intr_add_softint(dip, h, 1, null, null), DDI_EINVAL);
  t.equal(h.value, null, 'nothing returned by the failures');
  t.equal(ddi_intr_add_softint(dip, h, 4, fn, null), DDI_SUCCESS);
  const pri = out(0);
  t.equal(ddi_intr_get_softint_pri(h.value, pri), DDI_SUCCESS);
  t.equal(pri.value, 4);
  t.equal(ddi_intr_set_softint_pri(h.value, 10), DDI_EINVAL);
  t.equal(ddi_intr_set_softint_pri(h.value, 9), DDI_SUCCESS);
  ddi_intr_trigger_softint(h.value, null);
  t.equal(ddi_intr_set_softint_pri(h.value, 3), DDI_FAILURE, 'pending');
  ddi_intr_get_softint_pri(h.value, pri);
  t.equal(pri.value, 9, 'restored');
  await turn();
  t.equal(ddi_intr_set_softint_pri(h.value, 3), DDI_SUCCESS);
  t.equal(ddi_intr_get_softint_pri(null, pri), DDI_EINVAL);
  t.equal(ddi_intr_get_softint_pri(h.value, null), DDI_EINVAL);
  t.equal(ddi_intr_set_softint_pri(null, 3), DDI_EINVAL);
  t.equal(ddi_intr_trigger_softint(null, null), DDI_EINVAL);
  t.equal(ddi_intr_remove_softint({} as ddi_softint_handle_t), DDI_EINVAL);
});
