/**
 * The edu driver (lib/drivers/edu.ts) on a real edu over VFIO: the shared steps of
 * test/suites/edu-driver-suite.ts (also run on the emulated edu by test/drivers/edu.test.ts), then what
 * only a real device shows (closing during a 100 ms DMA, fd hygiene).
 */
import t from 'tap';
import { EDU_DMA_RUN, EDU_REG, EduDriver } from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { eduDriverSuite } from '../test/suites/edu-driver-suite.ts';
import { guestBdf, openFdCount, skipReason } from './helpers.ts';

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  eduDriverSuite(t, { name: 'real', open: () => openVfioDevice(bdf, { enableBusMaster: false }) });

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
