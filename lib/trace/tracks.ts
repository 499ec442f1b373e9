/**
 * The tracks of one traced device (its pid): named with Chrome's thread_name metadata the first time
 * something happens on them, and the two event shapes a device's tracks get — "X" slices (a register
 * access, a delivery: something that takes time) and "i" instants (a fire, a mapping) — each with the
 * order counter `seq` taken before the thing was done.
 */
import { roundUs, type TraceEvent } from './format.ts';

export interface TrackRecorder {
  /** Recording ended (stopTrace): the views pass accesses straight through. */
  readonly stopped: boolean;
  /** `action` runs when recording ends (at once if it has): a view undoes what it patched. */
  onStop(action: () => void): void;
  now(): number;
  nextSeq(): number;
  emit(event: TraceEvent): void;
}

export class DeviceTracks {
  readonly pid: number;
  readonly #recorder: TrackRecorder;
  readonly #named = new Set<number>();

  constructor(recorder: TrackRecorder, pid: number) {
    this.#recorder = recorder;
    this.pid = pid;
  }

  get recorder(): TrackRecorder {
    return this.#recorder;
  }

  /** Names track `tid` (once). */
  name(tid: number, name: string): void {
    if (this.#named.has(tid)) return;
    this.#named.add(tid);
    this.#recorder.emit({ name: 'thread_name', ph: 'M', pid: this.pid, tid, args: { name } });
    this.#recorder.emit({ name: 'thread_sort_index', ph: 'M', pid: this.pid, tid, args: { sort_index: tid } });
  }

  /** A slice that started at `ts` (µs) and ends now. */
  slice(tid: number, name: string, cat: string, seq: number, ts: number, args: Record<string, unknown>): void {
    const r = this.#recorder;
    r.emit({ name, ph: 'X', cat, pid: this.pid, tid, ts, dur: roundUs(r.now() - ts), args: { seq, ...args } });
  }

  /** An instant at `ts` (µs). */
  instant(tid: number, name: string, cat: string, seq: number, ts: number, args: Record<string, unknown> = {}): void {
    this.#recorder.emit({ name, ph: 'i', s: 't', cat, pid: this.pid, tid, ts, args: { seq, ...args } });
  }
}
