/**
 * An illumos-style interrupt thread for a driver running in a Worker: `ddi_intr_thread_run` blocks the
 * calling thread and dispatches this thread's device interrupts as they come — each enabled vector's
 * handler runs on this thread, with the same handler / args / CLAIMED / UNCLAIMED / mask rules as the
 * event-loop dispatch (dispatch.ts: the delivery path is the same IrqLine; only the loop is native).
 * illumos runs handlers on interrupt threads; Node has worker_threads.
 *
 * It returns when `deadline` (CLOCK_MONOTONIC ns; default never) passes — 'timeout' —, when another
 * thread writes the `wakeFd` eventfd — 'woken', the clean way to stop it (post the fd number to the
 * controlling thread; it writes 1 to it) —, after `maxEvents` deliveries — 'events' —, or at once with
 * 'none' when this thread has no VFIO vector routed (an emulated device's model runs on this thread:
 * there is nothing a blocked thread could receive). Not a DDI function: illumos has no equivalent call.
 */
import { NO_DEADLINE, waitNativeSources } from '../irq/blocking.ts';
import { deliverScheduledNow } from '../irq/irq-line.ts';

export interface IntrThreadOptions {
  deadline?: bigint;
  wakeFd?: number;
  maxEvents?: number;
}

export type IntrThreadResult = { reason: 'timeout' | 'woken' | 'events' | 'none'; events: number };

export function ddi_intr_thread_run(options: IntrThreadOptions = {}): IntrThreadResult {
  if (typeof options !== 'object' || options === null) throw new TypeError('ddi_intr_thread_run: options must be an object');
  const deadline = options.deadline ?? NO_DEADLINE;
  const wakeFd = options.wakeFd ?? -1;
  const maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY;
  if (typeof deadline !== 'bigint') throw new TypeError('ddi_intr_thread_run: deadline must be a bigint (CLOCK_MONOTONIC ns)');
  if (!Number.isInteger(wakeFd) || wakeFd < -1) throw new TypeError('ddi_intr_thread_run: wakeFd must be an eventfd number');
  if (!(maxEvents > 0)) throw new TypeError('ddi_intr_thread_run: maxEvents must be positive');
  // What is already due (an emulated device's raise before the call) is the first event.
  let events = deliverScheduledNow() > 0 ? 1 : 0;
  while (events < maxEvents) {
    const outcome = waitNativeSources(deadline, wakeFd);
    if (outcome !== 'event') return { reason: outcome, events };
    events++;
  }
  return { reason: 'events', events };
}
