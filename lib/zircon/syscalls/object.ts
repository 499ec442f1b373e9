/**
 * zx_object_get_info, zx_object_signal, zx_object_wait_one, zx_object_wait_async.
 * `observed` of wait_one is written on OK, TIMED_OUT and CANCELED, as C's syscall writes it whatever
 * the wait's outcome (the one out-pointer written on a failure status).
 */
import { big, i64, out, u32, u64 } from '../args.ts';
import { ZX_INFO_HANDLE_BASIC, ZX_INFO_HANDLE_VALID, ZX_INFO_INTERRUPT, ZX_INFO_MSI, ZX_OBJ_TYPE_INTERRUPT, ZX_OBJ_TYPE_MSI, ZX_OBJ_TYPE_PORT } from '../constants/object-types.ts';
import {
  ZX_PKT_TYPE_SIGNAL_ONE, ZX_USER_SIGNAL_ALL, ZX_WAIT_ASYNC_BOOT_TIMESTAMP, ZX_WAIT_ASYNC_EDGE, ZX_WAIT_ASYNC_TIMESTAMP,
} from '../constants/options.ts';
import { ZX_RIGHT_INSPECT, ZX_RIGHT_NONE, ZX_RIGHT_SIGNAL, ZX_RIGHT_WAIT, ZX_RIGHT_WRITE } from '../constants/rights.ts';
import {
  ZX_ERR_CANCELED, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED, ZX_ERR_TIMED_OUT, ZX_OK,
} from '../constants/status.ts';
import { armDeadline, type DeadlineTimer } from '../kernel/deadline.ts';
import { lookup } from '../kernel/handle-table.ts';
import type { KernelObject, SignalObserver } from '../kernel/kernel-object.ts';
import type { InterruptObject } from '../objects/interrupt.ts';
import type { MsiAllocationObject } from '../objects/msi-allocation.ts';
import type { PortObject } from '../objects/port.ts';
import { bootNs, monoNs } from '../../irq/clock.ts';
import type { Out } from '../types.ts';

/**
 * Topics: ZX_INFO_HANDLE_VALID (no buffer), ZX_INFO_HANDLE_BASIC, ZX_INFO_MSI (INSPECT),
 * ZX_INFO_INTERRUPT (INSPECT). Another topic → NOT_SUPPORTED. A NULL buffer → INVALID_ARGS.
 */
export function zx_object_get_info(handle: number, topic: number, buffer: Out<object> | null): number {
  const h = u32('handle', handle);
  const t = u32('topic', topic);
  const o = out<object>('buffer', buffer);
  switch (t) {
    case ZX_INFO_HANDLE_VALID: {
      const entry = lookup(h, null, ZX_RIGHT_NONE);
      return typeof entry === 'number' ? entry : ZX_OK;
    }
    case ZX_INFO_HANDLE_BASIC: {
      const entry = lookup(h, null, ZX_RIGHT_NONE);
      if (typeof entry === 'number') return entry;
      if (o === null) return ZX_ERR_INVALID_ARGS;
      o.value = { koid: entry.object.koid, rights: entry.rights, type: entry.object.type, related_koid: 0n };
      return ZX_OK;
    }
    case ZX_INFO_MSI: {
      const entry = lookup(h, ZX_OBJ_TYPE_MSI, ZX_RIGHT_INSPECT);
      if (typeof entry === 'number') return entry;
      if (o === null) return ZX_ERR_INVALID_ARGS;
      o.value = (entry.object as MsiAllocationObject).info();
      return ZX_OK;
    }
    case ZX_INFO_INTERRUPT: {
      const entry = lookup(h, ZX_OBJ_TYPE_INTERRUPT, ZX_RIGHT_INSPECT);
      if (typeof entry === 'number') return entry;
      if (o === null) return ZX_ERR_INVALID_ARGS;
      o.value = { options: (entry.object as InterruptObject).options };
      return ZX_OK;
    }
    default:
      return ZX_ERR_NOT_SUPPORTED;
  }
}

/** User signals only; needs SIGNAL; ports are not signalable (NOT_SUPPORTED). */
export function zx_object_signal(handle: number, clearMask: number, setMask: number): number {
  const h = u32('handle', handle);
  const clear = u32('clear_mask', clearMask);
  const set = u32('set_mask', setMask);
  const entry = lookup(h, null, ZX_RIGHT_SIGNAL);
  if (typeof entry === 'number') return entry;
  if (!entry.object.waitable) return ZX_ERR_NOT_SUPPORTED;
  if (((clear | set) & ~ZX_USER_SIGNAL_ALL) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  entry.object.updateSignals(clear, set);
  return ZX_OK;
}

class WaitOneObserver implements SignalObserver {
  timer: DeadlineTimer | null = null;
  constructor(
    readonly mask: number,
    readonly handle: number,
    readonly object: KernelObject,
    readonly observed: Out<number> | null,
    readonly resolve: (status: number) => void,
  ) {}
  onSignals(signals: number): boolean {
    this.#finish(signals, ZX_OK);
    return true;
  }
  onHandleClosed(signals: number): void {
    this.#finish(signals, ZX_ERR_CANCELED);
  }
  timeout(): void {
    this.object.removeObserver(this);
    this.#finish(this.object.signals, ZX_ERR_TIMED_OUT);
  }
  #finish(signals: number, status: number): void {
    this.timer?.cancel();
    if (this.observed !== null) this.observed.value = signals;
    this.resolve(status);
  }
}

/** Waits for any of `signals`; needs WAIT. Past deadline = poll (TIMED_OUT when none asserted). */
export function zx_object_wait_one(handle: number, signals: number, deadline: bigint, observed: Out<number> | null): Promise<number> {
  const h = u32('handle', handle);
  const mask = u32('signals', signals);
  const d = i64('deadline', deadline);
  const o = out<number>('observed', observed);
  const entry = lookup(h, null, ZX_RIGHT_WAIT);
  if (typeof entry === 'number') return Promise.resolve(entry);
  const object = entry.object;
  if (!object.waitable) return Promise.resolve(ZX_ERR_NOT_SUPPORTED);
  const current = object.signals;
  if ((current & mask) !== 0) {
    if (o !== null) o.value = current;
    return Promise.resolve(ZX_OK);
  }
  const now = monoNs();
  if (d <= now) {
    if (o !== null) o.value = current;
    return Promise.resolve(ZX_ERR_TIMED_OUT);
  }
  return new Promise<number>((resolve) => {
    const observer = new WaitOneObserver(mask, h, object, o, resolve);
    object.addObserver(observer);
    observer.timer = armDeadline(d, now, () => observer.timeout());
  });
}

const WAIT_ASYNC_OPTIONS = ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_EDGE | ZX_WAIT_ASYNC_BOOT_TIMESTAMP;

class AsyncObserver implements SignalObserver {
  constructor(
    readonly mask: number,
    readonly handle: number,
    readonly port: PortObject,
    readonly key: bigint,
    readonly options: number,
  ) {}
  onSignals(signals: number, previous: number): boolean {
    // ZX_WAIT_ASYNC_EDGE: only a transition of the watched signals from none to some counts.
    if ((this.options & ZX_WAIT_ASYNC_EDGE) !== 0 && (previous & this.mask) !== 0) return false;
    this.port.forgetObserver(this);
    const timestamp = (this.options & ZX_WAIT_ASYNC_BOOT_TIMESTAMP) !== 0 ? bootNs()
      : (this.options & ZX_WAIT_ASYNC_TIMESTAMP) !== 0 ? monoNs() : 0n;
    this.port.queuePacket({
      key: this.key, type: ZX_PKT_TYPE_SIGNAL_ONE, status: ZX_OK,
      signal: { trigger: this.mask, observed: signals, count: 1n, timestamp },
    });
    return true;
  }
  onHandleClosed(): void {}
}

/**
 * One-shot: queues a ZX_PKT_TYPE_SIGNAL_ONE packet on `port` when any of `signals` is asserted (at once
 * if already asserted, unless ZX_WAIT_ASYNC_EDGE). Port needs WRITE, the handle WAIT.
 */
export function zx_object_wait_async(handle: number, port: number, key: bigint, signals: number, options: number): number {
  const h = u32('handle', handle);
  const p = u32('port', port);
  const k = u64('key', big('key', key));
  const mask = u32('signals', signals);
  const opts = u32('options', options);
  if ((opts & ~WAIT_ASYNC_OPTIONS) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  // syscalls/object_wait.cc: the two timestamp choices exclude each other, checked before any handle.
  if ((opts & ZX_WAIT_ASYNC_TIMESTAMP) !== 0 && (opts & ZX_WAIT_ASYNC_BOOT_TIMESTAMP) !== 0) return ZX_ERR_INVALID_ARGS;
  const portEntry = lookup(p, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE);
  if (typeof portEntry === 'number') return portEntry;
  const entry = lookup(h, null, ZX_RIGHT_WAIT);
  if (typeof entry === 'number') return entry;
  if (!entry.object.waitable) return ZX_ERR_NOT_SUPPORTED;
  const observer = new AsyncObserver(mask, h, portEntry.object as PortObject, k, opts);
  if ((opts & ZX_WAIT_ASYNC_EDGE) === 0 && (entry.object.signals & mask) !== 0) {
    observer.onSignals(entry.object.signals, 0);
    return ZX_OK;
  }
  entry.object.addObserver(observer);
  // PortDispatcher::on_zero_handles removes the port's observers: the port remembers them.
  observer.port.rememberObserver(entry.object, observer);
  return ZX_OK;
}
