/**
 * IOVA allocation for one IOMMU domain: first fit, page granular, inside the ranges the IOMMU reports
 * as usable (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE / IOMMU_IOAS_IOVA_RANGES: on x86 the MSI window
 * 0xfee00000–0xfeefffff and anything above the IOMMU's address width are excluded) and below the
 * device's DMA mask. IOVA 0 is never handed out, so a device programmed with a null address faults
 * instead of hitting a live buffer.
 *
 * Errors: RangeError for bad sizes / addresses; DdkError 'EEXIST' for an overlapping reservation,
 * 'ERANGE' for a fixed IOVA outside the usable ranges or the mask, 'ENOSPC' when nothing fits.
 */
import { DdkError } from '../errors.ts';

export interface IovaRange {
  readonly start: bigint;
  /** Inclusive. */
  readonly end: bigint;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

interface Used {
  start: bigint;
  /** Exclusive. */
  end: bigint;
}

export class IovaAllocator {
  readonly pageSize: bigint;
  readonly ranges: readonly IovaRange[];
  /** Sorted by start, non-overlapping. */
  readonly #used: Used[] = [];

  /** `ranges` empty means the whole 64-bit space (the kernel reported no restriction). */
  constructor(ranges: readonly IovaRange[], pageSize = 4096n) {
    if (typeof pageSize !== 'bigint' || pageSize <= 0n || (pageSize & (pageSize - 1n)) !== 0n) {
      throw new RangeError(`IOVA page size must be a power-of-two bigint, got ${String(pageSize)}`);
    }
    this.pageSize = pageSize;
    const usable = ranges.length === 0 ? [{ start: 0n, end: U64_MAX }] : ranges;
    for (const r of usable) {
      if (typeof r.start !== 'bigint' || typeof r.end !== 'bigint' || r.start < 0n || r.end < r.start || r.end > U64_MAX) {
        throw new RangeError(`bad IOVA range ${String(r.start)}–${String(r.end)}`);
      }
    }
    this.ranges = [...usable].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  #roundUp(v: bigint): bigint {
    return (v + this.pageSize - 1n) & ~(this.pageSize - 1n);
  }

  #checkSize(size: bigint): void {
    if (typeof size !== 'bigint' || size <= 0n || size % this.pageSize !== 0n) {
      throw new RangeError(`IOVA size must be a positive multiple of ${this.pageSize}, got ${String(size)}`);
    }
  }

  /**
   * Picks a free, page-aligned `[iova, iova + size)` with iova + size − 1 ≤ `limit` (the DMA mask),
   * iova ≥ `min` and iova a multiple of `align` (a power of two; at least the page size).
   */
  alloc(size: bigint, limit: bigint = U64_MAX, min = 0n, align = this.pageSize): bigint {
    this.#checkSize(size);
    if (typeof align !== 'bigint' || align <= 0n || (align & (align - 1n)) !== 0n) {
      throw new RangeError(`IOVA alignment must be a power-of-two bigint, got ${String(align)}`);
    }
    const step = align > this.pageSize ? align : this.pageSize;
    const up = (v: bigint): bigint => (v + step - 1n) & ~(step - 1n);
    for (const range of this.ranges) {
      const floor = range.start > this.pageSize ? range.start : this.pageSize;
      let candidate = up(floor > min ? floor : min);
      const last = range.end < limit ? range.end : limit;
      for (const u of this.#used) {
        if (u.end <= candidate) continue;
        if (candidate + size <= u.start) break;
        candidate = up(u.end);
      }
      if (candidate + size - 1n <= last) {
        this.#insert(candidate, size);
        return candidate;
      }
    }
    throw new DdkError('ENOSPC', `no free ${size}-byte IOVA range below 0x${limit.toString(16)} in the IOMMU's usable ranges: free DMA buffers or widen the DMA mask`);
  }

  /** Claims a caller-chosen `[iova, iova + size)`. */
  reserve(iova: bigint, size: bigint, limit: bigint = U64_MAX): void {
    this.#checkSize(size);
    if (typeof iova !== 'bigint' || iova < 0n || iova % this.pageSize !== 0n) {
      throw new RangeError(`IOVA must be a ${this.pageSize}-byte aligned bigint, got ${String(iova)}`);
    }
    const last = iova + size - 1n;
    if (last > limit) throw new DdkError('ERANGE', `IOVA 0x${iova.toString(16)}+0x${size.toString(16)} ends above the DMA mask 0x${limit.toString(16)}`);
    if (!this.ranges.some((r) => r.start <= iova && last <= r.end)) {
      const usable = this.ranges.map((r) => `0x${r.start.toString(16)}–0x${r.end.toString(16)}`).join(', ');
      throw new DdkError('ERANGE', `IOVA 0x${iova.toString(16)}+0x${size.toString(16)} is outside the IOMMU's usable ranges (${usable})`);
    }
    for (const u of this.#used) {
      if (iova < u.end && u.start < iova + size) {
        throw new DdkError('EEXIST', `IOVA 0x${iova.toString(16)}+0x${size.toString(16)} overlaps a mapping at 0x${u.start.toString(16)}`);
      }
    }
    this.#insert(iova, size);
  }

  /** Returns a range given by `alloc`/`reserve`; unknown ranges are ignored (idempotent free). */
  release(iova: bigint, size: bigint): void {
    const i = this.#used.findIndex((u) => u.start === iova && u.end === iova + size);
    if (i >= 0) this.#used.splice(i, 1);
  }

  /** Ranges currently handed out. */
  get used(): readonly { start: bigint; end: bigint }[] {
    return this.#used.map((u) => ({ start: u.start, end: u.end }));
  }

  #insert(start: bigint, size: bigint): void {
    const entry = { start, end: start + size };
    const at = this.#used.findIndex((u) => u.start > start);
    if (at < 0) this.#used.push(entry);
    else this.#used.splice(at, 0, entry);
  }
}
