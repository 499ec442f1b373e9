/**
 * `vfio-ddk/zircon/blocking`: the blocking forms of Zircon's waits, for a driver written the Zircon way
 * — an IRQ thread that blocks in zx_interrupt_wait / zx_port_wait — running in a Worker. Same C names,
 * arguments and statuses as `vfio-ddk/zircon`, but each returns its status synchronously: it BLOCKS
 * THE CALLING THREAD. Use it in a Worker (worker_threads), on handles and devices opened in that
 * worker (handle tables are per thread, as processes are in Zircon).
 *
 * While blocked, the thread polls the eventfds of every VFIO vector routed on it (lib/irq/blocking.ts,
 * one native poll) and runs what fired through the same path the event loop would: IrqLine → platform
 * MSI decoder → the A.8 state machine, port packets, masking. Deadlines are CLOCK_MONOTONIC
 * (zx_deadline_after), ZX_TIME_INFINITE waits forever.
 *
 * What can never complete: an emulated device's model runs on the thread that is blocked, and a
 * virtual interrupt can only be triggered by this thread. Whatever they raised before the call is
 * delivered first; beyond that, a wait with a finite deadline returns what Zircon returns when the
 * deadline passes (TIMED_OUT, after sleeping until then), one with ZX_TIME_INFINITE returns TIMED_OUT at
 * once, and zx_interrupt_wait — which has no deadline — returns ZX_ERR_BAD_STATE at once: nothing on
 * this thread could ever end those waits, and a hang is never the answer.
 * A device closed while waiting (from an interrupt-driven callback) ends the wait with CANCELED, as on
 * the event loop.
 */
import { out, u32, i64 } from '../args.ts';
import { ZX_OBJ_TYPE_INTERRUPT, ZX_OBJ_TYPE_PORT } from '../constants/object-types.ts';
import { ZX_TIME_INFINITE } from '../constants/options.ts';
import { ZX_RIGHT_READ, ZX_RIGHT_WAIT } from '../constants/rights.ts';
import { ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED, ZX_ERR_TIMED_OUT, ZX_OK } from '../constants/status.ts';
import { lookup } from '../kernel/handle-table.ts';
import type { InterruptObject } from '../objects/interrupt.ts';
import type { PortObject } from '../objects/port.ts';
import type { Out, zx_port_packet_t } from '../types.ts';
import { deliverScheduledNow } from '../../irq/irq-line.ts';
import { NO_DEADLINE, waitNativeSources } from '../../irq/blocking.ts';

/** Blocks until the interrupt fires (A.8 wait table); see the file comment for what cannot complete. */
export function zx_interrupt_wait(handle: number, outTimestamp: Out<bigint> | null): number {
  const h = u32('handle', handle);
  const o = out<bigint>('out_timestamp', outTimestamp);
  const entry = lookup(h, ZX_OBJ_TYPE_INTERRUPT, ZX_RIGHT_WAIT);
  if (typeof entry === 'number') return entry;
  const irq = entry.object as InterruptObject;
  deliverScheduledNow();
  const now = irq.beginWaitSync(o);
  if (now !== null) return now;
  for (;;) {
    deliverScheduledNow();
    const status = irq.takeSyncStatus();
    if (status !== null) return status;
    if (waitNativeSources(NO_DEADLINE) === 'none') {
      irq.abandonSyncWait();
      return ZX_ERR_BAD_STATE;
    }
  }
}

/** Dequeues one packet, blocking until one comes or `deadline` passes (TIMED_OUT). */
export function zx_port_wait(port: number, deadline: bigint, packet: Out<zx_port_packet_t> | null): number {
  const p = u32('port', port);
  const d = i64('deadline', deadline);
  const o = out<zx_port_packet_t>('packet', packet);
  const entry = lookup(p, ZX_OBJ_TYPE_PORT, ZX_RIGHT_READ);
  if (typeof entry === 'number') return entry;
  const object = entry.object as PortObject;
  // sys_port_wait: the wait happens first; a NULL packet pointer fails the copy out afterwards.
  const status = waitPort(object, d, o ?? { value: { key: 0n, type: 0, status: 0 } });
  return status === ZX_OK && o === null ? ZX_ERR_INVALID_ARGS : status;
}

function waitPort(object: PortObject, deadline: bigint, into: Out<zx_port_packet_t>): number {
  deliverScheduledNow();
  const now = object.beginWaitSync(deadline, into);
  if (now !== null) return now;
  const until = deadline >= ZX_TIME_INFINITE ? NO_DEADLINE : deadline;
  for (;;) {
    deliverScheduledNow();
    const status = object.takeSyncStatus();
    if (status !== null) return status;
    const outcome = waitNativeSources(until);
    if (outcome === 'timeout' || outcome === 'none') {
      deliverScheduledNow();
      const late = object.takeSyncStatus();
      if (late !== null) return late;
      object.cancelSyncWait();
      return ZX_ERR_TIMED_OUT;
    }
  }
}

/** Blocks until any of `signals` is asserted on the object or `deadline` passes (TIMED_OUT). */
export function zx_object_wait_one(handle: number, signals: number, deadline: bigint, observed: Out<number> | null): number {
  const h = u32('handle', handle);
  const mask = u32('signals', signals);
  const d = i64('deadline', deadline);
  const o = out<number>('observed', observed);
  const entry = lookup(h, null, ZX_RIGHT_WAIT);
  if (typeof entry === 'number') return entry;
  const object = entry.object;
  if (!object.waitable) return ZX_ERR_NOT_SUPPORTED;
  const until = d >= ZX_TIME_INFINITE ? NO_DEADLINE : d;
  for (;;) {
    deliverScheduledNow();
    const current = object.signals;
    if ((current & mask) !== 0) {
      if (o !== null) o.value = current;
      return ZX_OK;
    }
    const outcome = waitNativeSources(until);
    if (outcome === 'timeout' || outcome === 'none') {
      deliverScheduledNow();
      const last = object.signals;
      if (o !== null) o.value = last;
      return (last & mask) !== 0 ? ZX_OK : ZX_ERR_TIMED_OUT;
    }
  }
}
