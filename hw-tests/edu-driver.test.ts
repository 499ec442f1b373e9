/**
 * The edu driver (lib/drivers/edu.ts) on a real edu over VFIO — the same steps as its emulated suite
 * (test/drivers/edu.test.ts), so a difference between the two backends shows up as a failure here.
 */
import t from 'tap';
import { EDU_DMA_RUN, EDU_REG, EduDriver, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, VFIO_PCI_MSI_IRQ_INDEX } from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { guestBdf, openFdCount, skipReason } from './helpers.ts';

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  for (const interrupts of ['msi', 'intx'] as const) {
    t.test(`${interrupts}: probe, version, liveness, factorial by interrupt, DMA round trip`, async (t) => {
      const device = openVfioDevice(bdf, { enableBusMaster: false });
      device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
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
      edu.close();
      t.equal(device.irq.activeIndex, null, 'close disables the interrupt');
      device.close();
    });
  }

  t.test('closing the device rejects a pending operation with ECLOSED', async (t) => {
    const device = openVfioDevice(bdf);
    const edu = EduDriver.open(device);
    // A DMA takes 100 ms of QEMU virtual time (D.5): close while it runs.
    const pending = edu.dmaRoundTrip(Uint8Array.from([1, 2, 3]));
    await new Promise((resolve) => setImmediate(resolve));
    device.close();
    await t.rejects(pending, { name: 'DdkError', code: 'ECLOSED' });
    t.ok(edu.closed);
    edu.close();
    // The device keeps running the transfer it was given: let it finish before the next test.
    using again = openVfioDevice(bdf);
    const bar = again.bar(0);
    for (let i = 0; i < 500 && (bar.read32(EDU_REG.DMA_CMD) & EDU_DMA_RUN) !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(bar.read32(EDU_REG.DMA_CMD) & EDU_DMA_RUN, 0, 'the interrupted transfer ended');
    bar.write32(EDU_REG.IRQ_ACK, bar.read32(EDU_REG.IRQ_STATUS));
  });

  t.test('an MSI already routed makes a second open fail cleanly with EBUSY', async (t) => {
    const device = openVfioDevice(bdf);
    const first = EduDriver.open(device);
    t.throws(() => EduDriver.open(device, { interrupts: 'intx' }), { name: 'DdkError', code: 'EBUSY' });
    t.equal(device.irq.activeIndex, VFIO_PCI_MSI_IRQ_INDEX);
    first.close();
    device.close();
  });

  t.test('driver + device close leave no fds behind', async (t) => {
    openVfioDevice(bdf).close();
    const before = openFdCount();
    const device = openVfioDevice(bdf);
    const edu = EduDriver.open(device);
    t.equal(await edu.factorial(7), 5040);
    t.same(await edu.dmaRoundTrip(Uint8Array.from([5, 6])), Uint8Array.from([5, 6]));
    edu.close();
    device.close();
    t.equal(openFdCount(), before);
  });
}
