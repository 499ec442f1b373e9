/**
 * The Worker side of the NVMe IRQ thread, given a device opened in this Worker and its end of the
 * channel (irq-thread-mailbox.ts): open the driver (thread.ts) on the event loop, post `{ ready }`,
 * then block in `run()` — the mailbox hands each `{ submit }` to the driver and a `{ stop }` destroys
 * the interrupt, both while the thread is blocked — and finally close the driver and post
 * `{ stopped }` with the statistics (after an `{ error }` when the shutdown failed). Never throws: a
 * failure is posted as `{ error }`. The caller closes the device and the port afterwards.
 */
import type { PciDevice } from '../../pci/device.ts';
import { IrqThreadMailbox, type IrqThreadChannelEnd } from '../irq-thread-mailbox.ts';
import { NvmeIrqThread, type NvmeIrqThreadOptions } from './thread.ts';
import { checkNvmeThreadCommand, type NvmeThreadEvent } from './protocol.ts';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A mailbox message: submit it, stop the thread, or report it rejected. */
function onRequest(thread: NvmeIrqThread, message: unknown, post: (event: NvmeThreadEvent) => void): void {
  const request = (message ?? {}) as { submit?: { id?: unknown; command?: unknown }; stop?: unknown };
  if (request.stop === true) {
    thread.stop();
    return;
  }
  const id = request.submit?.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    post({ rejected: { id: -1, reason: `not a request: ${JSON.stringify(message)?.slice(0, 80) ?? String(message)}` } });
    return;
  }
  try {
    thread.submit(id, checkNvmeThreadCommand(request.submit?.command));
  } catch (error) {
    post({ rejected: { id, reason: messageOf(error) } });
  }
}

/** `post` sends an event to the controlling thread (the Worker's parentPort: delivered before its 'exit'). */
export async function serveNvmeIrqThread(device: PciDevice, end: IrqThreadChannelEnd, post: (event: NvmeThreadEvent) => void, options: NvmeIrqThreadOptions = {}): Promise<void> {
  let thread: NvmeIrqThread | null = null;
  let mailbox: IrqThreadMailbox | null = null;
  try {
    const opened = await NvmeIrqThread.open(device, options);
    thread = opened;
    mailbox = new IrqThreadMailbox(end, (message) => onRequest(opened, message, post));
    post({ ready: { bdf: device.bdf, queueEntries: opened.queueEntries } });
    const stats = opened.run(post);
    mailbox.close();
    const failed = await opened.close().then(() => null, (error: unknown) => error);
    if (failed !== null) post({ error: `shutdown after the IRQ thread stopped: ${messageOf(failed)}` });
    post({ stopped: stats });
  } catch (error) {
    post({ error: messageOf(error) });
  } finally {
    mailbox?.close();
    await thread?.close().catch(() => {});
  }
}
