/**
 * Replay's host memory (replay-device.ts): the model's DMA mappings at the recorded IOVAs, the spans
 * the recording holds written into them, and the check of what the model wrote (traced-dma.ts says
 * when the spans were taken). No driver runs during replay, so a byte that changed since replay last
 * looked was written by the model:
 * * a span taken at a delivery holds what the device had written by then — the model's bytes inside
 *   it must be the same, and a byte it wrote outside every such span is one the device did not write;
 * * a span taken before a write (or at an unmap) is the driver's doing: it is written over whatever
 *   the model left there.
 */
import type { EmuPciDevice } from '../emu/device.ts';
import type { DmaMapping, HostMemory } from '../pci/device.ts';
import { allocHostMemory } from '../pci/host-memory.ts';

interface Mapped {
  readonly iova: bigint;
  readonly memory: HostMemory;
  readonly mapping: DmaMapping;
  /** The memory as replay last left it: a byte that differs now was written by the model. */
  readonly seen: Uint8Array;
}

/** Where the model's writes differ from the device's: the IOVA and up to 8 bytes of each side. */
export interface MemoryMismatch {
  readonly iova: bigint;
  readonly recorded: Uint8Array;
  readonly model: Uint8Array;
}

export class ReplayMemory {
  readonly #model: EmuPciDevice;
  readonly #mapped = new Map<bigint, Mapped>();

  constructor(model: EmuPciDevice) {
    this.#model = model;
  }

  /** Fresh zeroed memory mapped for the model at `iova` (as alloc'd or mapped in the recording). */
  map(iova: bigint, size: number): void {
    const memory = allocHostMemory(size);
    const mapping = this.#model.dma.map(memory, { iova });
    this.#mapped.set(iova, { iova, memory, mapping, seen: new Uint8Array(mapping.size) });
  }

  unmap(iova: bigint): void {
    const mapped = this.#mapped.get(iova);
    this.#mapped.delete(iova);
    mapped?.mapping.unmap();
    mapped?.memory.free();
  }

  /** A recorded span: compared first when it was taken at a delivery, then written into the memory. */
  span(iova: bigint, bytes: Uint8Array, atDelivery: boolean): MemoryMismatch | null {
    for (const { iova: base, memory, seen } of this.#mapped.values()) {
      if (iova < base || iova + BigInt(bytes.length) > base + BigInt(seen.length)) continue;
      const at = Number(iova - base);
      if (!atDelivery) {
        memory.bytes.set(bytes, at);
        seen.set(memory.bytes.subarray(0, seen.length));
        continue;
      }
      for (let i = 0; i < bytes.length; i++) {
        const p = at + i;
        if (memory.bytes[p] !== seen[p] && memory.bytes[p] !== bytes[i]) {
          const end = Math.min(bytes.length - i, 8);
          return { iova: base + BigInt(p), recorded: bytes.subarray(i, i + end), model: memory.bytes.subarray(p, p + end) };
        }
      }
      memory.bytes.set(bytes, at);
      seen.set(bytes, at);
    }
    return null;
  }

  /** At a delivery, after its spans: a byte the model wrote where the device wrote nothing. */
  unexplained(): MemoryMismatch | null {
    for (const { iova, memory, seen } of this.#mapped.values()) {
      for (let p = 0; p < seen.length; p++) {
        if (memory.bytes[p] === seen[p]) continue;
        const end = Math.min(seen.length, p + 8);
        return { iova: iova + BigInt(p), recorded: seen.subarray(p, end), model: memory.bytes.subarray(p, end) };
      }
    }
    return null;
  }

  release(): void {
    for (const iova of [...this.#mapped.keys()]) this.unmap(iova);
  }
}
