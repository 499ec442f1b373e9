/**
 * Port object (spec/zircon.md A.6, `port_dispatcher.cc`). Interrupt packets are embedded in their
 * interrupt object (at most one queued per interrupt) and sit in their own queue, drained before the
 * ordinary one; only ports created with ZX_PORT_BIND_TO_INTERRUPT take them. One waiter is released
 * per packet, in arrival order.
 *
 * Hot path (interrupt → packet → waiter): pushing the interrupt object on an array and resolving the
 * first waiter; the only objects created are the caller's Promise and — unless the caller's out holds a
 * PortPacketBuffer, which is filled in place — the packet the contract hands back.
 */
import { ZX_OBJ_TYPE_PORT } from '../constants/object-types.ts';
import { ZX_PKT_TYPE_INTERRUPT, ZX_TIME_INFINITE } from '../constants/options.ts';
import { monoNs } from '../../irq/clock.ts';
import { ZX_ERR_SHOULD_WAIT, ZX_ERR_TIMED_OUT, ZX_OK } from '../constants/status.ts';
import { KernelObject, type SignalObserver } from '../kernel/kernel-object.ts';
import { armDeadline, type DeadlineTimer } from '../kernel/deadline.ts';
import type { Out, zx_port_packet_t } from '../types.ts';
import { PortPacketBuffer } from './port-packet-buffer.ts';

/** What the port needs from an interrupt object's embedded packet. */
export interface EmbeddedInterruptPacket {
  packetKey: bigint;
  readonly packetTimestamp: bigint;
  packetQueued: boolean;
  /** The packet timestamp as two int32 words (no bigint), for a PortPacketBuffer. */
  writePacketTimestamp(to: Int32Array): void;
}

/** Zircon bounds the ordinary queue (kMaxPendingPacketCount); zx_port_queue then fails SHOULD_WAIT. */
export const PORT_MAX_USER_PACKETS = 16384;

type Resolve = (status: number) => void;

export class PortObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_PORT;
  override readonly waitable = false;
  readonly bindToInterrupt: boolean;
  readonly #interrupts: EmbeddedInterruptPacket[] = [];
  readonly #packets: zx_port_packet_t[] = [];
  // Waiters in parallel arrays: no record per wait (the Promise's resolve is the identity).
  readonly #waitResolve: Resolve[] = [];
  readonly #waitOut: Out<zx_port_packet_t>[] = [];
  readonly #waitTimer: (DeadlineTimer | null)[] = [];

  constructor(bindToInterrupt: boolean) {
    super();
    this.bindToInterrupt = bindToInterrupt;
  }

  /** Queues an interrupt's embedded packet; false when it is already queued (A.6). */
  queueInterrupt(irq: EmbeddedInterruptPacket): boolean {
    if (irq.packetQueued) return false;
    if (this.#waitResolve.length > 0) {
      const out = this.#waitOut[0] as Out<zx_port_packet_t>;
      const resolve = this.#shiftWaiter();
      this.#copyInterrupt(irq, out);
      resolve(ZX_OK);
      return true;
    }
    irq.packetQueued = true;
    this.#interrupts.push(irq);
    return true;
  }

  /** Takes an interrupt's packet out of the queue; true when it was still queued (unread). */
  removeInterrupt(irq: EmbeddedInterruptPacket): boolean {
    if (!irq.packetQueued) return false;
    irq.packetQueued = false;
    const at = this.#interrupts.indexOf(irq);
    if (at >= 0) this.#interrupts.splice(at, 1);
    return true;
  }

  /** Queues an ordinary packet (user or signal). ZX_ERR_SHOULD_WAIT when the queue is full. */
  queuePacket(packet: zx_port_packet_t): number {
    if (this.#waitResolve.length > 0) {
      const out = this.#waitOut[0] as Out<zx_port_packet_t>;
      const resolve = this.#shiftWaiter();
      this.#copyPacket(packet, out);
      resolve(ZX_OK);
      return ZX_OK;
    }
    if (this.#packets.length >= PORT_MAX_USER_PACKETS) return ZX_ERR_SHOULD_WAIT;
    this.#packets.push(packet);
    return ZX_OK;
  }

  get queuedCount(): number {
    return this.#interrupts.length + this.#packets.length;
  }

  /** zx_port_wait after the handle checks: a packet now, TIMED_OUT for a past deadline, else block. */
  wait(deadline: bigint, out: Out<zx_port_packet_t>): Promise<number> {
    if (this.#dequeueInto(out)) return Promise.resolve(ZX_OK);
    // The clock is read only for finite deadlines (ZX_TIME_INFINITE: no timer, no closure).
    const now = deadline >= ZX_TIME_INFINITE ? 0n : monoNs();
    if (deadline <= now) return Promise.resolve(ZX_ERR_TIMED_OUT);
    this.#pendingOut = out;
    this.#pendingDeadline = deadline;
    this.#pendingNow = now;
    return new Promise<number>(this.#enqueueWaiter);
  }

  #syncStatus: number | null = null;
  readonly #setSyncStatus = (status: number): void => {
    this.#syncStatus = status;
  };

  /**
   * The blocking zx_port_wait's first step: a packet now → OK; a past deadline → TIMED_OUT; else a
   * synchronous waiter joins the queue (no timer: the blocking loop watches the deadline) and null is
   * returned; `takeSyncStatus()` then tells when a packet released it, `cancelSyncWait()` removes it.
   */
  beginWaitSync(deadline: bigint, out: Out<zx_port_packet_t>): number | null {
    if (this.#dequeueInto(out)) return ZX_OK;
    if (deadline < ZX_TIME_INFINITE && deadline <= monoNs()) return ZX_ERR_TIMED_OUT;
    this.#syncStatus = null;
    this.#waitResolve.push(this.#setSyncStatus);
    this.#waitOut.push(out);
    this.#waitTimer.push(null);
    return null;
  }

  takeSyncStatus(): number | null {
    const status = this.#syncStatus;
    this.#syncStatus = null;
    return status;
  }

  cancelSyncWait(): void {
    const at = this.#waitResolve.indexOf(this.#setSyncStatus);
    if (at < 0) return;
    this.#waitResolve.splice(at, 1);
    this.#waitOut.splice(at, 1);
    this.#waitTimer.splice(at, 1);
  }

  #pendingOut: Out<zx_port_packet_t> | null = null;
  #pendingDeadline = 0n;
  #pendingNow = 0n;
  /** The Promise executor, bound once: records the waiter set up by `wait` (no closure per wait). */
  readonly #enqueueWaiter = (resolve: Resolve): void => {
    this.#waitResolve.push(resolve);
    this.#waitOut.push(this.#pendingOut as Out<zx_port_packet_t>);
    this.#pendingOut = null;
    const deadline = this.#pendingDeadline;
    this.#waitTimer.push(deadline >= ZX_TIME_INFINITE ? null : armDeadline(deadline, this.#pendingNow, () => this.#timeout(resolve)));
  };

  /** wait_async observers that will queue here, with the object each one watches. */
  readonly #observers = new Map<SignalObserver, KernelObject>();

  rememberObserver(object: KernelObject, observer: SignalObserver): void {
    this.#observers.set(observer, object);
  }

  forgetObserver(observer: SignalObserver): void {
    this.#observers.delete(observer);
  }

  /**
   * PortDispatcher::on_zero_handles (port_dispatcher.cc): frees the ordinary queued packets and removes
   * the wait_async observers — nothing else. A thread blocked in zx_port_wait holds the dispatcher, not
   * a handle, so its wait stays pending until a packet comes; a bound interrupt's packet stays queued
   * (the interrupt still holds the port: a later destroy finds it and returns OK).
   */
  override onZeroHandles(): void {
    this.#packets.length = 0;
    for (const [observer, object] of this.#observers) object.removeObserver(observer);
    this.#observers.clear();
  }

  #dequeueInto(out: Out<zx_port_packet_t>): boolean {
    const irq = this.#interrupts.shift();
    if (irq !== undefined) {
      irq.packetQueued = false;
      this.#copyInterrupt(irq, out);
      return true;
    }
    const packet = this.#packets.shift();
    if (packet === undefined) return false;
    this.#copyPacket(packet, out);
    return true;
  }

  /** The interrupt packet at dequeue: key, type 7, status 0, timestamp (A.6) — in place into a buffer. */
  #copyInterrupt(irq: EmbeddedInterruptPacket, out: Out<zx_port_packet_t>): void {
    const into = out.value;
    if (into instanceof PortPacketBuffer) irq.writePacketTimestamp(into.fillInterrupt(irq.packetKey, ZX_OK));
    else out.value = { key: irq.packetKey, type: ZX_PKT_TYPE_INTERRUPT, status: ZX_OK, interrupt: { timestamp: irq.packetTimestamp } };
  }

  /** An ordinary packet leaves the queue: handed over as is, or copied into a buffer. */
  #copyPacket(packet: zx_port_packet_t, out: Out<zx_port_packet_t>): void {
    const into = out.value;
    if (into instanceof PortPacketBuffer) into.fillFrom(packet);
    else out.value = packet;
  }

  #shiftWaiter(): Resolve {
    const resolve = this.#waitResolve.shift() as Resolve;
    this.#waitOut.shift();
    this.#waitTimer.shift()?.cancel();
    return resolve;
  }

  #timeout(resolve: Resolve): void {
    const at = this.#waitResolve.indexOf(resolve);
    if (at < 0) return;
    this.#waitResolve.splice(at, 1);
    this.#waitOut.splice(at, 1);
    this.#waitTimer.splice(at, 1);
    resolve(ZX_ERR_TIMED_OUT);
  }
}
