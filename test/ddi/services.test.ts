/** ddi_get_instance, ddi_driver_name, drv_usectohz/hztousec, ddi_get_lbolt(64), delay, drv_usecwait, cmn_err, dev_err. */
import t from 'tap';
import { createEduDevice, createNvmeDevice } from 'vfio-ddk/emu';
import {
  CE_CONT, CE_IGNORE, CE_NOTE, CE_PANIC, CE_WARN, HZ, cmn_err, ddi_dev_info, ddi_driver_name, ddi_get_instance,
  ddi_get_lbolt, ddi_get_lbolt64, delay, dev_err, drv_hztousec, drv_usecwait, drv_usectohz, setDevErrLogger,
  type DdiLogRecord,
} from 'vfio-ddk/ddi';

t.test('ddi_get_instance: 0, 1 … per binding name in first-asked order; the same BDF keeps its number', async (t) => {
  const a = createEduDevice();
  const b = createEduDevice();
  const n = createNvmeDevice();
  t.teardown(() => { a.close(); b.close(); n.close(); });
  const ia = ddi_get_instance(ddi_dev_info(a));
  const ib = ddi_get_instance(ddi_dev_info(b));
  t.equal(ib, ia + 1, 'the next edu gets the next number');
  t.equal(ddi_get_instance(ddi_dev_info(a)), ia, 'stable');
  t.equal(ddi_get_instance(ddi_dev_info(n)), 0, 'NVMe counts on its own');
  t.equal(ddi_driver_name(ddi_dev_info(a)), 'pci1234,11e8');
  t.equal(ddi_get_instance({} as never), -1);
  t.equal(ddi_driver_name(null), '');
});

t.test('drv_usectohz rounds up to 10 ms ticks; drv_hztousec', async (t) => {
  t.equal(HZ, 100);
  t.equal(drv_usectohz(0), 0);
  t.equal(drv_usectohz(-5), 0);
  t.equal(drv_usectohz(1), 1);
  t.equal(drv_usectohz(10_000), 1);
  t.equal(drv_usectohz(10_001), 2);
  t.equal(drv_usectohz(1_000_000), 100);
  t.equal(drv_usectohz(NaN), 0);
  t.equal(drv_hztousec(3), 30_000);
  t.equal(drv_hztousec(0), 0);
});

t.test('ddi_get_lbolt / ddi_get_lbolt64 count ticks since process start; delay waits ticks', async (t) => {
  const before = ddi_get_lbolt();
  t.equal(typeof ddi_get_lbolt64(), 'bigint');
  t.ok(before >= 0);
  t.ok(before <= Math.ceil((performance.now() * HZ) / 1000));
  const start = performance.now();
  await delay(3);
  const took = performance.now() - start;
  t.ok(took >= 29, `delay(3) took ${took.toFixed(1)} ms (≥ 30 ms)`);
  t.ok(ddi_get_lbolt() >= before + 3, 'lbolt advanced by the ticks waited');
  await delay(0);
  await delay('x' as never);
  t.pass('delay(0) and a bad tick count resolve');
});

t.test('drv_usecwait busy-waits at least the time asked', async (t) => {
  for (const usec of [50, 2_000]) {
    const start = process.hrtime.bigint();
    drv_usecwait(usec);
    const ns = Number(process.hrtime.bigint() - start);
    t.ok(ns >= usec * 1000, `drv_usecwait(${usec}) took ${(ns / 1000).toFixed(0)} µs`);
  }
  drv_usecwait(-1);
  drv_usecwait('x' as never);
});

t.test('cmn_err / dev_err: illumos prefixes, printf formatting, destinations, replaceable logger', async (t) => {
  const records: DdiLogRecord[] = [];
  setDevErrLogger((r) => records.push(r));
  t.teardown(() => setDevErrLogger(null));
  const device = createEduDevice();
  t.teardown(() => device.close());
  const dip = ddi_dev_info(device);
  const inst = ddi_get_instance(dip);
  dev_err(dip, CE_WARN, 'controller fatal status %d at 0x%08x: %s', 3, 0x1c, 'CSTS.CFS');
  t.equal(records[0]?.text, `WARNING: pci1234,11e8${inst}: controller fatal status 3 at 0x0000001c: CSTS.CFS`);
  cmn_err(CE_NOTE, '!%s: %llx %u%%', 'nvme', 0xffff_ffff_ffn, -1);
  t.equal(records[1]?.text, 'NOTICE: nvme: ffffffffff 4294967295%');
  t.equal(records[1]?.destination, 'log');
  cmn_err(CE_CONT, '^%5s|%-3d|%#x\n', 'ab', 7, 255);
  t.equal(records[2]?.text, '   ab|7  |0xff\n');
  t.equal(records[2]?.destination, 'console');
  cmn_err(CE_IGNORE, 'dropped');
  cmn_err(99, 'unknown level');
  t.equal(records.length, 3, 'CE_IGNORE and unknown levels log nothing');
  t.throws(() => dev_err(dip, CE_PANIC, 'gone'), { code: 'DDI_PANIC' }, 'CE_PANIC stops the caller');
  t.equal(records[3]?.text, `panic: pci1234,11e8${inst}: gone`);
  dev_err({} as never, CE_NOTE, 'no dip');
  t.equal(records[4]?.text, 'NOTICE: no dip', 'a bad dip: no prefix, no throw');
});
