/**
 * A hexdump as `xxd` prints one: offset, 16 bytes in hex, the printable ASCII. Returned as an object
 * whose REPL display is the text itself (util.inspect.custom), so `bar0.dump(0, 64)` shows lines, not
 * a quoted string with "\n" in it.
 */
import { inspect } from 'node:util';

export class Hexdump {
  readonly text: string;
  constructor(readonly offset: number, readonly bytes: Uint8Array) {
    const lines: string[] = [];
    for (let at = 0; at < bytes.length; at += 16) {
      const row = bytes.subarray(at, at + 16);
      const hexes = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
      const groups = [hexes.slice(0, 8).join(' '), hexes.slice(8).join(' ')].join('  ');
      const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      lines.push(`${(offset + at).toString(16).padStart(8, '0')}  ${groups.padEnd(16 * 3)}  ${ascii}`);
    }
    this.text = lines.join('\n');
  }

  toString(): string {
    return this.text;
  }

  [inspect.custom](): string {
    return this.text;
  }
}

/**
 * Reads [offset, offset + length) 4 bytes at a time (edu rejects 1- and 2-byte BAR accesses, D.2) and
 * keeps the bytes asked for. `read32` sees only aligned offsets; out-of-range throws its RangeError.
 */
export function dumpBy32(read32: (offset: number) => number, offset: number, length: number): Hexdump {
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`dump: offset must be an integer ≥ 0, got ${String(offset)}`);
  if (!Number.isInteger(length) || length < 1 || length > 1 << 20) throw new RangeError(`dump: length must be an integer in 1..1048576, got ${String(length)}`);
  const start = offset & ~3;
  const end = (offset + length + 3) & ~3;
  const words = new DataView(new ArrayBuffer(end - start));
  for (let at = start; at < end; at += 4) words.setUint32(at - start, read32(at) >>> 0, true);
  return new Hexdump(offset, new Uint8Array(words.buffer, offset - start, length));
}
