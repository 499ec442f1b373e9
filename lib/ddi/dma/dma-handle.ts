/**
 * `ddi_dma_handle_t`: ddi_dma_alloc_handle and ddi_dma_free_handle (9F; sunddi.c → rootnex.c
 * rootnex_coredma_allochdl / rootnex_coredma_freehdl). A handle carries the checked attributes and,
 * while bound, one binding: its IOMMU mapping, windows and cookie cursor.
 *
 * Statuses of ddi_dma_alloc_handle(9F): DDI_SUCCESS, DDI_DMA_BADATTR (attributes rootnex would
 * refuse, see attr.ts). A dip that is not one, a closed device or a NULL out-pointer: DDI_FAILURE
 * (-1, the same value as DDI_DMA_NORESOURCES). `callback` (DDI_DMA_SLEEP, DDI_DMA_DONTWAIT or a
 * function) is accepted and never called: allocating a handle cannot run out of resources here.
 */
import type { DmaMapping, HostMemory } from '../../pci/device.ts';
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import { DDI_DMA_BADATTR, DDI_DMA_READ } from '../constants-services.ts';
import { isDevInfo, type DevInfo, type dev_info_t } from '../dev-info.ts';
import { isOut, type Out } from '../args.ts';
import { dmaLimits, type DmaLimits, type ddi_dma_attr_t } from './attr.ts';
import type { DmaWindow } from './cookies.ts';

/** DDI_DMA_SLEEP / DDI_DMA_DONTWAIT or a callback `(arg) => DDI_DMA_CALLBACK_*`. */
export type ddi_dma_waitfp = number | ((arg: unknown) => number) | null;

export interface DmaBinding {
  readonly mapping: DmaMapping;
  /** The caller's object (what ddi_dma_sync makes consistent). */
  readonly object: Uint8Array;
  /** Copy buffer when the object is not ddi_dma_mem_alloc memory (rootnex's copybuf). */
  readonly copy: HostMemory | null;
  /** Bind flags (direction, CONSISTENT/STREAMING, PARTIAL). */
  readonly flags: number;
  readonly windows: readonly DmaWindow[];
  /** The ddi_dma_mem_alloc allocation the object lies in, if any. */
  readonly owner: { bindings: Set<DmaHandle> } | null;
  window: number;
  /** Index of the cookie ddi_dma_nextcookie returns next (1 after a bind: cookie 0 went to cookiep). */
  cursor: number;
}

export class DmaHandle {
  readonly dip: DevInfo;
  readonly limits: DmaLimits;
  binding: DmaBinding | null = null;
  freed = false;

  constructor(dip: DevInfo, limits: DmaLimits) {
    this.dip = dip;
    this.limits = limits;
  }
}

export type ddi_dma_handle_t = DmaHandle;

const live = new WeakSet<DmaHandle>();

export function lookupDma(handle: unknown): DmaHandle | null {
  return handle instanceof DmaHandle && live.has(handle) ? handle : null;
}

/** ddi_dma_alloc_handle(9F): `handlep.value` gets a handle for DMA under `attr`. */
export function ddi_dma_alloc_handle(
  dip: dev_info_t | null, attr: ddi_dma_attr_t | null, callback: ddi_dma_waitfp, arg: unknown,
  handlep: Out<ddi_dma_handle_t | null> | null,
): number {
  void callback;
  void arg;
  if (!isDevInfo(dip) || !isOut(handlep) || dip.closed || dip.device.closed) return DDI_FAILURE;
  const limits = dmaLimits(attr);
  if (limits === null) return DDI_DMA_BADATTR;
  const handle = new DmaHandle(dip, limits);
  live.add(handle);
  handlep.value = handle;
  return DDI_SUCCESS;
}

/**
 * Drops a binding: copies a copy buffer back for DDI_DMA_READ (rootnex_coredma_unbindhdl syncs
 * FORCPU), unmaps it from the IOMMU, frees the copy buffer. Never throws.
 */
export function dropBinding(handle: DmaHandle): void {
  const b = handle.binding;
  if (b === null) return;
  handle.binding = null;
  b.owner?.bindings.delete(handle);
  try {
    if (b.copy !== null && (b.flags & DDI_DMA_READ) !== 0) b.object.set(b.copy.bytes.subarray(0, b.object.length));
  } catch {
    /* the object's memory went away: nothing to copy into */
  }
  try {
    b.mapping.unmap();
  } catch {
    /* the device closed: its IOMMU domain is gone already */
  }
  b.copy?.free();
}

/**
 * ddi_dma_free_handle(9F). illumos requires the handle unbound first (an ASSERT); here a bound
 * handle is unbound (as ddi_dma_unbind_handle would) so that nothing stays mapped.
 */
export function ddi_dma_free_handle(handlep: Out<ddi_dma_handle_t | null> | null): void {
  if (!isOut(handlep)) return;
  const handle = lookupDma(handlep.value);
  if (handle === null) return;
  dropBinding(handle);
  handle.freed = true;
  live.delete(handle);
}
