/**
 * Caller-owned storage for zx_port_wait's packet — the JavaScript form of C's
 *
 *     zx_port_packet_t packet;
 *     for (;;) { zx_port_wait(port, ZX_TIME_INFINITE, &packet); … }
 *
 * When `out.value` is a PortPacketBuffer (`buffer.out` is such an out, made once), zx_port_wait (async and blocking) and Port.wait(deadline,
 * into) write the dequeued packet into it in place instead of handing back a new object, so a driver's
 * steady loop makes no garbage per packet: the interrupt timestamp is kept as two int32 words and a
 * bigint is made only when `interrupt.timestamp` is read. As in C, each wait overwrites the storage:
 * keep a packet past the next wait with `copy()`.
 *
 * Like C's union, the views are fixed objects of the buffer; the one matching `type` is returned
 * (`interrupt` for ZX_PKT_TYPE_INTERRUPT, `signal` for ZX_PKT_TYPE_SIGNAL_ONE, `user` for ZX_PKT_TYPE_USER)
 * and the others read undefined, as on a packet the port builds.
 */
import { ZX_PKT_TYPE_INTERRUPT, ZX_PKT_TYPE_SIGNAL_ONE, ZX_PKT_TYPE_USER } from '../constants/options.ts';
import type { Out, zx_packet_interrupt_t, zx_packet_signal_t, zx_packet_user_t, zx_port_packet_t } from '../types.ts';

/** The interrupt view: the timestamp words, a bigint made on read. */
class InterruptView implements zx_packet_interrupt_t {
  readonly words = new Int32Array(2);
  readonly #i64 = new BigInt64Array(this.words.buffer);

  get timestamp(): bigint {
    return this.#i64[0] as bigint;
  }
}

export class PortPacketBuffer implements zx_port_packet_t {
  key = 0n;
  type = ZX_PKT_TYPE_USER;
  status = 0;
  readonly #interrupt = new InterruptView();
  readonly #signal: zx_packet_signal_t = { trigger: 0, observed: 0, count: 0n, timestamp: 0n };
  readonly #user: zx_packet_user_t = { u64: [0n, 0n, 0n, 0n] };
  /** An out-pointer to this buffer, made once: `zx_port_wait(port, deadline, buffer.out)`. */
  readonly out: Out<zx_port_packet_t> = { value: this };

  get interrupt(): zx_packet_interrupt_t | undefined {
    return this.type === ZX_PKT_TYPE_INTERRUPT ? this.#interrupt : undefined;
  }

  get signal(): zx_packet_signal_t | undefined {
    return this.type === ZX_PKT_TYPE_SIGNAL_ONE ? this.#signal : undefined;
  }

  get user(): zx_packet_user_t | undefined {
    return this.type === ZX_PKT_TYPE_USER ? this.#user : undefined;
  }

  /** An interrupt packet; the port writes the timestamp into the int32 words returned. */
  fillInterrupt(key: bigint, status: number): Int32Array {
    this.key = key;
    this.type = ZX_PKT_TYPE_INTERRUPT;
    this.status = status;
    return this.#interrupt.words;
  }

  /** A copy of an ordinary (user or signal) packet: the fields, not the objects, so nothing aliases the queue. */
  fillFrom(packet: zx_port_packet_t): void {
    this.key = packet.key;
    this.type = packet.type;
    this.status = packet.status;
    const { signal, user } = packet; // the ordinary queue holds only these two kinds
    if (signal !== undefined) {
      this.#signal.trigger = signal.trigger;
      this.#signal.observed = signal.observed;
      this.#signal.count = signal.count;
      this.#signal.timestamp = signal.timestamp ?? 0n;
    }
    if (user !== undefined) {
      const to = this.#user.u64;
      for (let i = 0; i < to.length; i++) to[i] = user.u64[i] ?? 0n;
    }
  }

  /** A plain packet holding this one's current values, unaffected by later waits. */
  copy(): zx_port_packet_t {
    const packet: zx_port_packet_t = { key: this.key, type: this.type, status: this.status };
    const { interrupt, signal, user } = this;
    if (interrupt !== undefined) packet.interrupt = { timestamp: interrupt.timestamp };
    if (signal !== undefined) packet.signal = { ...signal };
    if (user !== undefined) packet.user = { u64: [...user.u64] };
    return packet;
  }
}
