/**
 * The base of every kernel object ("dispatcher"): koid, type, signal state, the observers that
 * `zx_object_wait_one` / `zx_object_wait_async` register, and the handle count whose drop to zero runs
 * `onZeroHandles` (spec/zircon.md A.3).
 */
import { ZX_SIGNAL_HANDLE_CLOSED } from '../constants/options.ts';

/** Koids: 0 invalid, 1 kernel, first user koid 1024 (A.3). */
let nextKoid = 1024n;

/** Something waiting for signals on one object through one handle. */
export interface SignalObserver {
  /** Signals that satisfy it. */
  readonly mask: number;
  /** The handle value it was registered through (closing that handle cancels it). */
  readonly handle: number;
  /**
   * Called after a change when one of `mask` is asserted, with the signals before the change (a
   * rising edge is `(previous & mask) === 0`); return true to be removed.
   */
  onSignals(signals: number, previous: number): boolean;
  /** The handle was closed: wait_one resolves CANCELED, wait_async is dropped. */
  onHandleClosed(signals: number): void;
}

export abstract class KernelObject {
  readonly koid: bigint;
  abstract readonly type: number;
  /** Whether zx_object_wait_* and zx_object_signal apply (ports are not waitable). */
  readonly waitable: boolean = true;
  #signals = 0;
  #observers: SignalObserver[] = [];
  handleCount = 0;

  constructor() {
    this.koid = nextKoid++;
  }

  get signals(): number {
    return this.#signals;
  }

  /** Clears then sets signal bits; observers whose mask became satisfied are told. */
  updateSignals(clearMask: number, setMask: number): void {
    const previous = this.#signals;
    const next = ((previous & ~clearMask) | setMask) >>> 0;
    this.#signals = next;
    if (next === previous || this.#observers.length === 0) return;
    this.#notify(next, previous);
  }

  addObserver(observer: SignalObserver): void {
    this.#observers.push(observer);
  }

  removeObserver(observer: SignalObserver): void {
    const at = this.#observers.indexOf(observer);
    if (at >= 0) this.#observers.splice(at, 1);
  }

  /** A handle to this object was closed: cancel what was registered through it. */
  handleClosed(handle: number): void {
    if (this.#observers.length === 0) return;
    const kept: SignalObserver[] = [];
    const closed: SignalObserver[] = [];
    for (const o of this.#observers) (o.handle === handle ? closed : kept).push(o);
    this.#observers = kept;
    for (const o of closed) o.onHandleClosed((this.#signals | ZX_SIGNAL_HANDLE_CLOSED) >>> 0);
  }

  #notify(signals: number, previous: number): void {
    const current = this.#observers;
    let kept: SignalObserver[] | null = null;
    for (let i = 0; i < current.length; i++) {
      const o = current[i] as SignalObserver;
      const done = (o.mask & signals) !== 0 && o.onSignals(signals, previous);
      if (done && kept === null) kept = current.slice(0, i);
      else if (!done && kept !== null) kept.push(o);
    }
    if (kept !== null) this.#observers = kept;
  }

  /** Runs when the last handle closes (interrupts destroy themselves here). */
  onZeroHandles(): void {}
}

