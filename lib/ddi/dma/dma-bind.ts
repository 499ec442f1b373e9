/**
 * ddi_dma_addr_bind_handle, ddi_dma_buf_bind_handle, ddi_dma_unbind_handle (9F; rootnex.c
 * rootnex_coredma_bindhdl / unbindhdl). Binding maps the object into the device's IOMMU domain
 * (PciDma.map) at an IOVA inside [addr_lo, min(addr_hi, the device's DMA mask)], aligned to
 * dma_attr_align, with the IOMMU permissions of the direction: DDI_DMA_WRITE (memory → device)
 * lets the device read, DDI_DMA_READ (device → memory) lets it write. A DMA the other way faults in
 * the IOMMU and never reaches memory.
 *
 * The object is a Uint8Array. Inside memory from ddi_dma_mem_alloc it is mapped in place (the pages
 * it covers). Any other memory is bound through a copy buffer, as rootnex does for memory the device
 * cannot reach: page-aligned host memory that is mapped instead; the bind copies the object in for
 * DDI_DMA_WRITE, ddi_dma_sync copies (FORDEV: object → copy, FORCPU/FORKERNEL: copy → object), the
 * unbind copies it back for DDI_DMA_READ. So a driver that syncs as the DDI requires works either way.
 *
 * Statuses (ddi_dma_addr_bind_handle(9F)): DDI_DMA_MAPPED; DDI_DMA_PARTIAL_MAP (windows, with
 * DDI_DMA_PARTIAL); DDI_DMA_INUSE (already bound); DDI_DMA_TOOBIG (more cookies than sgllen or more
 * than maxxfer bytes, without DDI_DMA_PARTIAL); DDI_DMA_NORESOURCES (no free IOVA range, locked-
 * memory limit); DDI_DMA_NOMAPPING (the object cannot be mapped at all: bigger than the address
 * range addr_lo…addr_hi allows, length 0 or beyond the Uint8Array, no direction flag, a bad handle
 * or out-pointer, the device closed). Nothing throws. `as` must be null (kernel address space);
 * `waitfp` is accepted and a callback is never called.
 */
import type { HostMemory } from '../../pci/device.ts';
import { allocHostMemory, isNativeHostMemory } from '../../pci/host-memory.ts';
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import {
  DDI_DMA_INUSE, DDI_DMA_MAPPED, DDI_DMA_NOMAPPING, DDI_DMA_NORESOURCES, DDI_DMA_PARTIAL, DDI_DMA_PARTIAL_MAP,
  DDI_DMA_READ, DDI_DMA_TOOBIG, DDI_DMA_WRITE, MMU_PAGESIZE,
} from '../constants-services.ts';
import { isOut, type Out } from '../args.ts';
import { copyCookie, cutCookies, cutWindows, partialRequired, type ddi_dma_cookie_t, type DmaWindow } from './cookies.ts';
import { dropBinding, lookupDma, type DmaHandle, type ddi_dma_handle_t, type ddi_dma_waitfp } from './dma-handle.ts';
import { findDmaMemory } from './dma-mem.ts';

/** The buf(9S) fields a bind reads. */
export interface buf_t {
  b_un: { b_addr: Uint8Array };
  b_bcount: number;
}

const PAGE = MMU_PAGESIZE;

/** The host memory to map for the object: its own pages, or a copy buffer. */
function backing(object: Uint8Array): { memory: HostMemory; start: number; copy: HostMemory | null; owner: ReturnType<typeof findDmaMemory> } {
  const found = findDmaMemory(object);
  if (found !== null) {
    const { memory } = found.mem;
    const first = Math.floor(found.offset / PAGE) * PAGE;
    const end = Math.ceil((found.offset + object.length) / PAGE) * PAGE;
    const pages: HostMemory = {
      bytes: memory.bytes.subarray(first, end),
      size: end - first,
      native: memory.native,
      free: () => {},
      ...(isNativeHostMemory(memory) ? { vaddr: memory.vaddr + BigInt(first) } : {}),
    };
    return { memory: pages, start: found.offset - first, copy: null, owner: found };
  }
  const copy = allocHostMemory(object.length);
  return { memory: copy, start: 0, copy, owner: null };
}

function bind(
  h: unknown, addr: unknown, len: unknown, flags: unknown, cookiep: unknown, ccountp: unknown,
): number {
  const handle = lookupDma(h);
  if (handle === null || !isOut(cookiep) || !isOut(ccountp) || typeof flags !== 'number' || !Number.isInteger(flags)) return DDI_DMA_NOMAPPING;
  if (handle.binding !== null) return DDI_DMA_INUSE;
  if ((flags & (DDI_DMA_READ | DDI_DMA_WRITE)) === 0) return DDI_DMA_NOMAPPING;
  if (!(addr instanceof Uint8Array) || typeof len !== 'number' || !Number.isSafeInteger(len) || len <= 0 || len > addr.length) return DDI_DMA_NOMAPPING;
  const { dip, limits } = handle;
  if (dip.closed || dip.device.closed) return DDI_DMA_NOMAPPING;
  const object = addr.subarray(0, len);
  // Too big for one window whatever the IOVA: refuse before mapping anything.
  if (BigInt(len) > limits.maxxfer && (flags & DDI_DMA_PARTIAL) === 0) return DDI_DMA_TOOBIG;
  const inPlace = findDmaMemory(object);
  const pageOffset = inPlace === null ? 0 : inPlace.offset % PAGE;
  const top = limits.addrHi < dip.device.dma.mask ? limits.addrHi : dip.device.dma.mask;
  const span = BigInt(Math.ceil((pageOffset + len) / PAGE) * PAGE);
  if (top < limits.addrLo || top - limits.addrLo + 1n < span) return DDI_DMA_NOMAPPING;
  let back;
  try {
    back = backing(object);
  } catch {
    return DDI_DMA_NORESOURCES;
  }
  if (back.copy !== null && (flags & DDI_DMA_WRITE) !== 0) back.copy.bytes.set(object);
  let mapping;
  try {
    mapping = dip.device.dma.map(back.memory, {
      size: back.memory.size, read: (flags & DDI_DMA_WRITE) !== 0, write: (flags & DDI_DMA_READ) !== 0,
      minIova: limits.addrLo, maxIova: top, align: limits.align,
    });
  } catch (error) {
    back.copy?.free();
    const code = (error as { code?: unknown }).code;
    return code === 'ENOSPC' || code === 'ENOMEM' || code === 'ERR_MEMLOCK' ? DDI_DMA_NORESOURCES : DDI_DMA_NOMAPPING;
  }
  const release = (status: number): number => {
    mapping.unmap();
    back.copy?.free();
    return status;
  };
  // Cookies where the object really sits: seg boundaries depend on the IOVA.
  const start = mapping.iova + BigInt(back.start);
  const all = cutCookies(start, len, limits);
  const partial = partialRequired(len, all.length, limits);
  if (partial && (flags & DDI_DMA_PARTIAL) === 0) return release(DDI_DMA_TOOBIG);
  const windows: DmaWindow[] | null = partial ? cutWindows(start, len, limits) : [{ offset: 0, length: len, cookies: all }];
  if (windows === null) return release(DDI_DMA_NOMAPPING);
  const owner = back.owner === null ? null : back.owner.mem;
  handle.binding = { mapping, object, copy: back.copy, flags, windows, owner, window: 0, cursor: 1 };
  owner?.bindings.add(handle);
  const first = windows[0] as DmaWindow;
  copyCookie(cookiep, first.cookies[0] as ddi_dma_cookie_t);
  (ccountp as Out<number>).value = first.cookies.length;
  return windows.length > 1 ? DDI_DMA_PARTIAL_MAP : DDI_DMA_MAPPED;
}

/** ddi_dma_addr_bind_handle(9F): binds `len` bytes of `addr`; `cookiep` gets cookie 0, `ccountp` the count. */
export function ddi_dma_addr_bind_handle(
  handle: ddi_dma_handle_t | null, as: null, addr: Uint8Array, len: number, flags: number, waitfp: ddi_dma_waitfp,
  arg: unknown, cookiep: ddi_dma_cookie_t | object | null, ccountp: Out<number> | null,
): number {
  void waitfp;
  void arg;
  if (as !== null && as !== undefined) return DDI_DMA_NOMAPPING;
  return bind(handle, addr, len, flags, cookiep, ccountp);
}

/** ddi_dma_buf_bind_handle(9F): binds `bp.b_bcount` bytes of `bp.b_un.b_addr`. */
export function ddi_dma_buf_bind_handle(
  handle: ddi_dma_handle_t | null, bp: buf_t | null, flags: number, waitfp: ddi_dma_waitfp, arg: unknown,
  cookiep: ddi_dma_cookie_t | object | null, ccountp: Out<number> | null,
): number {
  void waitfp;
  void arg;
  if (typeof bp !== 'object' || bp === null || typeof bp.b_un !== 'object' || bp.b_un === null) return DDI_DMA_NOMAPPING;
  return bind(handle, bp.b_un.b_addr, bp.b_bcount, flags, cookiep, ccountp);
}

/** ddi_dma_unbind_handle(9F): DDI_SUCCESS; DDI_FAILURE when the handle is not bound or not one. */
export function ddi_dma_unbind_handle(handle: ddi_dma_handle_t | null): number {
  const h: DmaHandle | null = lookupDma(handle);
  if (h === null || h.binding === null) return DDI_FAILURE;
  dropBinding(h);
  return DDI_SUCCESS;
}
