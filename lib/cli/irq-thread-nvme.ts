/**
 * The NVMe IRQ thread (lib/drivers/nvme-irq-thread) in a Worker, driven from this thread:
 * `startNvmeIrqThread` spawns it and returns the client; `runNvmeIrqThreadRounds` is the workload of
 * `vfio-ddk irq-thread --nvme` — `rounds` admin commands (Identify Controller, Identify Namespace 1,
 * Get Features Number of Queues, in turn) with up to `depth` in flight, each completion reaped by the
 * Worker after its blocking zx_interrupt_wait and sent back here. `bdf` null: an emulated controller
 * (opened inside the Worker: handle tables and device routing are per thread).
 */
import { Worker } from 'node:worker_threads';
import { createIrqThreadChannel } from '../drivers/irq-thread-mailbox.ts';
import { NvmeIrqThreadClient } from '../drivers/nvme-irq-thread/client.ts';
import type { NvmeThreadCommand, NvmeThreadCompletion, NvmeThreadReady, NvmeThreadStats } from '../drivers/nvme-irq-thread/protocol.ts';
import { NVME_FID } from '../pci/nvme-regs.ts';
import { describeNvmeStatus } from '../drivers/nvme-commands.ts';

export function startNvmeIrqThread(options: { bdf: string | null; queueEntries?: number }): NvmeIrqThreadClient {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const { sender, worker: channel } = createIrqThreadChannel();
  const workerData = { bdf: options.bdf, channel, ...(options.queueEntries === undefined ? {} : { queueEntries: options.queueEntries }) };
  let worker: Worker;
  try {
    worker = new Worker(new URL(`./irq-thread-nvme-worker${ext}`, import.meta.url), { workerData, transferList: [channel.port] });
  } catch (error) {
    sender.close();
    throw error;
  }
  return new NvmeIrqThreadClient(worker, sender);
}

/** The commands of the workload, in turn. */
export const NVME_ROUND_COMMANDS: readonly NvmeThreadCommand[] = [
  { kind: 'identify-controller' },
  { kind: 'identify-namespace', nsid: 1 },
  { kind: 'get-features', fid: NVME_FID.NUMBER_OF_QUEUES },
];

export interface NvmeRoundsResult {
  ready: NvmeThreadReady;
  /** Completed requests, in request order. */
  completions: NvmeThreadCompletion[];
  /** Rounds that did not complete, failed, or answered differently from the first of their kind. */
  failures: { round: number; error: string }[];
  stats: NvmeThreadStats;
  /** The first Identify Controller's serial. */
  serial: string | null;
}

const sameJson = (a: unknown, b: unknown): boolean => {
  const text = (v: unknown): string => JSON.stringify(v, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
  return text(a) === text(b);
};

/** Each completion against the first of its command's kind: same status 0, same data. */
function verify(completions: readonly (NvmeThreadCompletion | undefined)[], failures: { round: number; error: string }[]): void {
  const firsts = new Map<string, { round: number; completion: NvmeThreadCompletion }>();
  completions.forEach((completion, round) => {
    if (completion === undefined) return;
    const kind = (NVME_ROUND_COMMANDS[round % NVME_ROUND_COMMANDS.length] as NvmeThreadCommand).kind;
    if (completion.status !== 0) {
      failures.push({ round, error: `${kind} failed with ${describeNvmeStatus(completion.status)}` });
      return;
    }
    const first = firsts.get(kind);
    if (first === undefined) firsts.set(kind, { round, completion });
    else if (!sameJson(first.completion.result, completion.result) || first.completion.dw0 !== completion.dw0) {
      failures.push({ round, error: `${kind} answered differently from round ${first.round}` });
    }
  });
}

export async function runNvmeIrqThreadRounds(options: { bdf: string | null; rounds: number; depth: number; queueEntries?: number }): Promise<NvmeRoundsResult> {
  const client = startNvmeIrqThread(options);
  const completions = new Array<NvmeThreadCompletion | undefined>(options.rounds).fill(undefined);
  const failures: { round: number; error: string }[] = [];
  let ready: NvmeThreadReady;
  try {
    ready = await client.ready;
  } catch (error) {
    await client.stop().catch(() => {}); // the Worker has ended or is ending: wait for it
    throw error;
  }
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < options.rounds) {
      const round = next++;
      try {
        completions[round] = await client.submit(NVME_ROUND_COMMANDS[round % NVME_ROUND_COMMANDS.length] as NvmeThreadCommand);
      } catch (error) {
        failures.push({ round, error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: options.depth }, lane));
  const stats = await client.stop();
  verify(completions, failures);
  failures.sort((a, b) => a.round - b.round);
  const done = completions.filter((c): c is NvmeThreadCompletion => c !== undefined);
  const identify = done.find((c) => c.result !== null && !Array.isArray(c.result) && 'serial' in c.result);
  return { ready, completions: done, failures, stats, serial: identify === undefined ? null : (identify.result as { serial: string }).serial };
}
