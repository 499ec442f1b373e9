import t from 'tap';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_free, ddi_intr_add_handler, ddi_intr_remove_handler, ddi_intr_enable,
  ddi_intr_disable, ddi_intr_get_cap, ddi_intr_set_cap, ddi_intr_get_pri, ddi_intr_set_pri,
  ddi_intr_get_hilevel_pri, ddi_intr_set_mask, ddi_intr_clr_mask,
  DDI_INTR_TYPE_MSIX, DDI_INTR_TYPE_FIXED, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_SUCCESS, DDI_EINVAL,
  DDI_FAILURE, DDI_INTR_FLAG_EDGE, DDI_INTR_FLAG_LEVEL, DDI_INTR_FLAG_MASKABLE, DDI_INTR_FLAG_PENDING,
  type ddi_intr_handle_t, type dev_info_t,
} from 'vfio-ddk/ddi';
import { out, testDevice } from './helpers.ts';

function one(dip: dev_info_t, type = DDI_INTR_TYPE_MSIX): ddi_intr_handle_t {
  const handles: ddi_intr_handle_t[] = [];
  const status = ddi_intr_alloc(dip, handles, type, 0, 1, out(0), DDI_INTR_ALLOC_STRICT);
  if (status !== DDI_SUCCESS || handles[0] === undefined) throw new Error(`alloc: ${status}`);
  return handles[0];
}

const handler = (): number => DDI_INTR_CLAIMED;

t.test('handle states ALLOC → ADDED → ENABLE and back, every wrong order → EINVAL', (t) => {
  const h = one(ddi_dev_info(testDevice(t, { msix: { vectors: 4 } })));
  t.equal(ddi_intr_enable(h), DDI_EINVAL, 'enable before add_handler');
  t.equal(ddi_intr_remove_handler(h), DDI_EINVAL, 'remove before add');
  t.equal(ddi_intr_disable(h), DDI_EINVAL, 'disable while ALLOC');
  t.equal(ddi_intr_set_mask(h), DDI_EINVAL, 'mask while not ENABLE');
  t.equal(ddi_intr_add_handler(h, null, null, null), DDI_EINVAL, 'NULL handler');
  t.equal(ddi_intr_add_handler(h, handler, 1, 2), DDI_SUCCESS);
  t.equal(ddi_intr_add_handler(h, handler, 1, 2), DDI_EINVAL, 'adding twice');
  t.equal(ddi_intr_disable(h), DDI_EINVAL, 'disable while ADDED');
  t.equal(ddi_intr_clr_mask(h), DDI_EINVAL, 'clr_mask while ADDED');
  t.equal(ddi_intr_enable(h), DDI_SUCCESS);
  t.equal(ddi_intr_enable(h), DDI_EINVAL, 'enable twice');
  t.equal(ddi_intr_remove_handler(h), DDI_EINVAL, 'remove while ENABLE');
  t.equal(ddi_intr_set_pri(h, 3), DDI_EINVAL, 'set_pri outside ALLOC');
  t.equal(ddi_intr_set_cap(h, DDI_INTR_FLAG_EDGE), DDI_EINVAL, 'set_cap outside ALLOC');
  t.equal(ddi_intr_disable(h), DDI_SUCCESS);
  t.equal(ddi_intr_remove_handler(h), DDI_SUCCESS);
  t.equal(ddi_intr_free(h), DDI_SUCCESS);
  t.end();
});

t.test('MSI-X caps: EDGE|MASKABLE|PENDING, MSI64 hidden; get_cap zeroes *flags first (B.3)', (t) => {
  const h = one(ddi_dev_info(testDevice(t, { msix: { vectors: 4 } })));
  const caps = out(-1);
  t.equal(ddi_intr_get_cap(h, caps), DDI_SUCCESS);
  t.equal(caps.value, DDI_INTR_FLAG_EDGE | DDI_INTR_FLAG_MASKABLE | DDI_INTR_FLAG_PENDING);
  const zeroed = out(-1);
  t.equal(ddi_intr_get_cap(null, zeroed), DDI_EINVAL);
  t.equal(zeroed.value, 0, '*flags zeroed before the handle check, as illumos does');
  t.equal(ddi_intr_get_cap(h, null), DDI_EINVAL);
  t.end();
});

t.test('set_cap: neither trigger → EINVAL; the bus trigger → SUCCESS; the other → FAILURE', (t) => {
  const msix = one(ddi_dev_info(testDevice(t, { msix: { vectors: 4 } })));
  t.equal(ddi_intr_set_cap(null, DDI_INTR_FLAG_EDGE), DDI_EINVAL);
  t.equal(ddi_intr_set_cap(msix, DDI_INTR_FLAG_MASKABLE), DDI_EINVAL, 'no LEVEL/EDGE in flags');
  t.equal(ddi_intr_set_cap(msix, 'x' as unknown as number), DDI_EINVAL, 'flags not a number');
  t.equal(ddi_intr_set_cap(msix, DDI_INTR_FLAG_EDGE), DDI_SUCCESS);
  t.equal(ddi_intr_set_cap(msix, DDI_INTR_FLAG_LEVEL), DDI_FAILURE, 'MSI-X cannot be level');
  const fixed = one(ddi_dev_info(testDevice(t, { intx: true })), DDI_INTR_TYPE_FIXED);
  t.equal(ddi_intr_set_cap(fixed, DDI_INTR_FLAG_LEVEL), DDI_SUCCESS);
  t.equal(ddi_intr_set_cap(fixed, DDI_INTR_FLAG_EDGE), DDI_FAILURE, 'INTx cannot be edge');
  t.end();
});

t.test('priorities: default from the class code, 1–12 range, > LOCK_LEVEL refused, hilevel 11', (t) => {
  t.equal(ddi_intr_get_hilevel_pri(), 11);
  const h = one(ddi_dev_info(testDevice(t, { msix: { vectors: 4 } })));
  const pri = out(-1);
  t.equal(ddi_intr_get_pri(h, pri), DDI_SUCCESS);
  t.equal(pri.value, 1, 'class 0xff0000 is not in pci_class_to_pil\'s table → 1');
  t.equal(ddi_intr_set_pri(h, 0), DDI_EINVAL);
  t.equal(ddi_intr_set_pri(h, 13), DDI_EINVAL);
  t.equal(ddi_intr_set_pri(h, 2.5), DDI_EINVAL);
  t.equal(ddi_intr_set_pri(h, '5' as unknown as number), DDI_EINVAL);
  t.equal(ddi_intr_set_pri(h, 1), DDI_SUCCESS, 'same priority: no-op');
  t.equal(ddi_intr_set_pri(h, 11), DDI_FAILURE, 'high-level refused by the x86 nexus');
  t.equal(ddi_intr_set_pri(h, 12), DDI_FAILURE);
  t.equal(ddi_intr_set_pri(h, 10), DDI_SUCCESS, 'LOCK_LEVEL itself is fine');
  t.equal(ddi_intr_get_pri(h, pri), DDI_SUCCESS);
  t.equal(pri.value, 10);
  const zeroed = out(-1);
  t.equal(ddi_intr_get_pri(null, zeroed), DDI_EINVAL);
  t.equal(zeroed.value, 0, '*pri zeroed before the handle check (B.3)');
  t.equal(ddi_intr_set_pri(null, 5), DDI_EINVAL);
  t.end();
});
