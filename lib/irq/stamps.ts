/**
 * Interrupt timestamps without a BigInt per interrupt. CLOCK_BOOTTIME / CLOCK_MONOTONIC ns are 64-bit;
 * as JS values they would be a bigint each, made per interrupt. Instead they live in small typed
 * arrays and move between them as int32 words (always small integers to V8: nothing is allocated),
 * and a bigint is made only where a result needs one (zx_interrupt_wait's out_timestamp, a port
 * packet's timestamp, a consumer that asks).
 *
 * Layout (native/wake_record.h): three little-endian uint64 slots — boot ns, monotonic ns, count —
 * as six int32 words. `wakeStamps` is this thread's wake record: the native watcher and the blocking
 * wait write what one eventfd read produced into it, then call JS, which reads it before anything
 * else can write it (one thread, one call at a time). Each `IrqLine` keeps its first fire's pair in
 * its own `IrqStamps`.
 */
import { bootNsAt, monoNs } from './clock.ts';

const WORDS = 6;

export class IrqStamps {
  /** [bootLo, bootHi, monoLo, monoHi, countLo, countHi]. */
  readonly words: Int32Array;
  readonly #u64: BigUint64Array;

  constructor() {
    // An ArrayBuffer of its own: off the V8 heap from the start, so native code may keep its address.
    const buffer = new ArrayBuffer(WORDS * 4);
    this.words = new Int32Array(buffer);
    this.#u64 = new BigUint64Array(buffer);
  }

  /** CLOCK_BOOTTIME ns (a new bigint: call it only where the value is needed). */
  bootNs(): bigint {
    return this.#u64[0] as bigint;
  }

  /** CLOCK_MONOTONIC ns (a new bigint). */
  monoNs(): bigint {
    return this.#u64[1] as bigint;
  }

  /** The count slot (the wake record's: what the last native read got), exact below 2^53. */
  count(): number {
    const w = this.words;
    return ((w[4] as number) >>> 0) + ((w[5] as number) >>> 0) * 0x1_0000_0000;
  }

  /** The boot/mono pair of `from`, word by word. */
  copyFrom(from: IrqStamps): void {
    const a = this.words;
    const b = from.words;
    a[0] = b[0] as number;
    a[1] = b[1] as number;
    a[2] = b[2] as number;
    a[3] = b[3] as number;
  }

  set(boot: bigint, mono: bigint): void {
    this.#u64[0] = boot;
    this.#u64[1] = mono;
  }

  /** Both clocks now: through the addon when it is loaded (no allocation), else two bigints. */
  stampNow(): void {
    if (nativeStamp !== null) {
      nativeStamp(this.words);
      return;
    }
    const mono = monoNs(); // one clock read for both: BOOTTIME = MONOTONIC + time suspended
    this.set(bootNsAt(mono), mono);
  }
}

let nativeStamp: ((record: Int32Array) => void) | null = null;

/** The loader installs the addon's clockStamps here, so `stampNow` allocates nothing. */
export function setNativeStampClock(stamp: ((record: Int32Array) => void) | null): void {
  nativeStamp = stamp;
}

/** This thread's wake record (module state: each Worker has its own). */
export const wakeStamps = new IrqStamps();
