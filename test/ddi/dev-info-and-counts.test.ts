import t from 'tap';
import {
  ddi_dev_info, ddi_intr_get_supported_types, ddi_intr_get_nintrs, ddi_intr_get_navail,
  DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI, DDI_INTR_TYPE_MSIX, DDI_SUCCESS, DDI_EINVAL, DDI_INTR_NOTFOUND,
  type dev_info_t,
} from 'vfio-ddk/ddi';
import { createEduDevice } from 'vfio-ddk/emu';
import { out, testDevice } from './helpers.ts';

t.test('ddi_dev_info: one dev_info per device, the same object on every call', (t) => {
  const a = testDevice(t, { msix: { vectors: 4 } });
  const b = testDevice(t, { msix: { vectors: 4 } });
  t.equal(ddi_dev_info(a), ddi_dev_info(a));
  t.not(ddi_dev_info(a), ddi_dev_info(b));
  t.throws(() => ddi_dev_info({} as never), TypeError);
  t.throws(() => ddi_dev_info(null as never), TypeError);
  t.throws(() => ddi_dev_info(a, { limits: 'bsd' as never }), TypeError);
  t.end();
});

t.test('supported types and nintrs come from the device\'s capabilities (B.4)', (t) => {
  const all = ddi_dev_info(testDevice(t, { intx: true, msi: { vectors: 16 }, msix: { vectors: 100 } }));
  const types = out(0);
  t.equal(ddi_intr_get_supported_types(all, types), DDI_SUCCESS);
  t.equal(types.value, DDI_INTR_TYPE_FIXED | DDI_INTR_TYPE_MSI | DDI_INTR_TYPE_MSIX);
  const n = out(0);
  t.equal(ddi_intr_get_nintrs(all, DDI_INTR_TYPE_FIXED, n), DDI_SUCCESS);
  t.equal(n.value, 1, 'INTx pin → 1');
  t.equal(ddi_intr_get_nintrs(all, DDI_INTR_TYPE_MSI, n), DDI_SUCCESS);
  t.equal(n.value, 16, '1 << MMC');
  t.equal(ddi_intr_get_nintrs(all, DDI_INTR_TYPE_MSIX, n), DDI_SUCCESS);
  t.equal(n.value, 100, 'table size + 1');

  const msixOnly = ddi_dev_info(testDevice(t, { msix: { vectors: 2048 } }));
  t.equal(ddi_intr_get_supported_types(msixOnly, types), DDI_SUCCESS);
  t.equal(types.value, DDI_INTR_TYPE_MSIX, 'no pin, no MSI');
  t.equal(ddi_intr_get_nintrs(msixOnly, DDI_INTR_TYPE_MSIX, n), DDI_SUCCESS);
  t.equal(n.value, 2048);

  const none = ddi_dev_info(testDevice(t, {}));
  const untouched = out(77);
  t.equal(ddi_intr_get_supported_types(none, untouched), DDI_INTR_NOTFOUND, 'no interrupts at all');
  t.equal(untouched.value, 77);
  t.end();
});

t.test('edu: INTx and MSI', (t) => {
  const edu = createEduDevice();
  t.teardown(() => edu.close());
  const types = out(0);
  t.equal(ddi_intr_get_supported_types(ddi_dev_info(edu), types), DDI_SUCCESS);
  t.equal(types.value, DDI_INTR_TYPE_FIXED | DDI_INTR_TYPE_MSI);
  t.end();
});

t.test('get_nintrs / get_navail EINVAL rules', (t) => {
  const dip = ddi_dev_info(testDevice(t, { msi: { vectors: 4 } }));
  const n = out(-1);
  t.equal(ddi_intr_get_nintrs(null, DDI_INTR_TYPE_MSI, n), DDI_EINVAL, 'NULL dip');
  t.equal(ddi_intr_get_nintrs({} as dev_info_t, DDI_INTR_TYPE_MSI, n), DDI_EINVAL, 'not a dev_info');
  t.equal(ddi_intr_get_nintrs(dip, DDI_INTR_TYPE_MSI, null), DDI_EINVAL, 'NULL out');
  t.equal(ddi_intr_get_nintrs(dip, DDI_INTR_TYPE_MSI | DDI_INTR_TYPE_MSIX, n), DDI_EINVAL, 'two types');
  t.equal(ddi_intr_get_nintrs(dip, DDI_INTR_TYPE_MSIX, n), DDI_EINVAL, 'unsupported type');
  t.equal(ddi_intr_get_nintrs(dip, '2' as unknown as number, n), DDI_EINVAL, 'type not a number');
  t.equal(ddi_intr_get_navail(dip, 0, n), DDI_EINVAL, 'type 0');
  t.equal(ddi_intr_get_navail(null, DDI_INTR_TYPE_MSI, n), DDI_EINVAL);
  t.equal(ddi_intr_get_supported_types(null, n), DDI_EINVAL);
  t.equal(ddi_intr_get_supported_types(dip, null), DDI_EINVAL);
  t.equal(n.value, -1, 'out untouched by every failure');
  t.end();
});

t.test('navail: what the device offers by default; illumos x86 limits on request (2 MSI, 8 MSI-X)', (t) => {
  const device = testDevice(t, { msi: { vectors: 32 }, msix: { vectors: 64 } });
  const dip = ddi_dev_info(device);
  const n = out(0);
  t.equal(ddi_intr_get_navail(dip, DDI_INTR_TYPE_MSI, n), DDI_SUCCESS);
  t.equal(n.value, 32);
  t.equal(ddi_intr_get_navail(dip, DDI_INTR_TYPE_MSIX, n), DDI_SUCCESS);
  t.equal(n.value, 64);
  t.equal(ddi_dev_info(device, { limits: 'illumos-x86' }), dip, 'same dev_info, policy changed');
  t.equal(ddi_intr_get_navail(dip, DDI_INTR_TYPE_MSI, n), DDI_SUCCESS);
  t.equal(n.value, 2);
  t.equal(ddi_intr_get_navail(dip, DDI_INTR_TYPE_MSIX, n), DDI_SUCCESS);
  t.equal(n.value, 8);
  const small = ddi_dev_info(testDevice(t, { msix: { vectors: 3 } }), { limits: 'illumos-x86' });
  t.equal(ddi_intr_get_navail(small, DDI_INTR_TYPE_MSIX, n), DDI_SUCCESS);
  t.equal(n.value, 3, 'never more than nintrs');
  t.end();
});
