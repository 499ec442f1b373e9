/**
 * Deadlines (`zx_time_t` on the monotonic timeline): ZX_TIME_INFINITE never fires; anything else arms
 * a timer that re-arms itself until the monotonic clock has passed the deadline (setTimeout caps at
 * 2^31-1 ms and may fire a little early).
 */
import { ZX_TIME_INFINITE } from '../constants/options.ts';
import { monoNs } from '../../irq/clock.ts';

export interface DeadlineTimer {
  cancel(): void;
}

const MAX_TIMEOUT_MS = 0x7fffffff;

class Timer implements DeadlineTimer {
  #handle: NodeJS.Timeout | null = null;
  readonly #deadline: bigint;
  readonly #fire: () => void;

  constructor(deadline: bigint, now: bigint, fire: () => void) {
    this.#deadline = deadline;
    this.#fire = fire;
    this.#arm(now);
  }

  #arm(now: bigint): void {
    const remainingNs = this.#deadline - now;
    const ms = remainingNs <= 0n ? 0 : Number((remainingNs + 999_999n) / 1_000_000n);
    this.#handle = setTimeout(() => {
      const t = monoNs();
      if (t >= this.#deadline) {
        this.#handle = null;
        this.#fire();
      } else this.#arm(t);
    }, Math.min(ms, MAX_TIMEOUT_MS));
  }

  cancel(): void {
    if (this.#handle !== null) clearTimeout(this.#handle);
    this.#handle = null;
  }
}

/** A timer calling `fire` once the deadline has passed, or null for ZX_TIME_INFINITE. */
export function armDeadline(deadline: bigint, now: bigint, fire: () => void): DeadlineTimer | null {
  if (deadline >= ZX_TIME_INFINITE) return null;
  return new Timer(deadline, now, fire);
}
