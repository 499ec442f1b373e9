/**
 * The idiomatic tier over the syscalls (DESIGN.md "Two API tiers"): `Interrupt`, `Port`,
 * `MsiAllocation` — Promise waits, `for await` over interrupt events, `close()` + `Symbol.dispose`,
 * failures thrown as `ZxError` (`status`, `code` = the C name). Built only on the exported syscalls.
 */
import {
  ZX_HANDLE_INVALID, ZX_INTERRUPT_BIND, ZX_INTERRUPT_TIMESTAMP_MONO, ZX_INTERRUPT_UNBIND, ZX_INTERRUPT_VIRTUAL,
  ZX_MSI_MODE_MSI_X, ZX_PKT_TYPE_USER, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE,
} from './constants/options.ts';
import { ZX_INFO_MSI } from './constants/object-types.ts';
import { ZX_ERR_CANCELED, ZX_OK } from './constants/status.ts';
import { zx_handle_close } from './syscalls/handle.ts';
import {
  zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create, zx_interrupt_destroy, zx_interrupt_trigger, zx_interrupt_wait,
} from './syscalls/interrupt.ts';
import { zx_msi_allocate, zx_msi_create } from './syscalls/msi.ts';
import { zx_object_get_info } from './syscalls/object.ts';
import { zx_port_create, zx_port_queue, zx_port_wait } from './syscalls/port.ts';
import { zx_interrupt_wait as zx_interrupt_wait_blocking, zx_port_wait as zx_port_wait_blocking } from './blocking/index.ts';
import { get_root_resource } from './syscalls/resource.ts';
import type { Out, zx_info_msi_t, zx_port_packet_t } from './types.ts';
import { check } from './zx-error.ts';
import { PortPacketBuffer } from './objects/port-packet-buffer.ts';

export { ZxError } from './zx-error.ts';

/** One interrupt event: its timestamp (boot timeline, or monotonic with `mono`). */
export interface InterruptEvent {
  readonly timestamp: bigint;
}

abstract class HandleOwner implements Disposable {
  #handle: number;
  constructor(handle: number) {
    this.#handle = handle;
  }
  /** The underlying zx_handle_t (ZX_HANDLE_INVALID after close). */
  get handle(): number {
    return this.#handle;
  }
  get closed(): boolean {
    return this.#handle === ZX_HANDLE_INVALID;
  }
  /** Closes the handle (idempotent). */
  close(): void {
    const h = this.#handle;
    if (h === ZX_HANDLE_INVALID) return;
    this.#handle = ZX_HANDLE_INVALID;
    zx_handle_close(h);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

export class Interrupt extends HandleOwner implements AsyncIterable<InterruptEvent> {
  /** A virtual interrupt (trigger() raises it). */
  static virtual(options: { mono?: boolean } = {}): Interrupt {
    const out: Out<number> = { value: 0 };
    check(zx_interrupt_create(ZX_HANDLE_INVALID, 0, ZX_INTERRUPT_VIRTUAL | (options.mono ? ZX_INTERRUPT_TIMESTAMP_MONO : 0), out), 'zx_interrupt_create');
    return new Interrupt(out.value);
  }

  /** A physical interrupt: platform interrupt `irq` (zx_platform_attach().irq), `options` = ZX_INTERRUPT_MODE_*… */
  static physical(irq: number, options = 0, resource = get_root_resource()): Interrupt {
    const out: Out<number> = { value: 0 };
    check(zx_interrupt_create(resource, irq, options, out), 'zx_interrupt_create');
    return new Interrupt(out.value);
  }

  /** Wraps an existing interrupt handle (takes ownership). */
  static fromHandle(handle: number): Interrupt {
    return new Interrupt(handle);
  }

  readonly #out: Out<bigint> = { value: 0n };

  /** Waits for the next interrupt (acknowledging the previous one); resolves with its timestamp. */
  async wait(): Promise<bigint> {
    const status = await zx_interrupt_wait(this.handle, this.#out);
    check(status, 'zx_interrupt_wait');
    return this.#out.value;
  }

  /**
   * The blocking form (`vfio-ddk/zircon/blocking`): BLOCKS THE CALLING THREAD until the next interrupt —
   * use it in a Worker. Returns its timestamp; throws ZxError as `wait()` rejects.
   */
  waitBlocking(): bigint {
    check(zx_interrupt_wait_blocking(this.handle, this.#out), 'zx_interrupt_wait (blocking)');
    return this.#out.value;
  }

  ack(): void {
    check(zx_interrupt_ack(this.handle), 'zx_interrupt_ack');
  }

  trigger(timestamp: bigint = process.hrtime.bigint()): void {
    check(zx_interrupt_trigger(this.handle, 0, timestamp), 'zx_interrupt_trigger');
  }

  /** Destroys the interrupt: a pending wait rejects with ZxError ZX_ERR_CANCELED. */
  destroy(): void {
    check(zx_interrupt_destroy(this.handle), 'zx_interrupt_destroy');
  }

  bind(port: Port, key: bigint): void {
    check(zx_interrupt_bind(this.handle, port.handle, key, ZX_INTERRUPT_BIND), 'zx_interrupt_bind');
  }

  unbind(port: Port): void {
    check(zx_interrupt_bind(this.handle, port.handle, 0n, ZX_INTERRUPT_UNBIND), 'zx_interrupt_bind(UNBIND)');
  }

  /** Interrupt events until the interrupt is destroyed or closed (then the loop ends). */
  async *[Symbol.asyncIterator](): AsyncIterator<InterruptEvent> {
    for (;;) {
      if (this.closed) return;
      const status = await zx_interrupt_wait(this.handle, this.#out);
      if (status === ZX_ERR_CANCELED || (status !== ZX_OK && this.closed)) return;
      check(status, 'zx_interrupt_wait');
      yield { timestamp: this.#out.value };
    }
  }
}

/** Where a Port wait writes: the caller's buffer, or a fresh out for a fresh packet. */
function packetOut(into: PortPacketBuffer | undefined): Out<zx_port_packet_t> {
  if (into === undefined) return { value: null as unknown as zx_port_packet_t };
  if (!(into instanceof PortPacketBuffer)) throw new TypeError('into must be a PortPacketBuffer (new PortPacketBuffer())');
  return into.out;
}

export class Port extends HandleOwner implements AsyncIterable<zx_port_packet_t> {
  /** `bindToInterrupt` (default true) creates it with ZX_PORT_BIND_TO_INTERRUPT. */
  static create(options: { bindToInterrupt?: boolean } = {}): Port {
    const out: Out<number> = { value: 0 };
    check(zx_port_create(options.bindToInterrupt === false ? 0 : ZX_PORT_BIND_TO_INTERRUPT, out), 'zx_port_create');
    return new Port(out.value);
  }

  /**
   * The next packet; rejects with ZxError ZX_ERR_TIMED_OUT after `deadline` (monotonic ns). With
   * `into`, the packet is written into that buffer and the buffer returned (no garbage per packet; the
   * next wait overwrites it).
   */
  async wait(deadline: bigint = ZX_TIME_INFINITE, into?: PortPacketBuffer): Promise<zx_port_packet_t> {
    const out = packetOut(into);
    check(await zx_port_wait(this.handle, deadline, out), 'zx_port_wait');
    return out.value;
  }

  /** The blocking form: BLOCKS THE CALLING THREAD until a packet or `deadline` (use it in a Worker). */
  waitBlocking(deadline: bigint = ZX_TIME_INFINITE, into?: PortPacketBuffer): zx_port_packet_t {
    const out = packetOut(into);
    check(zx_port_wait_blocking(this.handle, deadline, out), 'zx_port_wait (blocking)');
    return out.value;
  }

  /** Queues a user packet. */
  queue(key: bigint, u64: bigint[] = [], status = 0): void {
    check(zx_port_queue(this.handle, { key, type: ZX_PKT_TYPE_USER, status, user: { u64 } }), 'zx_port_queue');
  }

  /** Packets until the port is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<zx_port_packet_t> {
    const out: Out<zx_port_packet_t | null> = { value: null };
    for (;;) {
      if (this.closed) return;
      const status = await zx_port_wait(this.handle, ZX_TIME_INFINITE, out as Out<zx_port_packet_t>);
      if (status !== ZX_OK && this.closed) return;
      check(status, 'zx_port_wait');
      yield out.value as zx_port_packet_t;
    }
  }
}

export class MsiAllocation extends HandleOwner {
  /** Allocates `count` (1, 2, 4 … 32) MSI vectors from the platform. */
  static allocate(count: number, resource = get_root_resource()): MsiAllocation {
    const out: Out<number> = { value: 0 };
    check(zx_msi_allocate(resource, count, out), 'zx_msi_allocate');
    return new MsiAllocation(out.value);
  }

  info(): zx_info_msi_t {
    const out: Out<object | null> = { value: null };
    check(zx_object_get_info(this.handle, ZX_INFO_MSI, out as Out<object>), 'zx_object_get_info(ZX_INFO_MSI)');
    return out.value as zx_info_msi_t;
  }

  /**
   * An interrupt for vector `msiId`: `vmo` is a physical VMO (UNCACHED_DEVICE) over the MSI capability
   * (at `vmoOffset`) or, with `msix`, over the MSI-X table.
   */
  createInterrupt(msiId: number, vmo: number, vmoOffset: number | bigint, options: { msix?: boolean } = {}): Interrupt {
    const out: Out<number> = { value: 0 };
    check(zx_msi_create(this.handle, options.msix ? ZX_MSI_MODE_MSI_X : 0, msiId, vmo, vmoOffset, out), 'zx_msi_create');
    return Interrupt.fromHandle(out.value);
  }
}

