/**
 * Worker entry of `runIrqThreadWorker` (irq-thread.ts): opens the edu named in workerData in this
 * thread (a real one by BDF through VFIO, or an emulated one), runs the blocking IRQ thread
 * (lib/drivers/edu-irq-thread.ts) and posts each report, then { done } or { error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createEduDevice } from '../emu/index.ts';
import { openVfioDevice } from '../vfio/index.ts';
import { runEduDdiInterruptThread, runEduIrqThread } from '../drivers/edu-irq-thread.ts';
import type { PciDevice } from '../pci/device.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../pci/regs.ts';

const { bdf, rounds, kit } = workerData as { bdf: string | null; rounds: number; kit: 'zircon' | 'ddi' };
let device: PciDevice | null = null;
try {
  device = bdf === null ? createEduDevice() : openVfioDevice(bdf);
  device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const run = kit === 'ddi' ? runEduDdiInterruptThread : runEduIrqThread;
  run(device, rounds, (report) => parentPort?.postMessage({ report }));
  parentPort?.postMessage({ done: true });
} catch (error) {
  parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
} finally {
  device?.close();
}
