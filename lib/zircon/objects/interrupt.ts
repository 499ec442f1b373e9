/**
 * Interrupt object: the state machine of spec/zircon.md A.8 (`interrupt_dispatcher.cc`), row for row.
 * Every public method returns the status of its table row; the syscall layer has done the handle and
 * argument checks before calling.
 *
 * Hot path: `hardwareInterrupt` / `trigger` → resolve the single waiter or queue the embedded port
 * packet. No objects are created on it: the waiter is two fields, the packet is this object, the
 * timestamps are int32 words (interrupt-timestamps.ts) until a waiter or a packet takes one.
 */
import { ZX_OBJ_TYPE_INTERRUPT } from '../constants/object-types.ts';
import { ZX_VIRTUAL_INTERRUPT_UNTRIGGERED } from '../constants/options.ts';
import {
  ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE, ZX_ERR_CANCELED, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_OK,
} from '../constants/status.ts';
import { KernelObject } from '../kernel/kernel-object.ts';
import type { Out } from '../types.ts';
import { InterruptFlag, InterruptState, type InterruptHardware } from './interrupt-state.ts';
import type { EmbeddedInterruptPacket, PortObject } from './port.ts';
import { InterruptTimestamps } from './interrupt-timestamps.ts';
import type { IrqStamps } from '../../irq/stamps.ts';

type Resolve = (status: number) => void;

export class InterruptObject extends KernelObject implements EmbeddedInterruptPacket {
  readonly type = ZX_OBJ_TYPE_INTERRUPT;
  /** InterruptFlag bits. */
  readonly flags: number;
  /** zx_interrupt_create options (ZX_INFO_INTERRUPT). */
  readonly options: number;
  state: InterruptState = InterruptState.IDLE;
  /** First trigger time since last consumption (0 = nothing pending, A.8) and the queued packet's. */
  readonly #timestamps = new InterruptTimestamps();
  /** Bound port; destroy does not clear it (A.8 "structural fact"). */
  port: PortObject | null = null;
  // The embedded port packet.
  packetKey = 0n;
  packetQueued = false;
  #waitResolve: Resolve | null = null;
  #waitOut: Out<bigint> | null = null;
  /** The blocking form's waiter: its status lands here instead of in a Promise. */
  #syncStatus: number | null = null;
  #stateBeforeSyncWait: InterruptState = InterruptState.IDLE;
  #hardware: InterruptHardware | null = null;

  constructor(flags: number, options: number) {
    super();
    this.flags = flags;
    this.options = options;
    if (this.#virtual) this.updateSignals(0, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED);
  }

  get #virtual(): boolean {
    return (this.flags & InterruptFlag.VIRTUAL) !== 0;
  }

  /** Attaches the device side (physical / MSI). Called once by the creating syscall. */
  setHardware(hardware: InterruptHardware): void {
    this.#hardware = hardware;
  }

  get hasWaiter(): boolean {
    return this.#waitResolve !== null;
  }

  // --- wait (A.8 wait table) -------------------------------------------------------------------
  wait(out: Out<bigint> | null): Promise<number> {
    if (this.port !== null) return Promise.resolve(ZX_ERR_BAD_STATE);
    switch (this.state) {
      case InterruptState.DESTROYED:
        return Promise.resolve(ZX_ERR_CANCELED);
      case InterruptState.TRIGGERED:
        this.state = InterruptState.NEEDACK;
        this.#consume(out);
        return Promise.resolve(ZX_OK);
      case InterruptState.NEEDACK:
        if (this.#timestamps.hasPending) {
          this.#consume(out);
          return Promise.resolve(ZX_OK);
        }
        if ((this.flags & InterruptFlag.UNMASK_PREWAIT) !== 0) this.#hardware?.unmask();
        return this.#block(out);
      case InterruptState.IDLE:
        return this.#block(out);
      default: // WAITING: a second waiter
        return Promise.resolve(ZX_ERR_BAD_STATE);
    }
  }

  #block(out: Out<bigint> | null): Promise<number> {
    this.#enterWaiting(out);
    return new Promise<number>(this.#setWaiter);
  }

  #enterWaiting(out: Out<bigint> | null): void {
    this.state = InterruptState.WAITING;
    if (this.#virtual) this.updateSignals(0, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED);
    this.#waitOut = out;
  }

  /**
   * The blocking zx_interrupt_wait's first step (lib/zircon/blocking): the same table as `wait`, but
   * a block registers a synchronous waiter and returns null; the caller then dispatches native
   * interrupts until `takeSyncStatus()` is not null — the waiter woken exactly as the Promise would be.
   */
  beginWaitSync(out: Out<bigint> | null): number | null {
    if (this.port !== null) return ZX_ERR_BAD_STATE;
    const before = this.state;
    switch (before) {
      case InterruptState.DESTROYED:
        return ZX_ERR_CANCELED;
      case InterruptState.TRIGGERED:
        this.state = InterruptState.NEEDACK;
        this.#consume(out);
        return ZX_OK;
      case InterruptState.NEEDACK:
        if (this.#timestamps.hasPending) {
          this.#consume(out);
          return ZX_OK;
        }
        if ((this.flags & InterruptFlag.UNMASK_PREWAIT) !== 0) this.#hardware?.unmask();
        break;
      case InterruptState.IDLE:
        break;
      default:
        return ZX_ERR_BAD_STATE;
    }
    this.#stateBeforeSyncWait = before;
    this.#syncStatus = null;
    this.#enterWaiting(out);
    this.#waitResolve = this.#setSyncStatus;
    return null;
  }

  readonly #setSyncStatus = (status: number): void => {
    this.#syncStatus = status;
  };

  takeSyncStatus(): number | null {
    const status = this.#syncStatus;
    this.#syncStatus = null;
    return status;
  }

  /** Nothing can ever wake the blocking waiter: it leaves, the object back as it was. */
  abandonSyncWait(): void {
    if (this.#waitResolve !== this.#setSyncStatus) return;
    this.#waitResolve = null;
    this.#waitOut = null;
    if (this.state === InterruptState.WAITING) this.state = this.#stateBeforeSyncWait;
  }

  /** The Promise executor, bound once (no closure per wait). */
  readonly #setWaiter = (resolve: Resolve): void => {
    this.#waitResolve = resolve;
  };

  /** Returns the pending timestamp to a waiter and clears it. */
  #consume(out: Out<bigint> | null): void {
    if (out !== null) out.value = this.#timestamps.pending();
    this.#timestamps.clearPending();
  }

  /** The blocked waiter re-evaluates: TRIGGERED → OK (NEEDACK); DESTROYED → CANCELED. */
  #wake(): void {
    const resolve = this.#waitResolve;
    if (resolve === null) return;
    const out = this.#waitOut;
    this.#waitResolve = null;
    this.#waitOut = null;
    if (this.state === InterruptState.DESTROYED) {
      resolve(ZX_ERR_CANCELED);
      return;
    }
    this.state = InterruptState.NEEDACK;
    this.#consume(out);
    resolve(ZX_OK);
  }

  // --- trigger / hardware interrupt (A.8 trigger table) ----------------------------------------
  trigger(timestamp: bigint): number {
    if (!this.#virtual) return ZX_ERR_BAD_STATE;
    if (this.state === InterruptState.DESTROYED) return ZX_ERR_CANCELED;
    this.#timestamps.recordIfNone(timestamp); // first trigger wins
    this.#record(false);
    this.updateSignals(ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0);
    return ZX_OK;
  }

  /** A delivery from the device (the IrqLine consumer), with the timeline chosen at creation. */
  hardwareInterrupt(stamps: IrqStamps): void {
    if (this.state === InterruptState.DESTROYED) return; // handler unregistered on destroy
    this.#timestamps.recordStampsIfNone(stamps, (this.flags & InterruptFlag.TIMESTAMP_MONO) !== 0); // first trigger wins
    this.#record(true);
  }

  /** The zx_time_t the embedded packet carries (read once, when the port hands it out). */
  get packetTimestamp(): bigint {
    return this.#timestamps.packet();
  }

  writePacketTimestamp(to: Int32Array): void {
    this.#timestamps.packetWords(to);
  }

  /** The pending timestamp (0n: none), for diagnostics. */
  get timestamp(): bigint {
    return this.#timestamps.pending();
  }

  #record(hardware: boolean): void {
    if (this.port !== null) {
      if (this.state === InterruptState.NEEDACK) return; // coalesced until ack
      this.#send();
      this.state = InterruptState.NEEDACK;
      return;
    }
    if (hardware && (this.flags & InterruptFlag.MASK_POSTWAIT) !== 0) this.#hardware?.mask();
    if (this.state !== InterruptState.NEEDACK) {
      this.state = InterruptState.TRIGGERED;
      this.#wake();
    }
  }

  /** Queue the embedded packet with the pending timestamp; clear it; mask if MASK_POSTWAIT. */
  #send(): boolean {
    let queued = false;
    if (!this.packetQueued && this.port !== null) {
      this.#timestamps.pendingToPacket();
      queued = this.port.queueInterrupt(this);
    }
    if ((this.flags & InterruptFlag.MASK_POSTWAIT) !== 0) this.#hardware?.mask();
    this.#timestamps.clearPending();
    return queued;
  }

  // --- ack (A.8 ack table) ---------------------------------------------------------------------
  ack(): number {
    if (this.port === null && (this.flags & InterruptFlag.ALLOW_ACK_WITHOUT_PORT_FOR_TEST) === 0) return ZX_ERR_BAD_STATE;
    if (this.state === InterruptState.DESTROYED) return ZX_ERR_CANCELED;
    if (this.state !== InterruptState.NEEDACK) return this.#ackSucceeded(false);
    if ((this.flags & InterruptFlag.UNMASK_PREWAIT) !== 0) this.#hardware?.unmask();
    if (this.#timestamps.hasPending) {
      if (!this.#send()) return ZX_ERR_BAD_STATE; // previous packet still unread: pending discarded
      return this.#ackSucceeded(true);
    }
    this.state = InterruptState.IDLE;
    return this.#ackSucceeded(false);
  }

  /** Virtual: assert UNTRIGGERED on success, strobed off again when the ack re-triggered. */
  #ackSucceeded(retriggered: boolean): number {
    if (this.#virtual) {
      this.updateSignals(0, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED);
      if (retriggered) this.updateSignals(ZX_VIRTUAL_INTERRUPT_UNTRIGGERED, 0);
    }
    return ZX_OK;
  }

  // --- bind / unbind (A.8) ---------------------------------------------------------------------
  bind(port: PortObject, key: bigint): number {
    if (this.state === InterruptState.DESTROYED) return ZX_ERR_CANCELED;
    if (this.state === InterruptState.WAITING) return ZX_ERR_BAD_STATE;
    if (this.port !== null) return ZX_ERR_ALREADY_BOUND;
    const f = this.flags;
    if ((f & InterruptFlag.UNMASK_PREWAIT_UNLOCKED) !== 0 && (f & InterruptFlag.MASK_POSTWAIT) !== 0) return ZX_ERR_INVALID_ARGS;
    this.port = port;
    this.packetKey = key;
    if (this.state === InterruptState.TRIGGERED) {
      this.#send(); // BindTriggeredIrqToPort: delivered at once
      this.state = InterruptState.NEEDACK;
    }
    return ZX_OK;
  }

  unbind(port: PortObject): number {
    if (this.port !== port) return ZX_ERR_NOT_FOUND;
    if (this.state === InterruptState.DESTROYED) return ZX_ERR_CANCELED;
    const removed = port.removeInterrupt(this);
    // Newest kernel: an unread packet goes back to TRIGGERED so a wait or re-bind still delivers it.
    if (removed && this.state === InterruptState.NEEDACK) {
      this.state = InterruptState.TRIGGERED;
      this.#timestamps.packetToPending();
    }
    this.packetKey = 0n;
    this.port = null;
    return ZX_OK;
  }

  // --- destroy (A.8 destroy table) -------------------------------------------------------------
  destroy(): number {
    this.#hardware?.teardown();
    if (this.#virtual) this.updateSignals(0, ZX_VIRTUAL_INTERRUPT_UNTRIGGERED);
    if (this.port !== null) {
      if (this.state === InterruptState.DESTROYED) return ZX_OK;
      const wasQueued = this.port.removeInterrupt(this);
      const needAck = this.state === InterruptState.NEEDACK;
      this.state = InterruptState.DESTROYED;
      return needAck && !wasQueued ? ZX_ERR_NOT_FOUND : ZX_OK;
    }
    this.state = InterruptState.DESTROYED;
    this.#wake();
    return ZX_OK;
  }

  /** The device went away (closed / line detached): destroy so a pending wait returns CANCELED. */
  hardwareGone(): void {
    if (this.state !== InterruptState.DESTROYED) this.destroy();
  }

  override onZeroHandles(): void {
    this.destroy();
    this.#hardware?.release();
    this.#hardware = null;
  }
}
