import t from 'tap';
import { createEduDevice, createTestDevice } from 'vfio-ddk/emu';
import { EduDriver } from '../../lib/drivers/edu.ts';
import { eduDriverSuite } from '../suites/edu-driver-suite.ts';

eduDriverSuite(t, {
  name: 'emulated',
  open: () => createEduDevice({ dmaDelayMs: 0 }),
  afterSteps: (t, device) => {
    const emu = device as ReturnType<typeof createEduDevice>;
    t.same(emu.iommuFaults, []);
    t.same(emu.deviceErrors, []);
  },
});

t.test('probe refuses a device that is not an edu', async (t) => {
  const other = createTestDevice({ msi: { vectors: 1 } });
  t.throws(() => EduDriver.open(other), { name: 'DdkError', code: 'ENODEV' });
  t.throws(() => EduDriver.open(other, { interrupts: 'poll' as 'msi' }), RangeError);
  other.close();
});

t.test('transfers that would cross D.7 limits are rejected before touching the device', async (t) => {
  const device = createEduDevice();
  const edu = EduDriver.open(device);
  await t.rejects(edu.dmaRoundTrip(new Uint8Array(4096)), RangeError);
  await t.rejects(edu.writeToDevice(new Uint8Array(10), 4090), RangeError);
  await t.rejects(edu.readFromDevice(0), RangeError);
  await t.rejects(edu.writeToDevice('x' as unknown as Uint8Array), TypeError);
  await t.rejects(edu.factorial(-1), RangeError);
  t.throws(() => edu.checkLiveness(2 ** 32), RangeError);
  edu.close();
  device.close();
});

t.test('closing the device rejects a pending operation with ECLOSED', async (t) => {
  const device = createEduDevice({ factorialDelayMs: 60_000 });
  const edu = EduDriver.open(device);
  const pending = edu.factorial(4);
  await new Promise((resolve) => setImmediate(resolve));
  device.close();
  await t.rejects(pending, { name: 'DdkError', code: 'ECLOSED' });
  t.ok(edu.closed);
  await t.rejects(edu.factorial(3), { name: 'DdkError', code: 'ECLOSED' });
  edu.close();
});
