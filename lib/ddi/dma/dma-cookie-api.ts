/**
 * Walking a binding's cookies and windows: ddi_dma_nextcookie, ddi_dma_ncookies,
 * ddi_dma_cookie_iter / ddi_dma_cookie_get / ddi_dma_cookie_one (the illumos 2019 cookie API,
 * usr/src/uts/common/os/sunddi.c), ddi_dma_numwin, ddi_dma_getwin (9F). The cookies are those of
 * the current window.
 *
 * Where illumos reads past the cookie array or panics (nextcookie after the last cookie,
 * cookie_one on a binding of several cookies, any of them on an unbound handle), here nothing
 * happens: nextcookie leaves `cookiep` as it is, the pointer-returning calls return null.
 */
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import { isInt, isOut, type Out } from '../args.ts';
import { copyCookie, type ddi_dma_cookie_t, type DmaWindow } from './cookies.ts';
import { lookupDma, type DmaBinding, type ddi_dma_handle_t } from './dma-handle.ts';

function bound(handle: unknown): DmaBinding | null {
  return lookupDma(handle)?.binding ?? null;
}

function current(b: DmaBinding): DmaWindow {
  return b.windows[b.window] as DmaWindow;
}

/** ddi_dma_nextcookie(9F): copies the next cookie of the current window into `cookiep`. */
export function ddi_dma_nextcookie(handle: ddi_dma_handle_t | null, cookiep: ddi_dma_cookie_t | object | null): void {
  const b = bound(handle);
  if (b === null || !isOut(cookiep)) return;
  const next = current(b).cookies[b.cursor];
  if (next === undefined) return;
  copyCookie(cookiep, next);
  b.cursor++;
}

/** ddi_dma_ncookies(9F): the cookies of the current window; 0 when not bound. */
export function ddi_dma_ncookies(handle: ddi_dma_handle_t | null): number {
  const b = bound(handle);
  return b === null ? 0 : current(b).cookies.length;
}

/** ddi_dma_cookie_iter(9F): the cookie after `iter` (the first for null); null after the last. */
export function ddi_dma_cookie_iter(handle: ddi_dma_handle_t | null, iter: Readonly<ddi_dma_cookie_t> | null): Readonly<ddi_dma_cookie_t> | null {
  const b = bound(handle);
  if (b === null) return null;
  const cookies = current(b).cookies;
  if (iter === null || iter === undefined) return cookies[0] ?? null;
  const at = cookies.indexOf(iter);
  return at < 0 ? null : cookies[at + 1] ?? null;
}

/** ddi_dma_cookie_get(9F): cookie `index` of the current window, or null. */
export function ddi_dma_cookie_get(handle: ddi_dma_handle_t | null, index: number): Readonly<ddi_dma_cookie_t> | null {
  const b = bound(handle);
  if (b === null || !isInt(index) || index < 0) return null;
  return current(b).cookies[index] ?? null;
}

/** ddi_dma_cookie_one(9F): the only cookie; null when there is not exactly one (illumos panics). */
export function ddi_dma_cookie_one(handle: ddi_dma_handle_t | null): Readonly<ddi_dma_cookie_t> | null {
  const b = bound(handle);
  if (b === null) return null;
  const cookies = current(b).cookies;
  return cookies.length === 1 ? cookies[0] as Readonly<ddi_dma_cookie_t> : null;
}

/** ddi_dma_numwin(9F): the number of windows (1 for a DDI_DMA_MAPPED binding). */
export function ddi_dma_numwin(handle: ddi_dma_handle_t | null, nwinp: Out<number> | null): number {
  const b = bound(handle);
  if (b === null || !isOut(nwinp)) return DDI_FAILURE;
  nwinp.value = b.windows.length;
  return DDI_SUCCESS;
}

/**
 * ddi_dma_getwin(9F): makes window `win` current; its offset and length in the object, its first
 * cookie and cookie count come back. DDI_FAILURE for a window that does not exist.
 */
export function ddi_dma_getwin(
  handle: ddi_dma_handle_t | null, win: number, offp: Out<number> | null, lenp: Out<number> | null,
  cookiep: ddi_dma_cookie_t | object | null, ccountp: Out<number> | null,
): number {
  const b = bound(handle);
  if (b === null || !isInt(win) || win < 0 || win >= b.windows.length || !isOut(offp) || !isOut(lenp)
    || !isOut(cookiep) || !isOut(ccountp)) return DDI_FAILURE;
  b.window = win;
  b.cursor = 1;
  const w = current(b);
  offp.value = w.offset;
  lenp.value = w.length;
  copyCookie(cookiep, w.cookies[0] as ddi_dma_cookie_t);
  ccountp.value = w.cookies.length;
  return DDI_SUCCESS;
}
