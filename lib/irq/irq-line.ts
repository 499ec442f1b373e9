/**
 * `IrqLine`: an eventfd-like counter between a backend (which fires it) and one consumer (a kit's
 * interrupt object, a driver), with the per-vector mask emulation that VFIO needs.
 *
 * Delivery is always on the event loop, never inside the call that raised the interrupt (a register
 * write on the emulated device): `fire()` counts and schedules one delivery; fires before it runs
 * coalesce into its count, exactly as an eventfd's counter does (spec/pci-vfio.md C.4, last point).
 * The native watcher is already on the loop and calls `deliver()` directly.
 *
 * Masking: VFIO cannot mask MSI/MSI-X vectors (ACTION_MASK → ENOTTY), so masking is emulated here the
 * way QEMU does it: while masked, fires are latched as pending instead of delivered, and `unmask()`
 * delivers the latched fires once (on the loop). Nothing is lost: every fire is delivered or
 * coalesced into a delivery's count.
 */
import { IrqStamps } from './stamps.ts';

export interface IrqConsumer {
  /**
   * One delivery: `count` fires coalesced; `stamps` holds the first one's timestamps (`bootNs()`,
   * `monoNs()` make bigints on demand). Read or copy them during the call: the line reuses the object.
   */
  fire(count: number, stamps: IrqStamps): void;
  /** The backend unrouted this line (vector disabled, device closed). */
  detached?(): void;
}

/** Lines with a delivery scheduled; drained by one setImmediate per batch (no allocation per fire). */
const scheduled: IrqLine[] = [];
let drainScheduled = false;

function drain(): void {
  drainScheduled = false;
  // Lines fired by consumers during this drain land after `end` and get the next turn of the loop.
  const end = scheduled.length;
  for (let i = 0; i < end; i++) {
    const line = scheduled[i] as IrqLine;
    line.flushScheduled();
  }
  scheduled.splice(0, end);
}

/**
 * Delivers every scheduled line now, on the calling stack. The event loop would do it on its next
 * turn; a thread blocked in a native wait (lib/irq/blocking.ts) never gets that turn, so the blocking
 * forms of the kits call this before they decide to block.
 */
export function deliverScheduledNow(): number {
  const lines = scheduled.length;
  if (lines > 0) drain();
  return lines;
}

export class IrqLine {
  readonly name: string;
  #consumer: IrqConsumer | null = null;
  #masked = false;
  /** Fires counted but not yet delivered (scheduled, or latched while masked). */
  #count = 0;
  /** The timestamps of the first fire counted in #count. */
  readonly #first = new IrqStamps();
  #isScheduled = false;
  #fires = 0;
  #deliveries = 0;
  #attached = false;

  constructor(name = 'irq') {
    this.name = name;
  }

  /** Sets the one consumer (null to remove). Fires while there is no consumer stay counted. */
  setConsumer(consumer: IrqConsumer | null): void {
    this.#consumer = consumer;
    if (consumer && this.#count > 0 && !this.#masked) this.#schedule();
  }

  get consumer(): IrqConsumer | null {
    return this.#consumer;
  }

  /** Backend side, from anywhere: count `count` fires and schedule a delivery on the event loop. */
  fire(count = 1): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`IrqLine.fire: count must be a positive integer, got ${String(count)}`);
    if (this.#count === 0) this.#first.stampNow();
    this.#count += count;
    this.#fires += count;
    if (!this.#masked) this.#schedule();
  }

  /**
   * Backend side, already on the event loop (native eventfd watcher) or in a blocking wait: deliver
   * now, or latch if masked. `stamps`: when the fires happened (the wake record of the read).
   */
  deliver(count: number, stamps: IrqStamps): void {
    if (this.#count === 0) this.#first.copyFrom(stamps);
    this.#count += count;
    this.#fires += count;
    if (!this.#masked && !this.#isScheduled) this.#flush();
  }

  /** Latch further fires instead of delivering them. */
  mask(): void {
    this.#masked = true;
  }

  /** Deliver what was latched (once, on the event loop) and resume delivering. */
  unmask(): void {
    this.#masked = false;
    if (this.#count > 0) this.#schedule();
  }

  get masked(): boolean {
    return this.#masked;
  }

  /** Fires counted and not yet delivered (latched while masked, or about to be delivered). */
  get pending(): number {
    return this.#count;
  }

  /** Drops latched fires without delivering them (e.g. an interrupt object being destroyed). */
  clearPending(): void {
    this.#count = 0;
  }

  /** Total fires counted since creation. */
  get fires(): number {
    return this.#fires;
  }

  /** Deliveries made to the consumer since creation. */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** Backends call these when they route / unroute the line. */
  get attached(): boolean {
    return this.#attached;
  }

  markAttached(): void {
    this.#attached = true;
  }

  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#consumer?.detached?.();
  }

  #schedule(): void {
    if (this.#isScheduled) return;
    this.#isScheduled = true;
    scheduled.push(this);
    if (!drainScheduled) {
      drainScheduled = true;
      setImmediate(drain);
    }
  }

  /** @internal called by the drain loop. */
  flushScheduled(): void {
    this.#isScheduled = false;
    if (!this.#masked) this.#flush();
  }

  #flush(): void {
    const consumer = this.#consumer;
    if (consumer === null || this.#count === 0) return;
    const count = this.#count;
    this.#count = 0;
    this.#deliveries++;
    consumer.fire(count, this.#first);
  }
}
