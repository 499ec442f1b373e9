/**
 * ddi_dma_sync(9F): makes [off, off + length) of the bound object consistent for the device
 * (DDI_DMA_SYNC_FORDEV) or the CPU (DDI_DMA_SYNC_FORCPU, DDI_DMA_SYNC_FORKERNEL); length 0 means
 * "to the end of the object".
 *
 * Memory bound in place needs nothing more: x86 DMA is cache-coherent, and every access that starts
 * a DMA (a BAR write: an MMIO store or a pwrite system call) comes after the program's earlier
 * stores. For a copy-buffer binding (see dma-bind.ts) this is where the data moves: FORDEV copies
 * the object into the copy buffer, FORCPU/FORKERNEL copy it back, as rootnex_coredma_sync does.
 * Statuses: DDI_SUCCESS; DDI_FAILURE when the range is outside the object ("out of the address
 * range established by the binding"), the direction is none of the three, or the handle is unbound.
 */
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import { DDI_DMA_SYNC_FORCPU, DDI_DMA_SYNC_FORDEV, DDI_DMA_SYNC_FORKERNEL } from '../constants-services.ts';
import { isInt } from '../args.ts';
import { lookupDma, type ddi_dma_handle_t } from './dma-handle.ts';

export function ddi_dma_sync(handle: ddi_dma_handle_t | null, off: number, length: number, type: number): number {
  const b = lookupDma(handle)?.binding ?? null;
  if (b === null) return DDI_FAILURE;
  if (type !== DDI_DMA_SYNC_FORDEV && type !== DDI_DMA_SYNC_FORCPU && type !== DDI_DMA_SYNC_FORKERNEL) return DDI_FAILURE;
  const size = b.object.length;
  if (!isInt(off) || !isInt(length) || off < 0 || length < 0 || off >= size) return DDI_FAILURE;
  const end = length === 0 ? size : off + length;
  if (end > size) return DDI_FAILURE;
  if (b.copy !== null) {
    if (type === DDI_DMA_SYNC_FORDEV) b.copy.bytes.set(b.object.subarray(off, end), off);
    else b.object.set(b.copy.bytes.subarray(off, end), off);
  }
  return DDI_SUCCESS;
}
