import t from 'tap';
import { createEduDevice, createTestDevice } from 'vfio-ddk/emu';
import { EduDriver } from '../../lib/drivers/edu.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, VFIO_PCI_MSI_IRQ_INDEX } from '../../lib/pci/index.ts';

for (const interrupts of ['msi', 'intx'] as const) {
  t.test(`${interrupts}: probe, version, liveness, factorial by interrupt, DMA round trip`, async (t) => {
    const device = createEduDevice({ dmaDelayMs: 0 });
    device.config.write16(PCI_COMMAND, 0x0000);
    const edu = EduDriver.open(device, { interrupts });
    const command = device.config.read16(PCI_COMMAND);
    t.equal(command & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 'probe enables MSE + BME');
    t.same(edu.version(), { major: 1, minor: 0 });
    t.ok(edu.checkLiveness());
    t.ok(edu.checkLiveness(0));
    t.equal(await edu.factorial(10), 3628800);
    t.equal(await edu.factorial(13), 1932053504);
    const [a, b] = await Promise.all([edu.factorial(5), edu.factorial(6)]);
    t.same([a, b], [120, 720], 'queued one at a time');
    const data = new Uint8Array(4095).map((_, i) => (i * 7) & 0xff);
    t.same(await edu.dmaRoundTrip(data), data);
    const small = Uint8Array.from([9, 8, 7]);
    t.same(await edu.dmaRoundTrip(small, 100), small);
    t.same([...(await edu.readFromDevice(2, 0))], [0, 7]);
    t.ok(edu.interrupts >= 7, 'completions came by interrupt');
    t.same(device.iommuFaults, []);
    t.same(device.deviceErrors, []);
    edu.close();
    t.equal(device.irq.activeIndex, null, 'close disables the interrupt');
    device.close();
  });
}

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

t.test('an MSI already routed elsewhere makes open fail cleanly with EBUSY/EEXIST', async (t) => {
  const device = createEduDevice();
  const first = EduDriver.open(device);
  t.throws(() => EduDriver.open(device, { interrupts: 'intx' }), { name: 'DdkError', code: 'EBUSY' });
  t.equal(device.irq.activeIndex, VFIO_PCI_MSI_IRQ_INDEX);
  first.close();
  device.close();
});
