/**
 * Replaying one recorded device against its model (replay.ts says what and why): its events in the
 * order they happened (`seq`), writes and routing applied, reads and interrupts compared.
 *
 * Timing. Events are replayed back to back; when a read differs or an interrupt has not come yet,
 * replay lets the model's delayed work run (edu's factorial and DMA, NVMe's ready and command delays)
 * and tries again, until the recorded time of the event (from the first event; now, when replay runs
 * behind the recording) plus the slack has passed on replay's own clock. Interrupts are compared as
 * running totals per vector: by each recorded fire the model must have fired at least as often; at
 * the end (the device's close), exactly as often. Re-reading a register assumes reads have no side
 * effects, true of every model lib/emu has.
 *
 * Host memory (replay-memory.ts): spans recorded before a write are put into the model's memory; at a
 * delivery, the bytes the model wrote must be the bytes the device wrote. Where the model works faster
 * than the device (edu's DMA: 1 ms against 100 ms), a delivery of some other interrupt while a DMA
 * still runs on the device would show the model's bytes early; the drivers here wait for a DMA's
 * interrupt before anything else.
 */
import type { EmuPciDevice } from '../emu/device.ts';
import { IrqLine } from '../irq/irq-line.ts';
import { findMsi, findMsix } from '../pci/capabilities.ts';
import { PCI_COMMAND } from '../pci/regs.ts';
import type { IrqIndex } from '../pci/vfio-indices.ts';
import { CAT, hexString, irqTrack, irqTrackName, parseHex, type DeviceInfo, type TraceEvent } from './format.ts';
import { restoreRegisters, type StaleRegister } from './initial-state.ts';
import { ReplayMemory, type MemoryMismatch } from './replay-memory.ts';
import { accessOf, BackendOwned, comparedBits, pollRuns, type Access } from './replay-rules.ts';

/** The longest replay waits for one read or interrupt to match, whatever the file's timestamps say. */
const MAX_EVENT_WAIT_MS = 10_000;

export interface ReplayDifference {
  readonly device: string;
  readonly seq: number | null;
  /** When the event happened in the recording, µs since the trace started. */
  readonly tsUs: number | null;
  readonly kind: 'open' | 'read' | 'interrupt' | 'dma' | 'error';
  /** 'BAR0 STATUS', 'config PCI_COMMAND', 'MSI 0' … */
  readonly where: string;
  readonly recorded: string;
  readonly model: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => { setTimeout(resolve, ms); });

export class DeviceReplay {
  readonly name: string;
  readonly #info: DeviceInfo;
  readonly #model: EmuPciDevice;
  readonly #events: readonly TraceEvent[];
  readonly #slackMs: number;
  readonly #lenient: Map<number, ReadonlySet<bigint>>;
  readonly #owned: BackendOwned;
  readonly #lines = new Map<string, IrqLine>();
  /** Fires of lines a vector had before its current one. */
  readonly #earlierFires = new Map<string, number>();
  readonly #expected = new Map<string, number>();
  readonly #messages = new Map<string, number>();
  readonly #memory: ReplayMemory;
  /** BAR0 registers that held state the model could not take, until the recording writes them. */
  #stale: StaleRegister[] = [];
  #firstTs = 0;
  #startMs = 0;
  /** What replay did about the recorded device's state at open. */
  readonly notes: string[] = [];
  reads = 0;
  interrupts = 0;
  replayed = 0;

  /** `events`: the device's events (not its metadata), in any order. */
  constructor(name: string, info: DeviceInfo, model: EmuPciDevice, events: readonly TraceEvent[], slackMs: number) {
    this.name = name;
    this.#info = info;
    this.#model = model;
    this.#slackMs = slackMs;
    this.#events = [...events].filter((e) => typeof e.args?.['seq'] === 'number').sort((a, b) => Number(a.args?.['seq']) - Number(b.args?.['seq']));
    const accesses = this.#events.map(accessOf).filter((a): a is Access => a !== null);
    this.#lenient = pollRuns(accesses);
    this.#owned = new BackendOwned(findMsi(model.config), findMsix(model.config));
    this.#memory = new ReplayMemory(model);
  }

  /** Replays every event; the first difference, or null when the model did what the device did. */
  async run(): Promise<ReplayDifference | null> {
    const model = this.#model;
    // Where the driver found the device: VFIO's open set Command; the DMA mask as it was.
    model.config.write16(PCI_COMMAND, this.#info.command);
    model.dma.setMask(BigInt(this.#info.dmaMask));
    model.irq.setMessageSink({ message: (_lo, _hi, data, count) => { this.#count(this.#messages, `message ${hexString(data, 4)}`, count); } });
    this.#stale = await restoreRegisters(model, this.#info.registers ?? null, () => sleep(5));
    this.notes.push(...this.#stale.map((r) => r.note));
    this.#firstTs = this.#events[0]?.ts ?? 0;
    this.#startMs = performance.now();
    try {
      for (const event of this.#events) {
        const difference = await this.#replay(event);
        this.replayed++;
        if (difference !== null) return difference;
        if (event.cat === CAT.device && event.name === 'close') break;
      }
      return this.#totals();
    } finally {
      this.#memory.release();
      model.close();
    }
  }

  #difference(event: TraceEvent | null, kind: ReplayDifference['kind'], where: string, recorded: string, modelled: string): ReplayDifference {
    const seq = event?.args?.['seq'];
    return { device: this.name, seq: typeof seq === 'number' ? seq : null, tsUs: event?.ts ?? null, kind, where, recorded, model: modelled };
  }

  /**
   * The event's recorded time on replay's clock (or now, when replay runs behind), plus the slack —
   * but never more than MAX_EVENT_WAIT_MS from now: a timestamp far ahead (a crafted or damaged file)
   * must not stall replay, and no modelled device needs that long to answer.
   */
  #deadline(event: TraceEvent): number {
    const now = performance.now();
    const recorded = Math.max(now, this.#startMs + ((event.ts ?? 0) - this.#firstTs) / 1000);
    return Math.min(recorded, now + MAX_EVENT_WAIT_MS) + this.#slackMs;
  }

  #count(map: Map<string, number>, key: string, count: number): void {
    map.set(key, (map.get(key) ?? 0) + count);
  }

  async #replay(event: TraceEvent): Promise<ReplayDifference | null> {
    try {
      const access = accessOf(event);
      if (access !== null) return access.op === 'write' ? (this.#write(access), null) : await this.#read(event, access);
      if (event.cat === CAT.dma) return this.#dma(event);
      if (event.cat === CAT.irq) return await this.#irq(event);
      if (event.cat === CAT.device && event.name === 'reset') this.#model.reset();
      return null;
    } catch (err) {
      return this.#difference(event, 'error', event.name, 'it succeeded on the recorded device', `the model threw ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The stale register `a` touches, if any (initial-state.ts). */
  #staleAt(a: Access): StaleRegister | undefined {
    return a.space !== 0 ? undefined : this.#stale.find((r) => a.offset < r.offset + r.width && r.offset < a.offset + a.width);
  }

  #write(a: Access): void {
    this.#owned.written(a);
    const stale = this.#staleAt(a);
    if (stale !== undefined) this.#stale = this.#stale.filter((r) => r !== stale);
    const m = this.#model;
    const target = a.space === 'config' ? m.config : m.bar(a.space);
    const v = Number(a.value & 0xffff_ffffn);
    if (a.width === 8) m.bar(a.space as number).write64(a.offset, a.value);
    else if (a.width === 4) target.write32(a.offset, v);
    else if (a.width === 2) target.write16(a.offset, v);
    else target.write8(a.offset, v);
  }

  #readModel(a: Access): bigint {
    const m = this.#model;
    const target = a.space === 'config' ? m.config : m.bar(a.space);
    if (a.width === 8) return m.bar(a.space as number).read64(a.offset);
    return BigInt(a.width === 4 ? target.read32(a.offset) : a.width === 2 ? target.read16(a.offset) : target.read8(a.offset));
  }

  async #read(event: TraceEvent, a: Access): Promise<ReplayDifference | null> {
    this.reads++;
    const mask = comparedBits(this.#info, a, this.#owned);
    const lenient = this.#lenient.get(a.seq);
    if (this.#staleAt(a) !== undefined) return null;
    const fits = (v: bigint): boolean => (v & mask) === (a.value & mask) || (lenient?.has(v) ?? false);
    let value = this.#readModel(a);
    const deadline = this.#deadline(event);
    while (!fits(value) && performance.now() < deadline) {
      await sleep(1);
      value = this.#readModel(a);
    }
    if (fits(value)) return null;
    const where = `${a.space === 'config' ? 'config' : `BAR${a.space}`} ${a.reg}`;
    return this.#difference(event, 'read', `${where} (offset 0x${a.offset.toString(16)}, ${a.width} bytes)`, hexString(a.value, 2 * a.width), hexString(value, 2 * a.width));
  }

  #dma(event: TraceEvent): ReplayDifference | null {
    const a = event.args ?? {};
    const iova = parseHex(a['iova']);
    const m = this.#model;
    let mismatch: MemoryMismatch | null = null;
    if (event.name === 'set mask') m.dma.setMask(parseHex(a['mask']) ?? m.dma.mask);
    else if (iova === null) return null;
    else if (event.name === 'alloc' || event.name === 'map') this.#memory.map(iova, Number(a['size']));
    else if (event.name === 'free' || event.name === 'unmap') this.#memory.unmap(iova);
    else if (event.name === 'host memory') mismatch = this.#memory.span(iova, Buffer.from(String(a['data']), 'base64'), a['at'] === 'deliver');
    return mismatch === null ? null : this.#dmaDifference(event, mismatch);
  }

  #unexplainedWrites(event: TraceEvent): ReplayDifference | null {
    const mismatch = this.#memory.unexplained();
    return mismatch === null ? null : this.#dmaDifference(event, mismatch);
  }

  #dmaDifference(event: TraceEvent, m: MemoryMismatch): ReplayDifference {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').replace(/(..)(?!$)/g, '$1 ');
    return this.#difference(event, 'dma', `host memory at IOVA ${hexString(m.iova)} after the device's DMA`, hex(m.recorded), hex(m.model));
  }

  async #irq(event: TraceEvent): Promise<ReplayDifference | null> {
    const a = event.args ?? {};
    const irq = this.#model.irq;
    const index = a['index'] as IrqIndex;
    const vector = Number(a['vector'] ?? 0);
    const track = (): string => irqTrack(index, vector).name;
    switch (event.name) {
      case 'attach': {
        const line = new IrqLine(`replay ${track()}`);
        line.setConsumer({ fire: () => {} });
        irq.attach(index, vector, line);
        // A vector attached again (another driver, the next step) keeps counting where it was.
        const earlier = this.#lines.get(track());
        if (earlier !== undefined) this.#count(this.#earlierFires, track(), earlier.fires);
        this.#lines.set(track(), line);
        this.#owned.attached(index, vector);
        return null;
      }
      case 'detach': irq.detach(index, vector); return null;
      case 'disable': irq.disable(index); return null;
      case 'mask INTx': irq.maskIntx(); return null;
      case 'unmask INTx': irq.unmaskIntx(); return null;
      case 'trigger': irq.trigger(index, vector); return null;
      case 'fire': return this.#interrupt(event);
      case 'message': return (await this.#interrupt(event)) ?? this.#unexplainedWrites(event);
      case 'deliver': return this.#unexplainedWrites(event);
      default: return null;
    }
  }

  /** The running total of fires (or messages) of the event's track, against the model's. */
  async #interrupt(event: TraceEvent): Promise<ReplayDifference | null> {
    this.interrupts++;
    const a = event.args ?? {};
    const isMessage = event.name === 'message';
    const track = isMessage ? `message ${String(a['data'])}` : this.#trackOf(event);
    if (track === null) return null;
    this.#count(this.#expected, track, typeof a['count'] === 'number' ? a['count'] : 1);
    const wanted = this.#expected.get(track) ?? 0;
    const deadline = this.#deadline(event);
    while (this.#modelFires(track) < wanted && performance.now() < deadline) await sleep(1);
    const got = this.#modelFires(track);
    if (got >= wanted) return null;
    return this.#difference(event, 'interrupt', track, `${wanted} fire(s) by now`, `${got}`);
  }

  #trackOf(event: TraceEvent): string | null {
    return event.tid === undefined ? null : irqTrackName(event.tid);
  }

  #modelFires(track: string): number {
    const line = this.#lines.get(track);
    return line === undefined ? this.#messages.get(track) ?? 0 : (this.#earlierFires.get(track) ?? 0) + line.fires;
  }

  /** At the end: the model fired no vector more often than the device did. */
  #totals(): ReplayDifference | null {
    const tracks = new Set([...this.#lines.keys(), ...this.#messages.keys()]);
    for (const track of tracks) {
      const got = this.#modelFires(track);
      const wanted = this.#expected.get(track) ?? 0;
      if (got > wanted) return this.#difference(null, 'interrupt', track, `${wanted} fire(s) in all`, `${got}`);
    }
    return null;
  }
}
