/**
 * ddi_dma_mem_alloc and ddi_dma_mem_free (9F; sunddi.c, usr/src/uts/i86pc/os/ddi_impl.c
 * i_ddi_mem_alloc): memory suitable for DMA under the handle's attributes. `kaddrp.value` is a
 * Uint8Array of `real_length` bytes over page-aligned host memory (lib/pci/host-memory.ts: native,
 * locked memory once the addon is loaded, so the VFIO backend can map it); it is mapped into the
 * device's IOMMU domain only when bound (ddi_dma_addr_bind_handle), as on illumos.
 *
 * real_length as i_ddi_mem_alloc computes it: the length rounded up to max(minxfer, align) — to
 * minxfer when the request needs more than one physically contiguous chunk per sgllen entry (then
 * refused when such a chunk would cross dma_attr_seg) — and to whole pages for IOMEM_DATA_UNCACHED
 * / IOMEM_DATA_UC_WR_COMBINE. Statuses: DDI_SUCCESS; DDI_FAILURE for a bad handle, length (0 or not
 * an integer), acc_attr, NULL out-pointer, minxfer or align that is 0 or not a power of two, more
 * than one cache attribute, or when host memory cannot be had (RLIMIT_MEMLOCK). `waitfp` is accepted;
 * a failed allocation is not retried later.
 */
import type { HostMemory } from '../../pci/device.ts';
import { allocHostMemory } from '../../pci/host-memory.ts';
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import {
  IOMEM_DATA_CACHED, IOMEM_DATA_UC_WR_COMBINE, IOMEM_DATA_UNCACHED, MMU_PAGESIZE,
} from '../constants-services.ts';
import { isOut, type Out } from '../args.ts';
import { AccHandle, lookupAcc, registerAcc, releaseAcc, validAccAttr, type ddi_acc_handle_t, type ddi_device_acc_attr_t } from '../regs/acc-handle.ts';
import { dropBinding, lookupDma, type DmaHandle, type ddi_dma_handle_t, type ddi_dma_waitfp } from './dma-handle.ts';

/** One ddi_dma_mem_alloc allocation. */
export interface DmaMemory {
  readonly memory: HostMemory;
  /** The kaddr handed out: memory.bytes[0 … real_length). */
  readonly kaddr: Uint8Array;
  readonly acc: AccHandle;
  readonly bindings: Set<DmaHandle>;
}

const byBuffer = new WeakMap<ArrayBufferLike, DmaMemory>();
const byAcc = new WeakMap<AccHandle, DmaMemory>();

/** The live allocation `bytes` lies in entirely, with the offset of bytes[0] in it; null otherwise. */
export function findDmaMemory(bytes: Uint8Array): { mem: DmaMemory; offset: number } | null {
  const mem = byBuffer.get(bytes.buffer);
  if (mem === undefined) return null;
  const offset = bytes.byteOffset - mem.kaddr.byteOffset;
  if (offset < 0 || offset + bytes.length > mem.memory.bytes.length) return null;
  return { mem, offset };
}

const isPow2 = (n: bigint): boolean => n > 0n && (n & (n - 1n)) === 0n;
const roundUp = (n: bigint, to: bigint): bigint => ((n + to - 1n) / to) * to;

/** i_ddi_mem_alloc's length, or null for DDI_FAILURE. */
function realLength(handle: DmaHandle, length: number, flags: number): number | null {
  const { minxfer, align, seg, sgllen } = handle.limits;
  if (minxfer === 0 || !isPow2(BigInt(minxfer)) || !isPow2(align)) return null;
  const page = BigInt(MMU_PAGESIZE);
  let iomin = BigInt(minxfer) > align ? BigInt(minxfer) : align;
  let len = BigInt(length);
  if ((flags & (IOMEM_DATA_UNCACHED | IOMEM_DATA_UC_WR_COMBINE)) !== 0) {
    iomin = roundUp(iomin, page);
    len = roundUp(len, page);
  }
  const btopr = (n: bigint): bigint => (n + page - 1n) / page;
  const howmany = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;
  let minctg = howmany(btopr(len + align), BigInt(sgllen));
  if (minctg > 1n) {
    len = roundUp(len, BigInt(minxfer));
    minctg = howmany(btopr(len), BigInt(sgllen));
    if (minctg > (seg >> 12n) + 1n) return null;
  } else {
    len = roundUp(len, iomin);
  }
  return len <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(len) : null;
}

/** More than one cache attribute is an error (i_ddi_check_cache_attr). */
function cacheAttrOk(flags: number): boolean {
  const cache = flags & (IOMEM_DATA_CACHED | IOMEM_DATA_UC_WR_COMBINE | IOMEM_DATA_UNCACHED);
  return (cache & (cache - 1)) === 0;
}

/** ddi_dma_mem_alloc(9F). */
export function ddi_dma_mem_alloc(
  handle: ddi_dma_handle_t | null, length: number, accattrp: ddi_device_acc_attr_t | null, flags: number,
  waitfp: ddi_dma_waitfp, arg: unknown, kaddrp: Out<Uint8Array | null> | null, real_length: Out<number> | null,
  handlep: Out<ddi_acc_handle_t | null> | null,
): number {
  void waitfp;
  void arg;
  const h = lookupDma(handle);
  if (h === null || h.dip.closed || h.dip.device.closed || !validAccAttr(accattrp) || !isOut(kaddrp) || !isOut(handlep)
    || (real_length !== null && !isOut(real_length))) return DDI_FAILURE;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || !cacheAttrOk(flags)) return DDI_FAILURE;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length <= 0) return DDI_FAILURE;
  const real = realLength(h, length, flags);
  if (real === null) return DDI_FAILURE;
  let memory: HostMemory;
  try {
    memory = allocHostMemory(real);
  } catch {
    return DDI_FAILURE;
  }
  const kaddr = memory.bytes.subarray(0, real);
  const acc = registerAcc(new AccHandle(h.dip, { kind: 'dma' }, -1, 0, real, accattrp));
  const mem: DmaMemory = { memory, kaddr, acc, bindings: new Set() };
  byBuffer.set(memory.bytes.buffer, mem);
  byAcc.set(acc, mem);
  kaddrp.value = kaddr;
  if (real_length !== null) real_length.value = real;
  handlep.value = acc;
  return DDI_SUCCESS;
}

/**
 * ddi_dma_mem_free(9F): frees the memory and sets `*handlep` to NULL. A binding still using it is
 * unbound first (illumos leaves that to the driver; here the device must not keep a mapping of
 * freed memory). A foreign or already freed handle: nothing.
 */
export function ddi_dma_mem_free(handlep: Out<ddi_acc_handle_t | null> | null): void {
  if (!isOut(handlep)) return;
  const acc = lookupAcc(handlep.value);
  const mem = acc === null ? undefined : byAcc.get(acc);
  if (acc === null || mem === undefined) return;
  for (const bound of [...mem.bindings]) dropBinding(bound);
  byBuffer.delete(mem.memory.bytes.buffer);
  byAcc.delete(acc);
  releaseAcc(acc);
  mem.memory.free();
  handlep.value = null;
}
