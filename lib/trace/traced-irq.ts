/**
 * The recording view of a device's interrupt routing (`device.irq`), and of the lines routed through
 * it: attach / detach / disable, VFIO's INTx mask and unmask, loopback triggers, and per vector a
 * track with
 * * "fire" — the backend counted fires on the line (emulated: inside the register write that raised
 *   them; VFIO: when the loop read the eventfd, with its coalesced count),
 * * "deliver" — the consumer (a kit's interrupt object, a driver) ran, as a slice as long as it ran,
 *   with the time since the first fire it delivers,
 * * "mask" / "unmask" of the line's latch (lib/irq/irq-line.ts).
 * A line is watched by replacing those methods on that line object only, so IrqLine itself and every
 * untraced line are untouched; when recording stops the line gets its own methods and consumer back,
 * and the view's other wrappers pass straight through. Messages of a capability a bus driver enabled
 * (MsiMessageSink) get a track per message data value.
 */
import type { IrqLine, IrqConsumer } from '../irq/irq-line.ts';
import type { IrqStamps } from '../irq/stamps.ts';
import type { MsiMessageSink, PciInterrupts } from '../pci/device.ts';
import type { IrqIndex } from '../pci/vfio-indices.ts';
import { CAT, hexString, irqTrack, roundUs, TID } from './format.ts';
import { overlay } from './overlay.ts';
import type { DeviceTracks } from './tracks.ts';

interface LineState {
  tid: number;
  /** µs of the first fire not yet delivered, or -1. */
  firstFire: number;
}

const watchedLines = new WeakMap<IrqLine, { readonly tracks: DeviceTracks; readonly state: LineState }>();

function watchLine(line: IrqLine, tracks: DeviceTracks, tid: number, beforeDelivery: () => void): void {
  const known = watchedLines.get(line);
  if (known !== undefined && known.tracks === tracks) {
    known.state.tid = tid;
    return;
  }
  const state: LineState = { tid, firstFire: -1 };
  watchedLines.set(line, { tracks, state });
  const r = tracks.recorder;
  const counted = (name: string, count: number, seq: number, ts: number): void => {
    if (state.firstFire < 0) state.firstFire = ts;
    tracks.instant(state.tid, name, CAT.irq, seq, ts, { count });
  };
  const originals = { fire: line.fire, deliver: line.deliver, mask: line.mask, unmask: line.unmask, setConsumer: line.setConsumer };
  const { fire, deliver, mask, unmask, setConsumer } = originals;
  const ownBefore = new Set(Object.keys(originals).filter((name) => Object.hasOwn(line, name)));
  // Each wrapper passes straight through once recording stopped (a later view may sit on top of it).
  const ours = {
    fire(this: IrqLine, count = 1): void {
      if (r.stopped) return fire.call(this, count);
      const seq = r.nextSeq();
      const ts = r.now();
      fire.call(this, count);
      counted('fire', count, seq, ts);
    },
    deliver(this: IrqLine, count: number, stamps: IrqStamps): void {
      if (r.stopped) return deliver.call(this, count, stamps);
      const seq = r.nextSeq();
      const ts = r.now();
      counted('fire', count, seq, ts);
      deliver.call(this, count, stamps);
    },
    mask(this: IrqLine): void {
      if (!r.stopped) tracks.instant(state.tid, 'mask', CAT.irq, r.nextSeq(), r.now());
      mask.call(this);
    },
    unmask(this: IrqLine): void {
      if (!r.stopped) tracks.instant(state.tid, 'unmask', CAT.irq, r.nextSeq(), r.now());
      unmask.call(this);
    },
    setConsumer(this: IrqLine, consumer: IrqConsumer | null): void {
      setConsumer.call(this, consumer === null || r.stopped ? consumer : recording(consumer));
    },
  };
  Object.assign(line, ours);
  /** The consumers this view wrapped, by wrapper: restored when recording stops. */
  const wrapped = new WeakMap<IrqConsumer, IrqConsumer>();
  const recording = (consumer: IrqConsumer): IrqConsumer => {
    const wrapper: IrqConsumer = {
      fire(count: number, stamps: IrqStamps): void {
        if (r.stopped) return consumer.fire(count, stamps);
        beforeDelivery();
        const seq = r.nextSeq();
        const ts = r.now();
        const latency = state.firstFire < 0 ? null : roundUs(ts - state.firstFire);
        state.firstFire = -1;
        try {
          consumer.fire(count, stamps);
        } finally {
          tracks.slice(state.tid, 'deliver', CAT.irq, seq, ts, { count, fire_to_deliver_us: latency });
        }
      },
      detached: consumer.detached === undefined ? undefined : () => consumer.detached?.(),
    };
    wrapped.set(wrapper, consumer);
    return wrapper;
  };
  const current = line.consumer;
  if (current !== null) setConsumer.call(line, recording(current));
  r.onStop(() => {
    // The line's own methods again (an own property restored, a prototype method uncovered), where no
    // later view sits on top of ours; then the consumer this view wrapped.
    const fields = line as unknown as Record<string, unknown>;
    for (const [name, original] of Object.entries(originals)) {
      if (fields[name] !== ours[name as keyof typeof ours]) continue;
      if (ownBefore.has(name)) fields[name] = original;
      else delete fields[name];
    }
    if (watchedLines.get(line)?.tracks === tracks) watchedLines.delete(line);
    const now = line.consumer;
    const unwrapped = now === null ? undefined : wrapped.get(now);
    if (unwrapped !== undefined) setConsumer.call(line, unwrapped);
  });
}

/** A sink that records each message on a track of its data value, then passes it on. */
function recordingSink(sink: MsiMessageSink, tracks: DeviceTracks, tids: Map<number, number>, beforeDelivery: () => void): MsiMessageSink {
  const r = tracks.recorder;
  return {
    message(addressLo: number, addressHi: number, data: number, count: number, stamps: IrqStamps | null): void {
      if (r.stopped) {
        sink.message(addressLo, addressHi, data, count, stamps);
        return;
      }
      beforeDelivery();
      const seq = r.nextSeq();
      const ts = r.now();
      let tid = tids.get(data);
      if (tid === undefined) {
        tid = TID.MESSAGE0 + tids.size;
        tids.set(data, tid);
        tracks.name(tid, `message ${hexString(data, 4)}`);
      }
      sink.message(addressLo, addressHi, data, count, stamps);
      tracks.slice(tid, 'message', CAT.irq, seq, ts, {
        address: hexString((BigInt(addressHi >>> 0) << 32n) | BigInt(addressLo >>> 0), 16), data: hexString(data, 4), count,
      });
    },
  };
}

/**
 * The recording view of `irq` (the device's PciInterrupts). `beforeDelivery` runs before each
 * delivery and message is recorded (the DMA view's look at host memory, traced-dma.ts).
 */
export function traceInterrupts(irq: PciInterrupts, tracks: DeviceTracks, beforeDelivery: () => void): PciInterrupts {
  const r = tracks.recorder;
  const messageTids = new Map<number, number>();
  /** Does `action`, then records it on `track` (named then: a refused vector gets no track). */
  const step = (track: { tid: number; name: string }, name: string, args: Record<string, unknown>, action: () => void): void => {
    if (r.stopped) {
      action();
      return;
    }
    const seq = r.nextSeq();
    const ts = r.now();
    action();
    tracks.name(track.tid, track.name);
    tracks.instant(track.tid, name, CAT.irq, seq, ts, args);
  };
  const intx = irqTrack(0, 0);
  return overlay(irq, {
    attach: (index: IrqIndex, vector: number, line: IrqLine): void => {
      // Watched first: an emulated attach can fire at once (an INTx level already asserted).
      const track = irqTrack(index, vector);
      if (!r.stopped) watchLine(line, tracks, track.tid, beforeDelivery);
      step(track, 'attach', { index, vector }, () => irq.attach(index, vector, line));
    },
    detach: (index: IrqIndex, vector: number): void => {
      step(irqTrack(index, vector), 'detach', { index, vector }, () => irq.detach(index, vector));
    },
    disable: (index: IrqIndex): void => {
      step({ tid: TID.device, name: 'device' }, 'disable', { index }, () => irq.disable(index));
    },
    maskIntx: (): void => {
      step(intx, 'mask INTx', { index: 0, vector: 0 }, () => irq.maskIntx());
    },
    unmaskIntx: (): void => {
      step(intx, 'unmask INTx', { index: 0, vector: 0 }, () => irq.unmaskIntx());
    },
    trigger: (index: IrqIndex, vector: number): void => {
      // seq is taken before the trigger: the fire it causes (emulated: at once) comes after it.
      step(irqTrack(index, vector), 'trigger', { index, vector }, () => irq.trigger(index, vector));
    },
    setMessageSink: (sink: MsiMessageSink | null): void => {
      irq.setMessageSink(sink === null ? null : recordingSink(sink, tracks, messageTids, beforeDelivery));
    },
  });
}
