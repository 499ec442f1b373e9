/**
 * ddi_dma_attr_t (ddi_dma_attr(9S), sys/ddidmareq.h) and its checks, as the x86 root nexus makes
 * them when ddi_dma_alloc_handle is called (usr/src/uts/i86pc/io/rootnex.c: rootnex_coredma_allochdl
 * computes the maximum cookie size, rootnex_valid_alloc_parms refuses nonsense with DDI_DMA_BADATTR).
 *
 * The 64-bit fields (addr_lo, addr_hi, count_max, align, maxxfer, seg) take a bigint or a safe
 * integer number; the 32-bit ones a number. A field of another type is DDI_DMA_BADATTR.
 */
import {
  DMA_ATTR_V0, MMU_PAGEOFFSET, MMU_PAGESIZE, _DDI_DMA_BOUNCE_ON_SEG,
} from '../constants-services.ts';

export interface ddi_dma_attr_t {
  dma_attr_version: number;
  dma_attr_addr_lo: bigint | number;
  dma_attr_addr_hi: bigint | number;
  dma_attr_count_max: bigint | number;
  dma_attr_align: bigint | number;
  dma_attr_burstsizes: number;
  dma_attr_minxfer: number;
  dma_attr_maxxfer: bigint | number;
  dma_attr_seg: bigint | number;
  /** int: a negative value means "no limit" (rootnex casts it to unsigned). */
  dma_attr_sgllen: number;
  dma_attr_granular: number;
  dma_attr_flags: number;
}

/** The attributes normalised (bigints), plus what rootnex derives from them. */
export interface DmaLimits {
  readonly attr: Readonly<ddi_dma_attr_t>;
  readonly addrLo: bigint;
  readonly addrHi: bigint;
  readonly align: bigint;
  readonly seg: bigint;
  readonly minxfer: number;
  readonly granular: number;
  /** sgllen as rootnex compares it: (unsigned) dma_attr_sgllen. */
  readonly sgllen: number;
  /** dp_maxxfer: maxxfer trimmed to a multiple of granular. */
  readonly maxxfer: bigint;
  /** si_max_cookie_size: min(seg + 1, dp_maxxfer, count_max + 1), 0xFFFFFFFF when 0 or above. */
  readonly maxCookie: number;
}

const U64 = 0xffff_ffff_ffff_ffffn;

function u64(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v >= 0n && v <= U64 ? v : null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return null;
}

function u32(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff ? v : null;
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The checked limits, or null for DDI_DMA_BADATTR. */
export function dmaLimits(attr: unknown): DmaLimits | null {
  if (typeof attr !== 'object' || attr === null) return null;
  const a = attr as Partial<Record<keyof ddi_dma_attr_t, unknown>>;
  if (a.dma_attr_version !== DMA_ATTR_V0) return null;
  const addrLo = u64(a.dma_attr_addr_lo);
  const addrHi = u64(a.dma_attr_addr_hi);
  const countMax = u64(a.dma_attr_count_max);
  const align = u64(a.dma_attr_align);
  const maxxfer = u64(a.dma_attr_maxxfer);
  const seg = u64(a.dma_attr_seg);
  const burst = u32(a.dma_attr_burstsizes);
  const minxfer = u32(a.dma_attr_minxfer);
  const granular = u32(a.dma_attr_granular);
  const flags = u32(a.dma_attr_flags);
  const sgl = a.dma_attr_sgllen;
  if (addrLo === null || addrHi === null || countMax === null || align === null || maxxfer === null || seg === null
    || burst === null || minxfer === null || granular === null || flags === null
    || typeof sgl !== 'number' || !Number.isInteger(sgl) || sgl < -0x8000_0000 || sgl > 0x7fff_ffff) return null;
  const PAGEOFFSET = BigInt(MMU_PAGEOFFSET);
  // rootnex_valid_alloc_parms, in its order.
  if (seg < PAGEOFFSET || countMax < PAGEOFFSET || granular > MMU_PAGESIZE || maxxfer < BigInt(MMU_PAGESIZE)) return null;
  if (addrHi <= addrLo) return null;
  if ((seg & PAGEOFFSET) !== PAGEOFFSET || (MMU_PAGESIZE & ((granular - 1) >>> 0)) !== 0 || sgl === 0) return null;
  // Stricter than illumos (which only checks it in ddi_dma_mem_alloc): the IOVA is placed on `align`.
  if (align === 0n || (align & (align - 1n)) !== 0n) return null;
  // rootnex_coredma_allochdl: rollover-safe seg + 1 and count_max + 1; maxxfer a multiple of granular.
  const segPlus = seg === U64 ? seg : seg + 1n;
  const countPlus = countMax === U64 ? countMax : countMax + 1n;
  const dpMaxxfer = granular > 1 ? maxxfer - (maxxfer % BigInt(granular)) : maxxfer;
  const ll = min(min(segPlus, dpMaxxfer), countPlus);
  const maxCookie = ll === 0n || ll > 0xffff_ffffn ? 0xffff_ffff : Number(ll);
  if (maxCookie < MMU_PAGESIZE) return null;
  if ((flags & _DDI_DMA_BOUNCE_ON_SEG) !== 0 && seg > addrHi) return null;
  return {
    attr: Object.freeze({ ...(attr as ddi_dma_attr_t) }),
    addrLo, addrHi, align, seg, minxfer, granular,
    sgllen: sgl >>> 0,
    maxxfer: dpMaxxfer,
    maxCookie,
  };
}
