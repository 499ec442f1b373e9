/** zx_clock_get_monotonic / zx_clock_get_boot / zx_deadline_after (nanoseconds, bigint). */
import { i64 } from '../args.ts';
import { ZX_TIME_INFINITE, ZX_TIME_INFINITE_PAST } from '../constants/options.ts';
import { bootNs, monoNs } from '../../irq/clock.ts';

export function zx_clock_get_monotonic(): bigint {
  return monoNs();
}

export function zx_clock_get_boot(): bigint {
  return bootNs();
}

/** now + ns on the monotonic timeline, saturating at ZX_TIME_INFINITE / ZX_TIME_INFINITE_PAST. */
export function zx_deadline_after(ns: bigint): bigint {
  const sum = monoNs() + i64('nanoseconds', ns);
  if (sum > ZX_TIME_INFINITE) return ZX_TIME_INFINITE;
  if (sum < ZX_TIME_INFINITE_PAST) return ZX_TIME_INFINITE_PAST;
  return sum;
}
