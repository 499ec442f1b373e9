/**
 * ddi_dma_cookie_t (ddi_dma_cookie(9S)) and how a bound object is cut into cookies and windows.
 *
 * Through the IOMMU a bound object is one contiguous IOVA range, so — as on illumos with an IOMMU
 * (rootnex.c rootnex_dvma_get_sgl) — cookies are cut from it only where the attributes demand: at
 * each dma_attr_seg boundary and at the maximum cookie size (min(seg + 1, maxxfer, count_max + 1)).
 * A bind that would need more than dma_attr_sgllen cookies or more than dma_attr_maxxfer bytes is
 * partial (rootnex_bind_slowpath): without DDI_DMA_PARTIAL that is DDI_DMA_TOOBIG; with it the
 * object is cut into windows, each within maxxfer and sgllen and (except the last) a multiple of
 * dma_attr_granular, and the bind returns DDI_DMA_PARTIAL_MAP.
 */
import type { DmaLimits } from './attr.ts';

/**
 * dmac_laddress is the 64-bit bus (IO virtual) address; dmac_address / dmac_notused its low and
 * high 32 bits (the x86 layout of the union in sys/ddidmareq.h); dmac_type is 0.
 */
export interface ddi_dma_cookie_t {
  dmac_laddress: bigint;
  dmac_address: number;
  dmac_notused: number;
  dmac_size: number;
  dmac_type: number;
}

export interface DmaWindow {
  /** Offset of the window in the bound object, and its length. */
  readonly offset: number;
  readonly length: number;
  readonly cookies: readonly Readonly<ddi_dma_cookie_t>[];
}

export function makeCookie(laddress: bigint, size: number): Readonly<ddi_dma_cookie_t> {
  return Object.freeze({
    dmac_laddress: laddress,
    dmac_address: Number(laddress & 0xffff_ffffn),
    dmac_notused: Number(laddress >> 32n),
    dmac_size: size,
    dmac_type: 0,
  });
}

/** Copies a cookie into a caller's ddi_dma_cookie_t (a C struct out-parameter). */
export function copyCookie(to: object, from: Readonly<ddi_dma_cookie_t>): void {
  Object.assign(to, from);
}

/** The cookies of [start, start + size): cut at seg boundaries and at the maximum cookie size. */
export function cutCookies(start: bigint, size: number, limits: DmaLimits): Readonly<ddi_dma_cookie_t>[] {
  const cookies: Readonly<ddi_dma_cookie_t>[] = [];
  let at = start;
  let left = BigInt(size);
  while (left > 0n) {
    const boundary = (at | limits.seg) + 1n;
    let chunk = left < BigInt(limits.maxCookie) ? left : BigInt(limits.maxCookie);
    if (boundary - at < chunk) chunk = boundary - at;
    cookies.push(makeCookie(at, Number(chunk)));
    at += chunk;
    left -= chunk;
  }
  return cookies;
}

/** True when one window cannot hold the whole object (rootnex: dp_partial_required). */
export function partialRequired(size: number, cookies: number, limits: DmaLimits): boolean {
  return BigInt(size) > limits.maxxfer || cookies > limits.sgllen;
}

/** The windows of the object bound at `start` (its byte 0), or null when granularity makes one impossible. */
export function cutWindows(start: bigint, size: number, limits: DmaLimits): DmaWindow[] | null {
  const windows: DmaWindow[] = [];
  let offset = 0;
  while (offset < size) {
    let length = Math.min(size - offset, Number(limits.maxxfer < BigInt(size) ? limits.maxxfer : BigInt(size)));
    let cookies = cutCookies(start + BigInt(offset), length, limits);
    if (cookies.length > limits.sgllen) {
      length = cookies.slice(0, limits.sgllen).reduce((sum, c) => sum + c.dmac_size, 0);
    }
    if (offset + length < size && limits.granular > 1) length -= length % limits.granular;
    if (length <= 0) return null;
    cookies = cutCookies(start + BigInt(offset), length, limits);
    windows.push({ offset, length, cookies });
    offset += length;
  }
  return windows;
}
