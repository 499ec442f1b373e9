/**
 * `dma` of the REPL: buffers the device can reach (device.dma.alloc) with byte helpers, and a list of
 * what is mapped. Everything is unmapped when the device closes (PciDevice.close).
 */
import type { DmaBuffer, PciDevice } from '../../pci/device.ts';
import { Hexdump } from './hexdump.ts';

/** One DMA buffer: its IOVA for the device, bytes for the host. */
export class ReplDmaBuffer {
  #freed = false;
  constructor(readonly buffer: DmaBuffer) {}
  get freed(): boolean { return this.#freed; }
  get iova(): bigint { return this.buffer.iova; }
  get size(): number { return this.buffer.size; }
  get bytes(): Uint8Array { return this.buffer.bytes; }

  /** Copies `data` (bytes, an array of byte values, or a string as UTF-8) in at `offset`. */
  write(offset: number, data: Uint8Array | readonly number[] | string): number {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : Uint8Array.from(data);
    this.#check(offset, bytes.length, 'write');
    this.buffer.bytes.set(bytes, offset);
    return bytes.length;
  }

  /** A copy of `length` bytes at `offset`, as a Buffer (shown as <Buffer …>; .toString() for text). */
  read(offset: number, length: number): Buffer {
    this.#check(offset, length, 'read');
    return Buffer.from(this.buffer.bytes.slice(offset, offset + length));
  }

  fill(value: number, offset = 0, length = this.size - offset): void {
    this.#check(offset, length, 'fill');
    this.buffer.bytes.fill(value, offset, offset + length);
  }

  dump(offset = 0, length = 64): Hexdump {
    this.#check(offset, length, 'dump');
    return new Hexdump(offset, this.buffer.bytes.subarray(offset, offset + length));
  }

  free(): void {
    this.buffer.free();
    this.#freed = true;
  }

  #check(offset: number, length: number, what: string): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`dma buffer ${what}: [${String(offset)}, +${String(length)}) is outside the ${this.size}-byte buffer`);
    }
  }
}

export class DmaScope {
  readonly #buffers: ReplDmaBuffer[] = [];
  constructor(readonly device: PciDevice) {}

  /** Page-aligned memory mapped for the device (size rounded up to pages). */
  alloc(size: number): ReplDmaBuffer {
    const b = new ReplDmaBuffer(this.device.dma.alloc(size));
    this.#buffers.push(b);
    return b;
  }

  /** The device's DMA mask (IOVAs are allocated below it). */
  get mask(): bigint {
    return this.device.dma.mask;
  }

  /** Buffers allocated in this session and not freed: IOVA and size. */
  list(): { iova: string; size: number }[] {
    return this.#buffers.filter((b) => !b.freed).map((b) => ({ iova: `0x${b.iova.toString(16)}`, size: b.size }));
  }
}
