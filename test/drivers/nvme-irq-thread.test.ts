/**
 * The NVMe IRQ thread's driver (lib/drivers/nvme-irq-thread/thread.ts) on this thread, with the
 * emulated controller processing commands inline: run() blocks in zx_interrupt_wait, and each wake
 * reaps completions by phase tag; the post callback plays the controlling thread (it submits the next
 * command, and stops). The Worker + mailbox + client path is nvme-irq-thread-worker.test.ts.
 */
import t from 'tap';
import { createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import { NVME_CSTS_SHST_COMPLETE, NVME_CSTS_SHST_MASK, NVME_FID, NVME_REG, NVME_SC, NVME_STATUS_DNR } from '../../lib/pci/nvme-regs.ts';
import { PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, findMsix } from '../../lib/pci/index.ts';
import { NvmeIrqThread } from '../../lib/drivers/nvme-irq-thread/thread.ts';
import { IrqThreadMailbox, createIrqThreadChannel } from '../../lib/drivers/irq-thread-mailbox.ts';
import { serveNvmeIrqThread } from '../../lib/drivers/nvme-irq-thread/serve.ts';
import { nativeSourceCount } from '../../lib/irq/blocking.ts';
import type { NvmeThreadCommand, NvmeThreadCompletion, NvmeThreadEvent } from '../../lib/drivers/nvme-irq-thread/protocol.ts';

const IDENTIFY: NvmeThreadCommand = { kind: 'identify-controller' };

function msixEnabled(device: ReturnType<typeof createNvmeDevice>): boolean {
  const msix = findMsix(device.config);
  return msix !== null && (device.config.read16(msix.offset + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE) !== 0;
}

t.test('run(): one command at a time through the mailbox, each completion reaped after its own zx_interrupt_wait; stop() ends the wait with CANCELED', async (t) => {
  const device = createNvmeDevice({ inlineCommands: true, serial: 'irq-thread' });
  const thread = await NvmeIrqThread.open(device, { queueEntries: 4 });
  t.equal(thread.queueEntries, 4);
  t.ok(msixEnabled(device), 'SetInterruptMode(MSI_X) enabled MSI-X');
  // The controlling thread's part, played on this thread: requests go through the mailbox, so each is
  // submitted inside the next blocking wait (as from another thread), not inside the reap.
  const { sender, worker } = createIrqThreadChannel();
  const mailbox = new IrqThreadMailbox(worker, (message) => {
    const request = message as { submit?: { id: number; command: NvmeThreadCommand }; stop?: true };
    if (request.stop === true) thread.stop();
    else if (request.submit !== undefined) thread.submit(request.submit.id, request.submit.command);
  });
  const commands: NvmeThreadCommand[] = [IDENTIFY, { kind: 'identify-namespace', nsid: 1 }, { kind: 'active-namespaces' }, { kind: 'get-features', fid: NVME_FID.NUMBER_OF_QUEUES }];
  const rounds = 12;
  const completions: NvmeThreadCompletion[] = [];
  sender.post({ submit: { id: 0, command: commands[0] } });
  const stats = thread.run((event: NvmeThreadEvent) => {
    if (!('completion' in event)) return;
    completions.push(event.completion);
    const next = completions.length;
    sender.post(next < rounds ? { submit: { id: next, command: commands[next % commands.length] } } : { stop: true });
  });
  mailbox.close();
  worker.port.close();
  sender.close();
  t.equal(stats.endStatus, 'ZX_ERR_CANCELED', 'zx_interrupt_destroy ended the blocked wait');
  t.match(stats, { submitted: rounds, completed: rounds, wakes: rounds, spuriousWakes: 0, unexpected: 0, abandoned: 0 });
  t.same(completions.map((c) => c.id), [...Array(rounds).keys()], 'in request order, none lost');
  t.same(completions.map((c) => c.wake), [...Array(rounds).keys()].map((i) => i + 1), 'each by its own wake');
  t.ok(completions.every((c) => c.status === 0 && c.latencyNs >= 0));
  t.match(completions[0]?.result, { serial: 'irq-thread', model: 'QEMU NVMe Ctrl' });
  t.match(completions[1]?.result, { nsid: 1, sizeBlocks: 131072n, blockBytes: 512 });
  t.same(completions[2]?.result, [1]);
  t.equal(completions[3]?.result, null);
  t.equal(completions[3]?.dw0, (63 << 16) | 63, 'Number of Queues: 64 / 64, 0\'s based');
  t.equal(device.commandsExecuted, rounds);
  await thread.close();
  await thread.close();
  t.equal(device.bar(0).read32(NVME_REG.CSTS) & NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, 'normal shutdown');
  t.notOk(msixEnabled(device), 'SetInterruptMode(DISABLED)');
  t.equal(device.dma.mappings, 0, 'queues and data pages freed');
  t.same(device.deviceErrors, []);
  t.same(device.iommuFaults, []);
  device.close();
});

t.test('more commands than CIDs: queued, submitted as completions free CIDs; a failed command reports its Status Field', async (t) => {
  const device = createNvmeDevice({ inlineCommands: true });
  const thread = await NvmeIrqThread.open(device, { queueEntries: 3 });
  for (let id = 0; id < 9; id++) thread.submit(id, IDENTIFY);
  t.equal(thread.inFlight, 2, 'entries − 1 CIDs');
  thread.submit(9, { kind: 'identify-namespace', nsid: 300 });
  thread.submit(10, { kind: 'get-features', fid: 0x7f });
  const completions: NvmeThreadCompletion[] = [];
  const stats = thread.run((event) => {
    if ('completion' in event) completions.push(event.completion);
    if (completions.length === 11) thread.stop();
  });
  t.match(stats, { submitted: 11, completed: 11, unexpected: 0, abandoned: 0 });
  t.ok(stats.wakes < 11, `two commands in flight share wakes (${stats.wakes} for 11)`);
  t.same(completions.map((c) => c.id).sort((a, b) => a - b), [...Array(11).keys()]);
  const byId = new Map(completions.map((c) => [c.id, c]));
  t.equal(byId.get(9)?.status, NVME_SC.INVALID_NSID | NVME_STATUS_DNR, 'Identify of NSID 300: Invalid Namespace');
  t.equal(byId.get(9)?.result, null);
  t.equal(byId.get(10)?.status, NVME_SC.INVALID_FIELD | NVME_STATUS_DNR, 'an unknown Feature Identifier');
  t.ok(completions.every((c) => c.cid < 2));
  await thread.close();
  device.close();
});

t.test('a command submitted from inside the reap and completed at once is taken in the same pass, its latency to when it was seen', async (t) => {
  const device = createNvmeDevice({ inlineCommands: true });
  const thread = await NvmeIrqThread.open(device, { queueEntries: 4 });
  const completions: NvmeThreadCompletion[] = [];
  thread.submit(0, IDENTIFY);
  const stats = thread.run((event) => {
    if (!('completion' in event)) return;
    completions.push(event.completion);
    if (completions.length < 6) thread.submit(completions.length, IDENTIFY);
    else thread.stop();
  });
  t.match(stats, { completed: 6, unexpected: 0 });
  t.ok(stats.wakes < 6, `fewer wakes (${stats.wakes}) than completions: the reap loop saw the new entries`);
  t.ok(completions.every((c) => c.latencyNs >= 0));
  await thread.close();
  device.close();
});

t.test('stopped with commands in flight and queued: all reported abandoned; run() again returns CANCELED at once', async (t) => {
  const device = createNvmeDevice({ inlineCommands: true });
  const thread = await NvmeIrqThread.open(device, { queueEntries: 8 });
  for (let id = 0; id < 20; id++) thread.submit(id, IDENTIFY);
  thread.stop();
  const abandoned: number[] = [];
  const stats = thread.run((event) => {
    if ('abandoned' in event) abandoned.push(event.abandoned.id);
  });
  t.match(stats, { submitted: 7, completed: 0, wakes: 0, abandoned: 20, endStatus: 'ZX_ERR_CANCELED' });
  t.same(abandoned.sort((a, b) => a - b), [...Array(20).keys()]);
  t.equal(thread.inFlight, 0);
  t.match(thread.run(() => {}), { abandoned: 0, endStatus: 'ZX_ERR_CANCELED' });
  await thread.close();
  t.throws(() => thread.submit(1, IDENTIFY), { code: 'ECLOSED' });
  t.throws(() => thread.run(() => {}), { code: 'ECLOSED' });
  device.close();
});

t.test('nothing in flight and no mailbox: nothing on this thread could end the wait, so run() returns BAD_STATE (no hang)', async (t) => {
  const device = createNvmeDevice({ inlineCommands: true });
  const thread = await NvmeIrqThread.open(device);
  let nested: unknown = null;
  thread.submit(1, IDENTIFY);
  const stats = thread.run(() => {
    try {
      thread.run(() => {});
    } catch (error) {
      nested = error;
    }
  });
  t.match(nested, { code: 'EBUSY' }, 'run() is not re-entrant');
  t.match(stats, { completed: 1, endStatus: 'ZX_ERR_BAD_STATE' });
  await thread.close();
  device.close();
});

t.test('the device closed under a stopped thread: close() frees nothing twice and does not throw', async (t) => {
  const device = createNvmeDevice({ inlineCommands: true });
  const thread = await NvmeIrqThread.open(device);
  device.close();
  t.match(thread.run(() => {}), { endStatus: 'ZX_ERR_CANCELED' }, 'the device close destroyed the interrupt');
  await thread.close();
});

t.test('open refuses bad input and other devices, and leaves nothing behind', async (t) => {
  const other = createTestDevice({ msix: { vectors: 1 } });
  await t.rejects(NvmeIrqThread.open(other), { name: 'DdkError', code: 'ENODEV' });
  other.close();
  await t.rejects(NvmeIrqThread.open(null as never), TypeError);
  const device = createNvmeDevice({ inlineCommands: true, readyDelayMs: 60_000 });
  await t.rejects(NvmeIrqThread.open(device, null as never), TypeError);
  await t.rejects(NvmeIrqThread.open(device, { queueEntries: 1 }), RangeError);
  await t.rejects(NvmeIrqThread.open(device, { readyTimeoutMs: 0 }), RangeError);
  await t.rejects(NvmeIrqThread.open(device, { readyTimeoutMs: 20 }), { code: 'ETIMEDOUT', message: /CSTS.RDY did not become 1/ });
  t.notOk(msixEnabled(device), 'the interrupt mode was reset');
  t.equal(device.dma.mappings, 0);
  device.close();
});

t.test('serveNvmeIrqThread on this thread: ready, a malformed and a bad request rejected, a completion, stopped', async (t) => {
  const device = createNvmeDevice({ inlineCommands: true });
  const { sender, worker } = createIrqThreadChannel();
  sender.post('not a request');
  sender.post({ submit: { id: 5, command: { kind: 'format-nvm' } } });
  sender.post({ submit: { id: 6, command: { kind: 'identify-namespace', nsid: 0 } } });
  sender.post({ submit: { id: 1, command: IDENTIFY } });
  const events: NvmeThreadEvent[] = [];
  await serveNvmeIrqThread(device, worker, (event) => {
    events.push(event);
    if ('completion' in event) sender.post({ stop: true });
  }, { queueEntries: 2 });
  t.match(events[0], { ready: { bdf: device.bdf, queueEntries: 2 } });
  t.match(events[1], { rejected: { id: -1, reason: /not a request/ } });
  t.match(events[2], { rejected: { id: 5, reason: /unknown command kind "format-nvm"/ } });
  t.match(events[3], { rejected: { id: 6, reason: /nsid in 1\.\.0xfffffffe/ } });
  t.match(events[4], { completion: { id: 1, status: 0, result: { serial: 'deadbeef' } } });
  t.match(events[5], { stopped: { submitted: 1, completed: 1, wakes: 1, abandoned: 0, endStatus: 'ZX_ERR_CANCELED' } });
  t.equal(events.length, 6);
  t.equal(device.dma.mappings, 0, 'the driver closed');
  t.equal(nativeSourceCount(), 0, 'the mailbox closed');
  worker.port.close();
  sender.close();
  device.close();
});

t.test('serveNvmeIrqThread: a device it cannot drive is reported as { error }', async (t) => {
  const other = createTestDevice({ msix: { vectors: 1 } });
  const { sender, worker } = createIrqThreadChannel();
  const events: NvmeThreadEvent[] = [];
  await serveNvmeIrqThread(other, worker, (event) => events.push(event));
  t.match(events, [{ error: /not an NVM Express controller/ }]);
  worker.port.close();
  sender.close();
  other.close();
});
