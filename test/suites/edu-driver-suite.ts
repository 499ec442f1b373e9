/**
 * The edu driver (lib/drivers/edu.ts) steps shared by both backends: test/drivers/edu.test.ts runs
 * them on the emulated edu, hw-tests/edu-driver.test.ts on a real edu over VFIO — the same assertions,
 * so a difference between the backends shows up as a failure on one of them.
 *
 * This file is also compiled for the guest (hw-tests/tsconfig.json), so it imports the library only
 * through package specifiers ('vfio-ddk'), never relative ../lib paths.
 */
import type { TAP, Test } from 'tap';
import type { BuiltPlugins } from '@tapjs/test';

/** A subtest as tap passes it to `t.test` callbacks. */
export type SubTest = Test & BuiltPlugins;
import { EduDriver, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, VFIO_PCI_MSI_IRQ_INDEX } from 'vfio-ddk';
import type { PciDevice } from 'vfio-ddk';

export interface EduSuiteBackend {
  /** 'emulated' or 'real': used in test names. */
  readonly name: string;
  /** A fresh edu (Command may be anything: the suite clears MSE/BME to check the probe sets them). */
  open(): PciDevice;
  /** Backend-only checks after the steps (e.g. the emulated device recorded no IOMMU fault). */
  afterSteps?(t: SubTest, device: PciDevice): void;
}

export function eduDriverSuite(tap: TAP, backend: EduSuiteBackend): void {
  for (const interrupts of ['msi', 'intx'] as const) {
    tap.test(`${backend.name} ${interrupts}: probe, version, liveness, factorial by interrupt, DMA round trip`, async (t) => {
      const device = backend.open();
      device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
      const edu = EduDriver.open(device, { interrupts });
      const command = device.config.read16(PCI_COMMAND);
      t.equal(command & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 'probe enables MSE + BME');
      t.same(edu.version(), { major: 1, minor: 0 });
      t.ok(edu.checkLiveness());
      t.ok(edu.checkLiveness(0));
      t.equal(await edu.factorial(10), 3628800);
      t.equal(await edu.factorial(13), 1932053504, '13! truncated to 32 bits');
      const [a, b] = await Promise.all([edu.factorial(5), edu.factorial(6)]);
      t.same([a, b], [120, 720], 'queued one at a time');
      const data = new Uint8Array(4095).map((_, i) => (i * 7) & 0xff);
      t.same(await edu.dmaRoundTrip(data), data);
      const small = Uint8Array.from([9, 8, 7]);
      t.same(await edu.dmaRoundTrip(small, 100), small);
      t.same([...(await edu.readFromDevice(2, 0))], [0, 7]);
      t.ok(edu.interrupts >= 7, 'completions came by interrupt');
      backend.afterSteps?.(t, device);
      edu.close();
      t.equal(device.irq.activeIndex, null, 'close disables the interrupt');
      device.close();
    });
  }

  tap.test(`${backend.name}: an MSI already routed makes a second open fail cleanly with EBUSY`, async (t) => {
    const device = backend.open();
    const first = EduDriver.open(device);
    t.throws(() => EduDriver.open(device, { interrupts: 'intx' }), { name: 'DdkError', code: 'EBUSY' });
    t.equal(device.irq.activeIndex, VFIO_PCI_MSI_IRQ_INDEX);
    first.close();
    device.close();
  });
}
