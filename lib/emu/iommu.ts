/**
 * The emulated IOMMU domain of one device (`PciDma`): IOVA → host memory, page granular, with read /
 * write permissions. A device DMA (`deviceRead` / `deviceWrite`) whose range touches an unmapped page,
 * or writes a read-only one, does not happen at all: it is recorded in `faults` (iova, direction,
 * time) and reported as `false`, as an IOMMU blocks the transaction and logs a DMA fault.
 *
 * IOVA space: [0, 2^48) (a 4-level VT-d / SMMU aperture). `alloc` places buffers first-fit from 1 MiB,
 * page aligned, entirely below the DMA mask. Everything is unmapped and freed on `close`.
 *
 * Errors: RangeError for bad sizes / IOVAs; DdkError 'EEXIST' for an overlapping mapping, 'ENOSPC'
 * when nothing fits below the mask, 'ECLOSED' after close.
 */
import type { DmaBuffer, DmaMapOptions, DmaMapping, HostMemory, PciDma } from '../pci/device.ts';
import { PAGE_SIZE, allocHostMemory } from '../pci/host-memory.ts';
import { DdkError } from '../errors.ts';
import { monoNs } from '../irq/clock.ts';

export const EMU_IOVA_LIMIT = 2 ** 48;
const ALLOC_START = 0x10_0000;

export interface IommuFault {
  readonly iova: bigint;
  readonly direction: 'read' | 'write';
  readonly timeNs: bigint;
  readonly reason: string;
}

interface Entry {
  readonly iova: number;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly read: boolean;
  readonly write: boolean;
}

interface Placement {
  readonly minIova: number;
  readonly maxIova: bigint | null;
  readonly align: number;
}

/** DmaMapOptions minIova / maxIova / align (lib/pci/device.ts), checked. */
function placement(options: DmaMapOptions): Placement {
  const { minIova = 0n, maxIova, align = BigInt(PAGE_SIZE) } = options;
  if (typeof minIova !== 'bigint' || minIova < 0n || (maxIova !== undefined && (typeof maxIova !== 'bigint' || maxIova < minIova))) {
    throw new RangeError(`map: minIova/maxIova must be bigints with 0 ≤ minIova ≤ maxIova, got ${String(minIova)}/${String(maxIova)}`);
  }
  if (typeof align !== 'bigint' || align <= 0n || (align & (align - 1n)) !== 0n || align > 1n << 47n) {
    throw new RangeError(`map: align must be a power-of-two bigint, got ${String(align)}`);
  }
  return {
    minIova: Number(minIova < BigInt(EMU_IOVA_LIMIT) ? minIova : BigInt(EMU_IOVA_LIMIT)),
    maxIova: maxIova ?? null,
    align: Math.max(PAGE_SIZE, Number(align)),
  };
}

function checkMask(mask: bigint): void {
  if (typeof mask !== 'bigint' || mask < 0xfffn || mask > 0xffff_ffff_ffff_ffffn || (mask & (mask + 1n)) !== 0n) {
    throw new RangeError(`DMA mask must be a bigint 2^n − 1 with 12 ≤ n ≤ 64, got ${String(mask)}`);
  }
}

export class EmuIommu implements PciDma {
  #mask: bigint;
  /** Mappings sorted by IOVA. */
  readonly #entries: Entry[] = [];
  readonly #owned = new Set<{ release(): void }>();
  readonly faults: IommuFault[] = [];
  #closed = false;

  constructor(mask: bigint) {
    checkMask(mask);
    this.#mask = mask;
  }

  get mask(): bigint {
    return this.#mask;
  }

  setMask(mask: bigint): void {
    this.#checkOpen();
    checkMask(mask);
    this.#mask = mask;
  }

  alloc(size: number, options?: { hugepage?: boolean }): DmaBuffer {
    this.#checkOpen();
    const memory = allocHostMemory(size, options);
    let mapping: DmaMapping;
    try {
      mapping = this.map(memory);
    } catch (error) {
      memory.free();
      throw error;
    }
    let freed = false;
    const owner = {
      release: (): void => {
        if (freed) return;
        freed = true;
        this.#owned.delete(owner);
        mapping.unmap();
        memory.free();
      },
    };
    this.#owned.add(owner);
    return { iova: mapping.iova, size: memory.size, bytes: memory.bytes, free: owner.release };
  }

  map(memory: HostMemory, options: DmaMapOptions & { size?: number } = {}): DmaMapping {
    this.#checkOpen();
    if (memory === null || typeof memory !== 'object' || !(memory.bytes instanceof Uint8Array)) throw new TypeError('map: memory must be a HostMemory');
    const size = options.size ?? memory.size;
    if (!Number.isSafeInteger(size) || size <= 0 || size > memory.bytes.length) {
      throw new RangeError(`map: size must be in (0, ${memory.bytes.length}], got ${String(size)}`);
    }
    const length = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    if (length > memory.bytes.length) throw new RangeError(`map: ${size} bytes round up to ${length}, more than the memory's ${memory.bytes.length}`);
    const iova = options.iova === undefined ? this.#findHole(length, placement(options)) : this.#checkIova(options.iova, length);
    const entry: Entry = {
      iova, size: length, bytes: memory.bytes.subarray(0, length),
      read: options.read ?? true, write: options.write ?? true,
    };
    const at = this.#entries.findIndex((e) => e.iova > iova);
    if (at < 0) this.#entries.push(entry);
    else this.#entries.splice(at, 0, entry);
    let mapped = true;
    const owner = {
      release: (): void => {
        if (!mapped) return;
        mapped = false;
        this.#owned.delete(owner);
        const index = this.#entries.indexOf(entry);
        if (index >= 0) this.#entries.splice(index, 1);
      },
    };
    this.#owned.add(owner);
    return { iova: BigInt(iova), size: length, unmap: owner.release };
  }

  /** Device side: DMA read of `length` bytes at `iova` into `target[offset…]`. false = IOMMU fault. */
  deviceRead(iova: number, target: Uint8Array, offset: number, length: number): boolean {
    if (!this.#permitted(iova, length, 'read')) return false;
    this.#walk(iova, length, target, offset, false);
    return true;
  }

  /** Device side: DMA write of `source[offset…offset+length)` to `iova`. false = IOMMU fault. */
  deviceWrite(iova: number, source: Uint8Array, offset: number, length: number): boolean {
    if (!this.#permitted(iova, length, 'write')) return false;
    this.#walk(iova, length, source, offset, true);
    return true;
  }

  /** Number of live mappings (for tests and leak checks). */
  get mappings(): number {
    return this.#entries.length;
  }

  close(): void {
    if (this.#closed) return;
    for (const owner of [...this.#owned]) owner.release();
    this.#closed = true;
  }

  #find(iova: number): Entry | null {
    for (const entry of this.#entries) {
      if (iova < entry.iova) return null;
      if (iova < entry.iova + entry.size) return entry;
    }
    return null;
  }

  /** Every page of [iova, iova+length) must be mapped with the permission; else record one fault. */
  #permitted(iova: number, length: number, direction: 'read' | 'write'): boolean {
    let at = iova;
    const end = iova + length;
    if (this.#closed) return this.#fault(iova, direction, 'device closed');
    while (at < end) {
      const entry = this.#find(at);
      if (entry === null) return this.#fault(at, direction, 'unmapped IOVA');
      if (direction === 'read' ? !entry.read : !entry.write) return this.#fault(at, direction, `IOVA mapped without ${direction} permission`);
      at = entry.iova + entry.size;
    }
    return true;
  }

  #walk(iova: number, length: number, buffer: Uint8Array, offset: number, toMemory: boolean): void {
    let done = 0;
    while (done < length) {
      const entry = this.#find(iova + done) as Entry;
      const from = iova + done - entry.iova;
      const chunk = Math.min(length - done, entry.size - from);
      if (toMemory) entry.bytes.set(buffer.subarray(offset + done, offset + done + chunk), from);
      else buffer.set(entry.bytes.subarray(from, from + chunk), offset + done);
      done += chunk;
    }
  }

  #fault(iova: number, direction: 'read' | 'write', reason: string): false {
    this.faults.push({ iova: BigInt(iova), direction, timeNs: monoNs(), reason });
    return false;
  }

  #findHole(length: number, place: Placement): number {
    const top = place.maxIova !== null && place.maxIova < this.#mask ? place.maxIova : this.#mask;
    const limit = Math.min(Number(top) + 1, EMU_IOVA_LIMIT);
    const up = (v: number): number => Math.ceil(v / place.align) * place.align;
    let candidate = up(Math.max(ALLOC_START, place.minIova));
    for (const entry of this.#entries) {
      if (candidate + length <= entry.iova) break;
      candidate = Math.max(candidate, up(entry.iova + entry.size));
    }
    if (candidate + length > limit) {
      throw new DdkError('ENOSPC', `no ${length}-byte IOVA range free below the DMA mask 0x${this.#mask.toString(16)}: free buffers or widen the mask`);
    }
    return candidate;
  }

  #checkIova(iova: bigint, length: number): number {
    if (typeof iova !== 'bigint' || iova < 0n || iova % BigInt(PAGE_SIZE) !== 0n || iova + BigInt(length) > BigInt(EMU_IOVA_LIMIT)) {
      throw new RangeError(`map: iova must be a page-aligned bigint with iova + size ≤ 2^48, got ${String(iova)}`);
    }
    const start = Number(iova);
    for (const entry of this.#entries) {
      if (start < entry.iova + entry.size && entry.iova < start + length) {
        throw new DdkError('EEXIST', `map: IOVA range 0x${start.toString(16)}+0x${length.toString(16)} overlaps an existing mapping at 0x${entry.iova.toString(16)}`);
      }
    }
    return start;
  }

  #checkOpen(): void {
    if (this.#closed) throw new DdkError('ECLOSED', 'DMA on a closed emulated device: open a new one');
  }
}
