/**
 * `replayTrace(file)`: the recorded devices replayed against their emulated models (lib/emu) — the
 * recorded config and BAR writes, DMA mappings with the host memory the device read, interrupt
 * routing and resets applied in order; every recorded read and every recorded interrupt (vector,
 * running count) compared with what the model does. A run on a real edu or NVMe so checks the
 * emulation, and a user's recording reproduces their bug without the hardware.
 *
 * What differs on purpose (replay-rules.ts): platform-assigned values (BAR addresses, Interrupt Line,
 * the kernel's MSI messages) and the number of "busy" reads in a poll; timing is given slack
 * (replay-device.ts); a device's state at open is put into the model, or its registers are not
 * compared until written (initial-state.ts). IOVAs are the recorded ones (the model's IOMMU maps at them), so registers that
 * hold an IOVA replay as recorded. Devices with no model are skipped and said so; the kits' calls are
 * not replayed (what they did to a device is in its events). The recording is read whole (reader.ts
 * readTrace): replay needs its events in the order they happened, which the file does not keep.
 */
import { DdkError } from '../errors.ts';
import type { DeviceInfo, TraceEvent } from './format.ts';
import { readTrace } from './reader.ts';
import { DeviceReplay, type ReplayDifference } from './replay-device.ts';
import { createModel, modelMismatch } from './replay-model.ts';

export type { ReplayDifference } from './replay-device.ts';

export interface ReplayOptions {
  /** How long past an event's recorded time replay waits for the model (default 250 ms). */
  slackMs?: number;
}

export interface ReplayedDevice {
  readonly name: string;
  readonly model: string | null;
  /** Events replayed (up to and including a difference). */
  readonly events: number;
  readonly reads: number;
  readonly interrupts: number;
  /** Why this device was not replayed, or null. */
  readonly skipped: string | null;
  /** Registers whose state at open the model could not take (initial-state.ts). */
  readonly notes: readonly string[];
}

export interface ReplayResult {
  /** True when every replayed device matched and at least one was replayed. */
  readonly equal: boolean;
  readonly devices: readonly ReplayedDevice[];
  readonly difference: ReplayDifference | null;
}

export const DEFAULT_REPLAY_SLACK_MS = 250;

/**
 * Replays the trace at `path`. DdkError 'ERR_NOT_A_TRACE' for trace-event JSON that `vfio-ddk trace`
 * did not write (no device records), and the reader's errors for a file that is not one at all.
 */
export async function replayTrace(path: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const slackMs = options.slackMs ?? DEFAULT_REPLAY_SLACK_MS;
  if (!Number.isFinite(slackMs) || slackMs < 0) throw new RangeError(`replayTrace: slackMs must be a finite number ≥ 0, got ${String(slackMs)}`);
  const trace = readTrace(path);
  if (trace.info === null) {
    throw new DdkError('ERR_NOT_A_TRACE', `${path} is trace-event JSON but not a vfio-ddk recording (no vfio_ddk_trace record): replay needs the device records \`vfio-ddk trace -o\` writes`);
  }
  const byPid = new Map<number, TraceEvent[]>();
  for (const event of trace.events) {
    if (!trace.devices.has(event.pid)) continue;
    let list = byPid.get(event.pid);
    if (list === undefined) byPid.set(event.pid, list = []);
    list.push(event);
  }
  const devices: ReplayedDevice[] = [];
  for (const [pid, info] of trace.devices) {
    const outcome = await replayDevice(info, byPid.get(pid) ?? [], slackMs);
    devices.push(outcome.device);
    if (outcome.difference !== null) return { equal: false, devices, difference: outcome.difference };
  }
  return { equal: devices.some((d) => d.skipped === null), devices, difference: null };
}

async function replayDevice(info: DeviceInfo & { readonly name: string }, events: readonly TraceEvent[], slackMs: number): Promise<{ device: ReplayedDevice; difference: ReplayDifference | null }> {
  const skipped = (why: string): { device: ReplayedDevice; difference: null } => ({
    device: { name: info.name, model: info.model, events: 0, reads: 0, interrupts: 0, skipped: why, notes: [] }, difference: null,
  });
  const model = createModel(info, events);
  if (typeof model === 'string') return skipped(model);
  const mismatch = modelMismatch(info, model);
  if (mismatch !== null) {
    model.close();
    return {
      device: { name: info.name, model: info.model, events: 0, reads: 0, interrupts: 0, skipped: null, notes: [] },
      difference: { device: info.name, seq: null, tsUs: null, kind: 'open', ...mismatch },
    };
  }
  const replay = new DeviceReplay(info.name, info, model, events, slackMs);
  const difference = await replay.run();
  return {
    device: { name: info.name, model: info.model, events: replay.replayed, reads: replay.reads, interrupts: replay.interrupts, skipped: null, notes: replay.notes },
    difference,
  };
}
