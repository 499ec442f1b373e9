/**
 * zx_vmo_create / _physical / _contiguous, zx_vmo_set_cache_policy, zx_vmo_read / write / get_size
 * (spec/zircon.md A.7). Sizes are rounded up to whole pages for paged VMOs, as the kernel does.
 */
import { describe, out, u32, u64 } from '../args.ts';
import { ZX_OBJ_TYPE_BTI, ZX_OBJ_TYPE_RESOURCE, ZX_OBJ_TYPE_VMO } from '../constants/object-types.ts';
import { ZX_CACHE_POLICY_CACHED, ZX_CACHE_POLICY_MASK, ZX_RSRC_KIND_MMIO, ZX_VMO_DISCARDABLE, ZX_VMO_RESIZABLE } from '../constants/options.ts';
import { ZX_DEFAULT_VMO_RIGHTS, ZX_RIGHT_MAP, ZX_RIGHT_NONE, ZX_RIGHT_READ, ZX_RIGHT_WRITE } from '../constants/rights.ts';
import {
  ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_NO_MEMORY, ZX_ERR_NOT_SUPPORTED, ZX_ERR_OUT_OF_RANGE, ZX_OK,
} from '../constants/status.ts';
import { addHandle, lookup } from '../kernel/handle-table.ts';
import type { ResourceObject } from '../objects/resource.ts';
import { VmoObject } from '../objects/vmo.ts';
import { allocHostMemory, PAGE_SIZE } from '../../pci/host-memory.ts';
import type { HostMemory } from '../../pci/device.ts';
import type { Out } from '../types.ts';

const PAGE = BigInt(PAGE_SIZE);
/** Largest VMO backed by host memory here: beyond it zx_vmo_create reports NO_MEMORY. */
export const VMO_MAX_HOST_BYTES = 1n << 30n;
const U64_MAX = (1n << 64n) - 1n;

function roundUpToPage(size: bigint): bigint {
  return (size + PAGE - 1n) / PAGE * PAGE;
}

function hostMemory(size: bigint): HostMemory | null | number {
  if (size === 0n) return null;
  if (size > VMO_MAX_HOST_BYTES) return ZX_ERR_NO_MEMORY;
  try {
    return allocHostMemory(Number(size));
  } catch {
    return ZX_ERR_NO_MEMORY;
  }
}

export function zx_vmo_create(size: bigint, options: number, outHandle: Out<number> | null): number {
  const s = u64('size', size);
  const opts = u32('options', options);
  const o = out<number>('out', outHandle);
  if ((opts & ~(ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE)) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  if (s > U64_MAX - PAGE + 1n) return ZX_ERR_OUT_OF_RANGE;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  const rounded = roundUpToPage(s);
  const memory = hostMemory(rounded);
  if (typeof memory === 'number') return memory;
  o.value = addHandle(new VmoObject('paged', rounded, memory, 0n), ZX_DEFAULT_VMO_RIGHTS);
  return ZX_OK;
}

/**
 * A VMO over [paddr, paddr+size) with an MMIO resource. The resource is validated first (BAD_HANDLE /
 * WRONG_TYPE / OUT_OF_RANGE, sys_vmo_create_physical), then size (a non-zero page multiple) and the
 * alignment of paddr (VmObjectPhysical::Create checks it later).
 */
export function zx_vmo_create_physical(resource: number, paddr: bigint, size: bigint, outHandle: Out<number> | null): number {
  const r = u32('resource', resource);
  const p = u64('paddr', paddr);
  const s = u64('size', size);
  const o = out<number>('out', outHandle);
  const entry = lookup(r, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  const status = (entry.object as ResourceObject).validateRange(ZX_RSRC_KIND_MMIO, p, s);
  if (status !== ZX_OK) return status;
  if (s === 0n || s % PAGE !== 0n || p % PAGE !== 0n || p + s > U64_MAX + 1n) return ZX_ERR_INVALID_ARGS;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  o.value = addHandle(new VmoObject('physical', s, null, p), ZX_DEFAULT_VMO_RIGHTS);
  return ZX_OK;
}

/**
 * A paged, physically contiguous VMO for DMA through `bti` (MAP). alignment_log2 0 = page; < 12 or
 * ≥ 64 → INVALID_ARGS. (The alignment is checked, not modelled: IOVAs come from the device's domain.)
 */
export function zx_vmo_create_contiguous(bti: number, size: bigint, alignmentLog2: number, outHandle: Out<number> | null): number {
  const b = u32('bti', bti);
  const s = u64('size', size);
  let align = u32('alignment_log2', alignmentLog2);
  const o = out<number>('out', outHandle);
  if (s === 0n || s % PAGE !== 0n) return ZX_ERR_INVALID_ARGS;
  if (align === 0) align = 12;
  if (align < 12 || align >= 64) return ZX_ERR_INVALID_ARGS;
  const entry = lookup(b, ZX_OBJ_TYPE_BTI, ZX_RIGHT_MAP);
  if (typeof entry === 'number') return entry;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  const memory = hostMemory(s);
  if (typeof memory === 'number') return memory;
  o.value = addHandle(new VmoObject('contiguous', s, memory, 0n), ZX_DEFAULT_VMO_RIGHTS);
  return ZX_OK;
}

/** A.7: bad policy bits first; MAP; same policy = no-op OK; mapped or pinned → BAD_STATE. */
export function zx_vmo_set_cache_policy(vmo: number, policy: number): number {
  const v = u32('vmo', vmo);
  const p = u32('cache_policy', policy);
  if ((p & ~ZX_CACHE_POLICY_MASK) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  const entry = lookup(v, ZX_OBJ_TYPE_VMO, ZX_RIGHT_MAP);
  if (typeof entry === 'number') return entry;
  const object = entry.object as VmoObject;
  if (object.cachePolicy === p) return ZX_OK;
  if (object.mappings > 0 || object.pins > 0) return ZX_ERR_BAD_STATE;
  object.cachePolicy = p;
  return ZX_OK;
}

function transfer(what: 'read' | 'write', vmo: number, buffer: Uint8Array, offset: bigint): number {
  const v = u32('vmo', vmo);
  if (!(buffer instanceof Uint8Array)) throw new TypeError(`buffer must be a Uint8Array, got ${describe(buffer)}`);
  const off = u64('offset', offset);
  const entry = lookup(v, ZX_OBJ_TYPE_VMO, what === 'read' ? ZX_RIGHT_READ : ZX_RIGHT_WRITE);
  if (typeof entry === 'number') return entry;
  const object = entry.object as VmoObject;
  if (object.kind === 'physical') return ZX_ERR_NOT_SUPPORTED; // map physical VMOs instead (API.md)
  if (object.cachePolicy !== ZX_CACHE_POLICY_CACHED) return ZX_ERR_BAD_STATE;
  if (off + BigInt(buffer.length) > object.size) return ZX_ERR_OUT_OF_RANGE;
  if (buffer.length === 0 || object.memory === null) return ZX_OK;
  const at = Number(off);
  if (what === 'read') buffer.set(object.memory.bytes.subarray(at, at + buffer.length));
  else object.memory.bytes.set(buffer, at);
  return ZX_OK;
}

export function zx_vmo_read(vmo: number, buffer: Uint8Array, offset: bigint): number {
  return transfer('read', vmo, buffer, offset);
}

export function zx_vmo_write(vmo: number, buffer: Uint8Array, offset: bigint): number {
  return transfer('write', vmo, buffer, offset);
}

export function zx_vmo_get_size(vmo: number, outSize: Out<bigint> | null): number {
  const v = u32('vmo', vmo);
  const o = out<bigint>('size', outSize);
  const entry = lookup(v, ZX_OBJ_TYPE_VMO, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  o.value = (entry.object as VmoObject).size;
  return ZX_OK;
}
