/**
 * The conformance steps (edu-observe.ts) on the emulated edu, pinned to what spec/edu.md says — so a
 * wrong step is caught on the host; hw-tests/edu-conformance.test.ts compares the same steps between
 * the emulated and the real edu in the guest.
 */
import t from 'tap';
import { createEduDevice } from 'vfio-ddk/emu';
import { observeEdu } from './edu-observe.ts';

t.test('emulated edu: observations follow D.2–D.5', async (t) => {
  const device = createEduDevice({ dmaDelayMs: 0 });
  const seen = await observeEdu(device);
  device.close();
  t.match(seen.identity, { vendorId: 0x1234, deviceId: 0x11e8, revision: 0x10, interruptPin: 1, msi: { vectors: 1, is64: true, perVectorMask: false } });
  t.same(seen.registers.liveness, [0xffffffff, 0xfffffffe, 0xedcba987, 0, 0x5a5a5a5a]);
  t.equal(seen.registers.id, 0x010000ed);
  t.same(seen.factorials.slice(0, 6).map((f) => f.value), [1, 1, 2, 120, 3628800, 479001600]);
  t.same(seen.interrupts.map((i) => i.cause), [0x1, 0x100, 0x8000_0000, 0xffff_ffff, 0], 'the latched MSI of 0x101 arrives after both acks: cause 0');
  t.same(seen.interrupts.map((i) => i.fires), [1, 1, 1, 1, 1]);
  t.same(seen.irqStatus.map((s) => s.status), [0, 0, 0, 0, 0x101, 0x100, 0]);
  t.match(seen.factorialIrq, { value: 720, cause: 0x1 });
  t.same(seen.dma.causes, [0x100, 0x100]);
  t.same(seen.dma.roundTrip, Array.from({ length: 200 }, (_, i) => (i * 31 + 7) & 0xff));
});
