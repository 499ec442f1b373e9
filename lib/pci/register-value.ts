/**
 * The one rule for a value written to a register, on both backends (config space and BARs, lib/emu
 * and lib/vfio): a write of `width` bytes takes a JS integer that fits the width as unsigned
 * *or* as two's-complement signed — [-2^(8w-1), 2^(8w)) — and stores it as the unsigned value. So
 * `write32(o, 0xffffffff)` and `write32(o, -1)` (what `x | 0x80000000` and `~0` produce in JS) write the
 * same bits, as the Zircon tier accepts C's uint32 arguments (lib/zircon/args.ts `u32`). Anything
 * else — not a number, NaN, a fraction, a string such as "7", a value that does not fit (2^32 + 5) —
 * throws RangeError naming the access, before the device sees anything: no silent truncation.
 * 64-bit writes take a bigint in [-2^63, 2^64) by the same rule.
 */

const LIMITS = { 1: 0x100, 2: 0x1_0000, 4: 0x1_0000_0000 } as const;
const U64_LIMIT = 1n << 64n;
const I64_MIN = -(1n << 63n);

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);
}

/**
 * Checks a 1/2/4-byte register value and returns it unsigned. `what` names the access in the message
 * (e.g. 'BAR0 write32', 'config write16'). Throws RangeError as described above.
 */
export function registerValue(what: string, width: 1 | 2 | 4, value: unknown): number {
  const limit = LIMITS[width];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -limit / 2 || value >= limit) {
    throw new RangeError(`${what}: value must be an integer in [-0x${(limit / 2).toString(16)}, 0x${(limit - 1).toString(16)}] (unsigned, or signed two's complement), got ${describe(value)}`);
  }
  return value < 0 ? value + limit : value;
}

/** The same rule for 8-byte writes: a bigint in [-2^63, 2^64), returned unsigned. */
export function registerValue64(what: string, value: unknown): bigint {
  if (typeof value !== 'bigint' || value < I64_MIN || value >= U64_LIMIT) {
    throw new RangeError(`${what}: value must be a bigint in [-2^63, 2^64) (unsigned, or signed two's complement), got ${describe(value)}`);
  }
  return BigInt.asUintN(64, value);
}
