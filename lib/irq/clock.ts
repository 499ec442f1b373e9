/**
 * Interrupt timestamps: CLOCK_BOOTTIME (Zircon's default timeline) and CLOCK_MONOTONIC
 * (ZX_INTERRUPT_TIMESTAMP_MONO), in nanoseconds. The native watcher takes both itself at the eventfd
 * read; these are for fires raised in JS (the emulated devices, virtual triggers).
 *
 * Node exposes only the monotonic clock. CLOCK_BOOTTIME − CLOCK_MONOTONIC is the time spent suspended;
 * it is read once from the addon when one is installed (`setBootOffsetSource`), otherwise taken as 0
 * (exact on machines that never suspended, which is every CI and guest here).
 */
let bootOffsetNs = 0n;

/** Lets the native layer supply the real BOOTTIME − MONOTONIC offset once it is loaded. */
export function setBootOffset(offsetNs: bigint): void {
  bootOffsetNs = offsetNs;
}

export function monoNs(): bigint {
  return process.hrtime.bigint();
}

export function bootNs(): bigint {
  return process.hrtime.bigint() + bootOffsetNs;
}

/** CLOCK_BOOTTIME at the instant a CLOCK_MONOTONIC reading `mono` was taken. */
export function bootNsAt(mono: bigint): bigint {
  return mono + bootOffsetNs;
}
