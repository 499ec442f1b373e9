/**
 * Native interrupt sources of this thread, for the blocking ("interrupt thread") forms of the kits.
 *
 * A VFIO backend registers each eventfd it routes (one per enabled vector) with the callback its
 * event-loop watcher calls. A blocking wait polls all of them at once in native code
 * (`eventfdWaitAny`, native/blocking_wait.cc), reads the one that fired and calls that same callback on
 * the calling stack — so an interrupt reaches its IrqLine, the platform's MSI decoder and the kits'
 * state machines exactly as on the event loop, only without the loop. The registry is per thread
 * (module state; each Worker has its own), like the handle table and the devices opened there.
 *
 * Emulated devices register nothing: their models run on the thread that would block, so a blocking
 * wait can only see what they already raised (delivered first, `deliverScheduledNow`).
 */
import type { NativeAddon } from '../native/addon-types.ts';
import { monoNs } from './clock.ts';
import { deliverScheduledNow } from './irq-line.ts';
import { wakeStamps } from './stamps.ts';

export interface NativeIrqSource {
  readonly fd: number;
  /** What the watcher calls: `count` fires; the read's timestamps are in this thread's `wakeStamps`. */
  deliver(count: number): void;
}

/** ZX_TIME_INFINITE: no deadline. */
export const NO_DEADLINE = 0x7fff_ffff_ffff_ffffn;

const sources: NativeIrqSource[] = [];
let fds = new Int32Array(8);
let waitAny: NativeAddon['eventfdWaitAny'] | null = null;

export function addNativeSource(source: NativeIrqSource, addon: NativeAddon): void {
  if (typeof addon.eventfdWaitAny !== 'function') return; // an addon without it (a scripted one in tests)
  waitAny ??= addon.eventfdWaitAny.bind(addon);
  sources.push(source);
  if (fds.length < sources.length) {
    const grown = new Int32Array(sources.length * 2);
    grown.set(fds); // the fds registered so far keep their places
    fds = grown;
  }
  fds[sources.length - 1] = source.fd;
}

export function removeNativeSource(source: NativeIrqSource): void {
  const at = sources.indexOf(source);
  if (at < 0) return;
  sources.splice(at, 1);
  for (let i = at; i < sources.length; i++) fds[i] = (sources[i] as NativeIrqSource).fd;
}

export function nativeSourceCount(): number {
  return sources.length;
}

export type BlockingOutcome = 'event' | 'timeout' | 'woken' | 'none';

/**
 * Delivers what is already scheduled ('event' at once when there was any), else blocks until one native
 * source fires (dispatched before returning 'event'), the CLOCK_MONOTONIC deadline passes ('timeout'), or `wakeFd` fires ('woken').
 * 'none': no native source and no wake fd — nothing could ever end the wait but the deadline, so a
 * finite deadline is waited out ('timeout') and an infinite one returns at once.
 */
export function waitNativeSources(deadlineNs: bigint, wakeFd = -1): BlockingOutcome {
  // Deliveries already due (an emulated raise, a handler that raised the next one) count as an event:
  // the caller re-checks before anything blocks.
  if (deliverScheduledNow() > 0) return 'event';
  const count = sources.length;
  if (count === 0 && wakeFd < 0) {
    if (deadlineNs === NO_DEADLINE) return 'none';
    sleepUntil(deadlineNs);
    return 'timeout';
  }
  if (waitAny === null) return 'none'; // a wake fd but no VFIO device ever opened on this thread
  // The native wait leaves the read's count and timestamps in the wake record, as the watcher does.
  const index = waitAny(fds, count, deadlineNs, wakeFd, wakeStamps.words);
  if (index === -1) return 'timeout';
  if (index === -2) return 'woken';
  const source = sources[index];
  if (source !== undefined) source.deliver(wakeStamps.count());
  deliverScheduledNow();
  return 'event';
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread until CLOCK_MONOTONIC reaches `deadlineNs` (Atomics.wait: no addon needed). */
function sleepUntil(deadlineNs: bigint): void {
  for (;;) {
    const left = deadlineNs - monoNs();
    if (left <= 0n) return;
    Atomics.wait(sleeper, 0, 0, Math.ceil(Number(left) / 1e6));
  }
}
