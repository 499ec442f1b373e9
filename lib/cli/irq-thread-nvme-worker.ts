/**
 * Worker entry of `startNvmeIrqThread` (irq-thread-nvme.ts): opens the NVMe controller named in
 * workerData in this thread — a real one by BDF through VFIO, or an emulated one with inline command
 * processing (a blocked thread never runs the model's timers) — and serves the NVMe IRQ thread on it
 * (lib/drivers/nvme-irq-thread/serve.ts). Events go to parentPort; requests come through the mailbox.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createNvmeDevice } from '../emu/nvme.ts';
import { openVfioDevice } from '../vfio/vfio-device.ts';
import type { PciDevice } from '../pci/device.ts';
import type { IrqThreadChannelEnd } from '../drivers/irq-thread-mailbox.ts';
import { serveNvmeIrqThread } from '../drivers/nvme-irq-thread/serve.ts';
import type { NvmeThreadEvent } from '../drivers/nvme-irq-thread/protocol.ts';

const { bdf, channel, queueEntries } = workerData as { bdf: string | null; channel: IrqThreadChannelEnd; queueEntries?: number };
const post = (event: NvmeThreadEvent): void => parentPort?.postMessage(event);
let device: PciDevice | null = null;
try {
  device = bdf === null ? createNvmeDevice({ inlineCommands: true }) : openVfioDevice(bdf);
  await serveNvmeIrqThread(device, channel, post, queueEntries === undefined ? {} : { queueEntries });
} catch (error) {
  post({ error: error instanceof Error ? error.message : String(error) });
} finally {
  device?.close();
  channel.port.close();
}
