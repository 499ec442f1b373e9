/**
 * The text summary's numbers, gathered in one pass over a trace (streamed: the events are not kept):
 * per device, accesses per register (reads / writes), per interrupt track the fires, deliveries, rate
 * and the raise → delivery latency, DMA mappings and host-memory spans; per kit function the calls,
 * failures and durations.
 *
 * Raise → delivery: from a register write that raises an interrupt — edu IRQ_RAISE (spec/edu.md D.3:
 * its one vector, whatever routes it), the test device's RAISE_MSI n / RAISE_MSIX n / RAISE_INTX /
 * INTX_LEVEL ← 1 — to the next delivery on that vector (the consumer starting; for a message a bus
 * driver enabled, the message). Interrupts nothing raised by a write (edu's factorial and DMA
 * completions, NVMe completions) have fires and deliveries but no such latency.
 */
import { nearestRank } from '../stats.ts';
import { EDU_REG } from '../pci/edu-regs.ts';
import { TEST_DEV_REGS } from '../emu/test-device.ts';
import { CAT, KITS_PID, parseHex, type TraceEvent } from './format.ts';
import { forEachTraceEvent, TraceMetadata } from './reader.ts';

export interface RegisterCount {
  /** 'config' or 'BAR0' … 'BAR5'. */
  readonly space: string;
  readonly reg: string;
  reads: number;
  writes: number;
}

export interface LatencyStats {
  readonly count: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

export interface InterruptStats {
  readonly track: string;
  fires: number;
  deliveries: number;
  /** Fires per second between the first and the last fire (null for fewer than two). */
  ratePerSecond: number | null;
  raiseToDelivery: LatencyStats | null;
}

export interface DeviceSummary {
  readonly pid: number;
  readonly name: string;
  readonly backend: string | null;
  readonly registers: RegisterCount[];
  readonly interrupts: InterruptStats[];
  readonly dma: { maps: number; bytesMapped: number; hostMemorySpans: number; hostMemoryBytes: number };
}

export interface KitCallStats {
  readonly kit: string;
  readonly name: string;
  calls: number;
  /** Calls that returned a failure status or threw. */
  failures: number;
  medianUs: number;
  maxUs: number;
}

export interface TraceSummary {
  readonly events: number;
  readonly durationUs: number;
  /** The recording process's command line, when this recorder wrote the trace. */
  readonly command: readonly string[] | null;
  readonly devices: DeviceSummary[];
  readonly kitCalls: KitCallStats[];
}

/** Which interrupt track a write raises ('any': the device's one vector, however it is routed), or null. */
function raisedTrack(model: string | null, event: TraceEvent): string | null {
  const a = event.args ?? {};
  if (event.cat !== CAT.bar || a['op'] !== 'write' || a['bar'] !== 0) return null;
  const value = Number(parseHex(a['value']) ?? -1n);
  if (model === 'edu') return a['offset'] === EDU_REG.IRQ_RAISE && value !== 0 ? 'any' : null;
  if (model !== 'test device') return null;
  switch (a['offset']) {
    case TEST_DEV_REGS.TEST_DEV_RAISE_MSI: return `MSI ${value}`;
    case TEST_DEV_REGS.TEST_DEV_RAISE_MSIX: return `MSI-X ${value}`;
    case TEST_DEV_REGS.TEST_DEV_RAISE_INTX: return 'INTx';
    case TEST_DEV_REGS.TEST_DEV_INTX_LEVEL: return value === 1 ? 'INTx' : null;
    default: return null;
  }
}

export function latencyStats(samples: number[]): LatencyStats | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, medianUs: nearestRank(sorted, 0.5), p99Us: nearestRank(sorted, 0.99), maxUs: sorted[sorted.length - 1] as number };
}

interface DeviceState {
  readonly registers: Map<string, RegisterCount>;
  readonly tracks: Map<number, { stats: InterruptStats; first: number; last: number }>;
  /** Raises and deliveries in ts order after sorting: [ts, kind, track]. */
  readonly timeline: [number, 'raise' | 'deliver', string][];
  readonly dma: DeviceSummary['dma'];
}

function deviceState(): DeviceState {
  return { registers: new Map(), tracks: new Map(), timeline: [], dma: { maps: 0, bytesMapped: 0, hostMemorySpans: 0, hostMemoryBytes: 0 } };
}

/** raise → delivery samples per track: each delivery takes the earliest raise still waiting for it. */
function pairRaises(timeline: DeviceState['timeline']): Map<string, number[]> {
  timeline.sort((a, b) => a[0] - b[0]);
  const waiting = new Map<string, number>();
  const samples = new Map<string, number[]>();
  for (const [ts, kind, track] of timeline) {
    if (kind === 'raise') {
      if (!waiting.has(track)) waiting.set(track, ts);
      continue;
    }
    const key = waiting.has(track) ? track : waiting.has('any') ? 'any' : null;
    if (key === null) continue;
    const list = samples.get(track) ?? [];
    list.push(ts - (waiting.get(key) as number));
    samples.set(track, list);
    waiting.delete(key);
  }
  return samples;
}

/** Summarizes the trace at `path` (reader.ts errors for a file that is not one). */
export function summarizeTrace(path: string): TraceSummary {
  const meta = new TraceMetadata(path);
  const states = new Map<number, DeviceState>();
  const calls = new Map<string, KitCallStats & { durations: number[] }>();
  const asyncStarts = new Map<number, number>();
  let start = Infinity;
  let end = -Infinity;
  const stateOf = (pid: number): DeviceState => {
    let s = states.get(pid);
    if (s === undefined) states.set(pid, s = deviceState());
    return s;
  };
  const kitCall = (event: TraceEvent, durationUs: number | null, failed: boolean): void => {
    const kit = meta.threadNames.get(KITS_PID)?.get(event.tid ?? -1) ?? 'kit';
    const key = `${kit} ${event.name}`;
    let c = calls.get(key);
    if (c === undefined) calls.set(key, c = { kit, name: event.name, calls: 0, failures: 0, medianUs: 0, maxUs: 0, durations: [] });
    c.calls++;
    if (failed) c.failures++;
    if (durationUs !== null) c.durations.push(durationUs);
  };
  const failedCall = (args: Record<string, unknown>): boolean =>
    args['threw'] !== undefined || (typeof args['status'] === 'string' && !/^(ZX_OK|DDI_SUCCESS|DDI_DMA_MAPPED)$/.test(args['status']));

  let events = 0;
  forEachTraceEvent(path, (event) => {
    if (meta.take(event)) return;
    events++;
    const ts = event.ts ?? 0;
    start = Math.min(start, ts);
    end = Math.max(end, ts + (event.dur ?? 0));
    const args = event.args ?? {};
    if (event.cat === CAT.kit) {
      if (event.ph === 'X') kitCall(event, event.dur ?? 0, failedCall(args));
      else if (event.ph === 'b' && event.id !== undefined) asyncStarts.set(event.id, ts);
      else if (event.ph === 'e' && event.id !== undefined) {
        const begun = asyncStarts.get(event.id);
        asyncStarts.delete(event.id);
        kitCall(event, begun === undefined ? null : ts - begun, failedCall(args));
      }
      return;
    }
    const device = meta.devices.get(event.pid);
    if (device === undefined) return;
    const s = stateOf(event.pid);
    if (event.cat === CAT.config || event.cat === CAT.bar) {
      const space = event.cat === CAT.config ? 'config' : `BAR${String(args['bar'])}`;
      const reg = typeof args['reg'] === 'string' ? args['reg'] : String(args['offset']);
      const key = `${space} ${reg}`;
      let r = s.registers.get(key);
      if (r === undefined) s.registers.set(key, r = { space, reg, reads: 0, writes: 0 });
      if (args['op'] === 'write') r.writes++;
      else r.reads++;
      const raised = raisedTrack(device.model, event);
      if (raised !== null) s.timeline.push([ts, 'raise', raised]);
    } else if (event.cat === CAT.irq && event.tid !== undefined && (event.name === 'fire' || event.name === 'deliver' || event.name === 'message')) {
      const track = meta.threadNames.get(event.pid)?.get(event.tid) ?? String(event.tid);
      let t = s.tracks.get(event.tid);
      if (t === undefined) s.tracks.set(event.tid, t = { stats: { track, fires: 0, deliveries: 0, ratePerSecond: null, raiseToDelivery: null }, first: Infinity, last: -Infinity });
      const count = typeof args['count'] === 'number' ? args['count'] : 1;
      if (event.name !== 'deliver') {
        t.stats.fires += count;
        t.first = Math.min(t.first, ts);
        t.last = Math.max(t.last, ts);
      }
      if (event.name !== 'fire') {
        t.stats.deliveries++;
        s.timeline.push([ts, 'deliver', track]);
      }
    } else if (event.cat === CAT.dma) {
      if (event.name === 'alloc' || event.name === 'map') {
        s.dma.maps++;
        s.dma.bytesMapped += typeof args['size'] === 'number' ? args['size'] : 0;
      } else if (event.name === 'host memory') {
        s.dma.hostMemorySpans++;
        s.dma.hostMemoryBytes += typeof args['length'] === 'number' ? args['length'] : 0;
      }
    }
  });

  const devices: DeviceSummary[] = [];
  for (const [pid, device] of meta.devices) {
    const s = states.get(pid) ?? deviceState();
    const samples = pairRaises(s.timeline);
    const interrupts = [...s.tracks.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => {
      const span = (t.last - t.first) / 1e6;
      t.stats.ratePerSecond = t.stats.fires >= 2 && span > 0 ? t.stats.fires / span : null;
      t.stats.raiseToDelivery = latencyStats(samples.get(t.stats.track) ?? []);
      return t.stats;
    });
    const registers = [...s.registers.values()].sort((a, b) => a.space.localeCompare(b.space) || b.reads + b.writes - (a.reads + a.writes));
    devices.push({ pid, name: device.name, backend: device.backend ?? null, registers, interrupts, dma: s.dma });
  }
  const kitCalls = [...calls.values()].map(({ durations, ...c }) => {
    const stats = latencyStats(durations);
    return { ...c, medianUs: stats?.medianUs ?? 0, maxUs: stats?.maxUs ?? 0 };
  }).sort((a, b) => b.calls - a.calls || a.name.localeCompare(b.name));
  return {
    events,
    durationUs: Number.isFinite(start) ? end - start : 0,
    command: meta.info === null ? null : meta.info.argv,
    devices,
    kitCalls,
  };
}
