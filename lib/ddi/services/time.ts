/**
 * Clock services: drv_usectohz / drv_hztousec (usr/src/uts/common/os/sunddi.c), ddi_get_lbolt /
 * ddi_get_lbolt64 (ticks since boot — here since the process started: performance.now()'s origin),
 * delay (9F; blocking in C, a Promise here), drv_usecwait (9F; a busy wait in C).
 * One tick is 1/HZ s = 10 ms (illumos' default hz of 100).
 */
import { HZ } from '../constants-services.ts';

const USEC_PER_TICK = 1_000_000 / HZ;

/** The longest drv_usecwait here (1 s): a longer busy wait blocks the event loop; use delay(). */
export const DRV_USECWAIT_MAX = 1_000_000;

const finiteInt = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** drv_usectohz(9F): microseconds → ticks, rounded up (USEC_TO_TICK_ROUNDUP); ≤ 0 → 0. */
export function drv_usectohz(microsecs: number): number {
  if (!finiteInt(microsecs) || microsecs <= 0) return 0;
  return Math.floor((Math.ceil(microsecs) - 1) / USEC_PER_TICK) + 1;
}

/** drv_hztousec(9F): ticks → microseconds; ≤ 0 → 0. */
export function drv_hztousec(ticks: number): number {
  if (!finiteInt(ticks) || ticks <= 0) return 0;
  return Math.floor(ticks) * USEC_PER_TICK;
}

/** ddi_get_lbolt(9F): ticks since the process started (clock_t: a number). */
export function ddi_get_lbolt(): number {
  return Math.floor((performance.now() * HZ) / 1000);
}

/** ddi_get_lbolt64(9F): the same as an int64_t (a bigint). */
export function ddi_get_lbolt64(): bigint {
  return BigInt(ddi_get_lbolt());
}

/** delay(9F): resolves after `ticks` ticks (≤ 0 or not a number: on the next timer turn). */
export function delay(ticks: number): Promise<void> {
  const ms = finiteInt(ticks) && ticks > 0 ? (ticks * 1000) / HZ : 0;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * drv_usecwait(9F): waits at least `usec` microseconds without yielding (the event loop is blocked,
 * as the CPU is in C). Long waits sleep in Atomics.wait, the last 200 µs spin on the monotonic clock.
 * At most DRV_USECWAIT_MAX; ≤ 0 or not a number: returns at once.
 */
export function drv_usecwait(usec: number): void {
  if (!finiteInt(usec) || usec <= 0) return;
  const wait = Math.min(usec, DRV_USECWAIT_MAX);
  const end = process.hrtime.bigint() + BigInt(Math.ceil(wait * 1000));
  if (wait > 200) Atomics.wait(sleeper, 0, 0, (wait - 200) / 1000);
  while (process.hrtime.bigint() < end) { /* spin: the C busy wait */ }
}
