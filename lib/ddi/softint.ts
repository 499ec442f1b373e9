/**
 * Soft interrupts (spec/ddi.md B.3): ddi_intr_add_softint, ddi_intr_trigger_softint,
 * ddi_intr_remove_softint, ddi_intr_get_softint_pri, ddi_intr_set_softint_pri.
 *
 * A trigger posts the soft interrupt; its handler runs on the event loop (setImmediate), never inside
 * the trigger call, as handler(arg1, arg2). Triggering again before it has run → DDI_EPENDING (x86);
 * the pending flag drops as the handler starts, so a handler may re-trigger itself. Among soft
 * interrupts due in the same turn, higher soft priorities run first. Removing a pending soft interrupt
 * cancels it. No allocation per trigger: one queue, drained by one setImmediate per batch.
 */
import {
  DDI_EINVAL, DDI_EPENDING, DDI_FAILURE, DDI_INTR_SOFTPRI_MAX, DDI_INTR_SOFTPRI_MIN, DDI_SUCCESS,
} from './constants.ts';
import { isDevInfo, type DevInfo, type dev_info_t } from './dev-info.ts';
import { isInt, isOut, type Out } from './args.ts';
import type { ddi_intr_handler_t } from './intr-handle.ts';

export class SoftintHandle {
  readonly dip: DevInfo;
  pri: number;
  handler: ddi_intr_handler_t | null;
  arg1: unknown;
  arg2: unknown = null;
  pending = false;
  /** Handler exceptions caught. */
  errors = 0;

  constructor(dip: DevInfo, pri: number, handler: ddi_intr_handler_t, arg1: unknown) {
    this.dip = dip;
    this.pri = pri;
    this.handler = handler;
    this.arg1 = arg1;
  }
}

export type ddi_softint_handle_t = SoftintHandle;

const liveSoftints = new WeakSet<object>();
const queue: SoftintHandle[] = [];
let drainScheduled = false;

function lookup(h: unknown): SoftintHandle | null {
  return typeof h === 'object' && h !== null && liveSoftints.has(h) ? (h as SoftintHandle) : null;
}

function byPriority(a: SoftintHandle, b: SoftintHandle): number {
  return b.pri - a.pri;
}

function drain(): void {
  drainScheduled = false;
  // Triggers made by handlers of this batch land in the emptied queue and run on the next turn.
  const batch = queue.splice(0, queue.length).sort(byPriority);
  for (const s of batch) {
    const handler = s.handler;
    if (!s.pending || handler === null) continue; // removed meanwhile
    s.pending = false;
    try {
      handler(s.arg1, s.arg2);
    } catch (err) {
      s.errors++;
      if (s.errors === 1) {
        process.emitWarning(
          `ddi: a soft interrupt handler of ${s.dip.device.bdf} threw (${err instanceof Error ? err.message : String(err)}). ` +
          'Catch errors inside soft interrupt handlers.',
          { type: 'DdiWarning', code: 'DDI_SOFTINT_HANDLER_THREW' },
        );
      }
    }
  }
}

export function ddi_intr_add_softint(
  dip: dev_info_t | null, h: Out<ddi_softint_handle_t | null> | null, soft_pri: number,
  handler: ddi_intr_handler_t | null, arg1: unknown,
): number {
  if (!isDevInfo(dip) || !isOut(h) || typeof handler !== 'function') return DDI_EINVAL;
  if (!isInt(soft_pri) || soft_pri < DDI_INTR_SOFTPRI_MIN || soft_pri > DDI_INTR_SOFTPRI_MAX) return DDI_EINVAL;
  const softint = new SoftintHandle(dip, soft_pri, handler, arg1);
  liveSoftints.add(softint);
  h.value = softint;
  return DDI_SUCCESS;
}

export function ddi_intr_trigger_softint(h: ddi_softint_handle_t | null, arg2: unknown): number {
  const softint = lookup(h);
  if (softint === null) return DDI_EINVAL;
  if (softint.pending) return DDI_EPENDING;
  softint.pending = true;
  softint.arg2 = arg2;
  queue.push(softint);
  if (!drainScheduled) {
    drainScheduled = true;
    setImmediate(drain);
  }
  return DDI_SUCCESS;
}

export function ddi_intr_remove_softint(h: ddi_softint_handle_t | null): number {
  const softint = lookup(h);
  if (softint === null) return DDI_EINVAL;
  softint.pending = false;
  softint.handler = null;
  liveSoftints.delete(softint);
  return DDI_SUCCESS;
}

export function ddi_intr_get_softint_pri(h: ddi_softint_handle_t | null, pri: Out<number> | null): number {
  const softint = lookup(h);
  if (softint === null || !isOut(pri)) return DDI_EINVAL;
  pri.value = softint.pri;
  return DDI_SUCCESS;
}

/** Pending at the old priority → DDI_FAILURE with the priority unchanged (B.3). */
export function ddi_intr_set_softint_pri(h: ddi_softint_handle_t | null, pri: number): number {
  const softint = lookup(h);
  if (softint === null) return DDI_EINVAL;
  if (!isInt(pri) || pri < DDI_INTR_SOFTPRI_MIN || pri > DDI_INTR_SOFTPRI_MAX) return DDI_EINVAL;
  if (softint.pending) return DDI_FAILURE;
  softint.pri = pri;
  return DDI_SUCCESS;
}
