/**
 * IOVA allocation for one IOMMU domain: first fit, page granular, inside the ranges the IOMMU reports
 * as usable (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE / IOMMU_IOAS_IOVA_RANGES: on x86 the MSI window
 * 0xfee00000–0xfeefffff and anything above the IOMMU's address width are excluded) and below the
 * device's DMA mask. IOVA 0 is never handed out, so a device programmed with a null address faults
 * instead of hitting a live buffer.
 *
 * The bookkeeping is in page numbers, as JS numbers: a 64-bit space has fewer than 2^53 pages, so
 * every page number is exact, and an allocation does integer arithmetic instead of a dozen bigint
 * operations (each a heap object). The bigint methods (`alloc`, `reserve`, `release`) convert at the
 * edge; the DMA path (vfio-dma.ts) calls the page methods directly.
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

/** Pages [first, last] — last inclusive. */
interface UsablePages {
  readonly first: number;
  readonly last: number;
}

/** `page` rounded up to a multiple of `align` pages (a power of two). */
function alignUp(page: number, align: number): number {
  return align === 1 ? page : Math.ceil(page / align) * align;
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export class IovaAllocator {
  readonly pageSize: bigint;
  readonly ranges: readonly IovaRange[];
  readonly #page: number;
  readonly #usable: readonly UsablePages[];
  /** Ranges handed out as pages [first, end), sorted by first, non-overlapping: two number arrays, so
   *  an allocation adds no object. */
  readonly #firsts: number[] = [];
  readonly #ends: number[] = [];

  /** `ranges` empty means the whole 64-bit space (the kernel reported no restriction). */
  constructor(ranges: readonly IovaRange[], pageSize = 4096n) {
    if (typeof pageSize !== 'bigint' || pageSize <= 0n || (pageSize & (pageSize - 1n)) !== 0n || pageSize > 1n << 40n) {
      throw new RangeError(`IOVA page size must be a power-of-two bigint, got ${String(pageSize)}`);
    }
    this.pageSize = pageSize;
    this.#page = Number(pageSize);
    const usable = ranges.length === 0 ? [{ start: 0n, end: U64_MAX }] : ranges;
    for (const r of usable) {
      if (typeof r.start !== 'bigint' || typeof r.end !== 'bigint' || r.start < 0n || r.end < r.start || r.end > U64_MAX) {
        throw new RangeError(`bad IOVA range ${String(r.start)}–${String(r.end)}`);
      }
    }
    this.ranges = [...usable].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    // Whole pages inside each range; page 0 is never handed out.
    this.#usable = this.ranges
      .map((r) => ({ first: Math.max(1, Number((r.start + pageSize - 1n) / pageSize)), last: Number((r.end + 1n) / pageSize) - 1 }))
      .filter((p) => p.last >= p.first);
  }

  /** The last page wholly at or below byte address `limit` (a DMA mask, an inclusive end). */
  lastPageBelow(limit: bigint): number {
    return Number((limit + 1n) / this.pageSize) - 1;
  }

  #pages(size: bigint): number {
    if (typeof size !== 'bigint' || size <= 0n || size % this.pageSize !== 0n) {
      throw new RangeError(`IOVA size must be a positive multiple of ${this.pageSize}, got ${String(size)}`);
    }
    return Number(size / this.pageSize);
  }

  /**
   * Picks a free, page-aligned `[iova, iova + size)` with iova + size − 1 ≤ `limit` (the DMA mask),
   * iova ≥ `min` and iova a multiple of `align` (a power of two; at least the page size).
   */
  alloc(size: bigint, limit: bigint = U64_MAX, min = 0n, align = this.pageSize): bigint {
    const pages = this.#pages(size);
    if (typeof align !== 'bigint' || align <= 0n || (align & (align - 1n)) !== 0n) {
      throw new RangeError(`IOVA alignment must be a power-of-two bigint, got ${String(align)}`);
    }
    const alignPages = align > this.pageSize ? Number(align / this.pageSize) : 1;
    const minPage = Number((min + this.pageSize - 1n) / this.pageSize);
    return BigInt(this.allocPages(pages, this.lastPageBelow(limit), minPage, alignPages)) * this.pageSize;
  }

  /**
   * `alloc` in pages: `pages` free pages starting at a multiple of `alignPages` (a power of two),
   * at or above `minPage`, ending at or below `lastPage`. Returns the first page.
   */
  allocPages(pages: number, lastPage: number, minPage = 0, alignPages = 1): number {
    const firsts = this.#firsts;
    const ends = this.#ends;
    for (const range of this.#usable) {
      let candidate = alignUp(range.first > minPage ? range.first : minPage, alignPages);
      const last = range.last < lastPage ? range.last : lastPage;
      for (let i = 0; i < firsts.length; i++) {
        if ((ends[i] as number) <= candidate) continue;
        if (candidate + pages <= (firsts[i] as number)) break;
        candidate = alignUp(ends[i] as number, alignPages);
      }
      if (candidate + pages - 1 <= last) {
        this.#insert(candidate, pages);
        return candidate;
      }
    }
    const limit = (BigInt(lastPage) + 1n) * this.pageSize - 1n;
    throw new DdkError('ENOSPC', `no free ${BigInt(pages) * this.pageSize}-byte IOVA range below ${hex(limit)} in the IOMMU's usable ranges: free DMA buffers or widen the DMA mask`);
  }

  /** Claims a caller-chosen `[iova, iova + size)`. */
  reserve(iova: bigint, size: bigint, limit: bigint = U64_MAX): void {
    const pages = this.#pages(size);
    if (typeof iova !== 'bigint' || iova < 0n || iova % this.pageSize !== 0n) {
      throw new RangeError(`IOVA must be a ${this.pageSize}-byte aligned bigint, got ${String(iova)}`);
    }
    const last = iova + size - 1n;
    if (last > limit) throw new DdkError('ERANGE', `IOVA ${hex(iova)}+${hex(size)} ends above the DMA mask ${hex(limit)}`);
    if (!this.ranges.some((r) => r.start <= iova && last <= r.end)) {
      const usable = this.ranges.map((r) => `${hex(r.start)}–${hex(r.end)}`).join(', ');
      throw new DdkError('ERANGE', `IOVA ${hex(iova)}+${hex(size)} is outside the IOMMU's usable ranges (${usable})`);
    }
    const first = Number(iova / this.pageSize);
    for (let i = 0; i < this.#firsts.length; i++) {
      const at = this.#firsts[i] as number;
      if (first < (this.#ends[i] as number) && at < first + pages) {
        throw new DdkError('EEXIST', `IOVA ${hex(iova)}+${hex(size)} overlaps a mapping at ${hex(BigInt(at) * this.pageSize)}`);
      }
    }
    this.#insert(first, pages);
  }

  /** Returns a range given by `alloc`/`reserve`; unknown ranges are ignored (idempotent free). */
  release(iova: bigint, size: bigint): void {
    if (iova % this.pageSize !== 0n || size % this.pageSize !== 0n) return;
    this.releasePages(Number(iova / this.pageSize), Number(size / this.pageSize));
  }

  /** `release` in pages. */
  releasePages(first: number, pages: number): void {
    const firsts = this.#firsts;
    const ends = this.#ends;
    for (let i = 0; i < firsts.length; i++) {
      if (firsts[i] === first && ends[i] === first + pages) {
        // Shifted in place: splice would return a new (removed-elements) array on every free.
        for (let j = i + 1; j < firsts.length; j++) {
          firsts[j - 1] = firsts[j] as number;
          ends[j - 1] = ends[j] as number;
        }
        firsts.pop();
        ends.pop();
        return;
      }
    }
  }

  /** Ranges currently handed out. */
  get used(): readonly { start: bigint; end: bigint }[] {
    return this.#firsts.map((first, i) => ({ start: BigInt(first) * this.pageSize, end: BigInt(this.#ends[i] as number) * this.pageSize }));
  }

  #insert(first: number, pages: number): void {
    const firsts = this.#firsts;
    let at = firsts.length;
    while (at > 0 && (firsts[at - 1] as number) > first) at--;
    if (at === firsts.length) {
      firsts.push(first);
      this.#ends.push(first + pages);
    } else {
      firsts.splice(at, 0, first);
      this.#ends.splice(at, 0, first + pages);
    }
  }
}
