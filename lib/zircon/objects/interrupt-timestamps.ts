/**
 * An interrupt object's two zx_time_t values — the pending timestamp (`timestamp_` in
 * interrupt_dispatcher.cc: the first trigger since the last consumption, 0 = nothing pending, spec/
 * zircon.md A.8) and the one its queued port packet carries — kept as int32 words so that an interrupt
 * allocates nothing: a bigint is made only when a waiter or a packet takes the value.
 */
import type { IrqStamps } from '../../irq/stamps.ts';

const PENDING = 0;
const PACKET = 2;

export class InterruptTimestamps {
  readonly #words: Int32Array;
  readonly #i64: BigInt64Array;

  constructor() {
    const buffer = new ArrayBuffer(16);
    this.#words = new Int32Array(buffer);
    this.#i64 = new BigInt64Array(buffer);
  }

  /** A.8's `timestamp_ != 0`. */
  get hasPending(): boolean {
    return ((this.#words[PENDING] as number) | (this.#words[PENDING + 1] as number)) !== 0;
  }

  /** The pending timestamp as zx_time_t (0n: none). */
  pending(): bigint {
    return this.#i64[0] as bigint;
  }

  /** The queued packet's timestamp. */
  packet(): bigint {
    return this.#i64[1] as bigint;
  }

  /** The queued packet's timestamp as two int32 words (no bigint). */
  packetWords(to: Int32Array): void {
    to[0] = this.#words[PACKET] as number;
    to[1] = this.#words[PACKET + 1] as number;
  }

  /** "First trigger wins": a zx_interrupt_trigger timestamp, kept only when nothing is pending. */
  recordIfNone(timestamp: bigint): void {
    if (!this.hasPending) this.#i64[0] = timestamp;
  }

  /** The same for a device interrupt: the boot or (TIMESTAMP_MONO) monotonic ns of `stamps`, word by word. */
  recordStampsIfNone(stamps: IrqStamps, mono: boolean): void {
    if (this.hasPending) return;
    const from = stamps.words;
    const at = mono ? 2 : 0;
    this.#words[PENDING] = from[at] as number;
    this.#words[PENDING + 1] = from[at + 1] as number;
  }

  clearPending(): void {
    this.#words[PENDING] = 0;
    this.#words[PENDING + 1] = 0;
  }

  /** The pending timestamp goes into the packet (and is no longer pending). */
  pendingToPacket(): void {
    this.#words[PACKET] = this.#words[PENDING] as number;
    this.#words[PACKET + 1] = this.#words[PENDING + 1] as number;
    this.clearPending();
  }

  /** An unread packet taken back (unbind): its timestamp is pending again. */
  packetToPending(): void {
    this.#words[PENDING] = this.#words[PACKET] as number;
    this.#words[PENDING + 1] = this.#words[PACKET + 1] as number;
  }
}
