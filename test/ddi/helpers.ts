/** Shared helpers of the ddi tests: emulated devices ready for interrupts, raising, waiting a turn. */
import { createTestDevice, type TestDeviceOptions, TEST_DEV_REGS } from 'vfio-ddk/emu';
import type { PciDevice } from '../../lib/pci/device.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER } from '../../lib/pci/regs.ts';

/** A test device with Bus Master Enable set (MSI/MSI-X are memory writes: they need it), closed at teardown. */
export function testDevice(t: { teardown(fn: () => void): void }, options: TestDeviceOptions): PciDevice {
  const device = createTestDevice(options);
  device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MASTER);
  t.teardown(() => device.close());
  return device;
}

export function raiseMsi(device: PciDevice, vector: number): void {
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, vector);
}

export function raiseMsix(device: PciDevice, vector: number): void {
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, vector);
}

export function setIntx(device: PciDevice, level: boolean): void {
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, level ? 1 : 0);
}

/** One turn of the event loop (interrupt deliveries and soft interrupts run in setImmediate). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A few turns: enough for a delivery that schedules another (e.g. INTx unmask → refire). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** An out-pointer. */
export function out<T>(value: T): { value: T } {
  return { value };
}
