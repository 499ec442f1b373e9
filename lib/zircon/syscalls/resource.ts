/** get_root_resource, zx_resource_create (spec/zircon.md A.5, A.7). */
import { out, u32, u64 } from '../args.ts';
import { ZX_OBJ_TYPE_RESOURCE } from '../constants/object-types.ts';
import {
  ZX_MAX_NAME_LEN, ZX_RSRC_FLAGS_MASK, ZX_RSRC_KIND_COUNT, ZX_RSRC_KIND_IOPORT, ZX_RSRC_KIND_IRQ, ZX_RSRC_KIND_MASK,
  ZX_RSRC_KIND_ROOT, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_COUNT,
} from '../constants/options.ts';
import { ZX_DEFAULT_RESOURCE_RIGHTS, ZX_RIGHT_WRITE } from '../constants/rights.ts';
import { ZX_ERR_ACCESS_DENIED, ZX_ERR_INVALID_ARGS, ZX_ERR_OUT_OF_RANGE, ZX_OK } from '../constants/status.ts';
import { addHandle, getHandle, lookup } from '../kernel/handle-table.ts';
import { ResourceObject, rootResource } from '../objects/resource.ts';
import type { Out } from '../types.ts';

let rootHandle = 0;

/** A handle to the ROOT resource; the same value until it is closed (then a new one). */
export function get_root_resource(): number {
  if (rootHandle === 0 || getHandle(rootHandle) === undefined) rootHandle = addHandle(rootResource(), ZX_DEFAULT_RESOURCE_RIGHTS);
  return rootHandle;
}

const U64_LIMIT = 1n << 64n;
/** Limits of the number spaces of ranged kinds (IRQ numbers are uint32; x86 I/O ports 16-bit). */
const RANGE_LIMIT: Readonly<Record<number, bigint>> = { [ZX_RSRC_KIND_IRQ]: 1n << 32n, [ZX_RSRC_KIND_IOPORT]: 1n << 16n };

/**
 * Creates a child resource of `parent` (WRITE). The parent handle is looked up first, before the
 * options are looked at (syscalls/resource.cc sys_resource_create). The kind is options & 0xFFFF, flags
 * the rest (only ZX_RSRC_FLAG_EXCLUSIVE, recorded, not enforced). A non-ROOT parent must have the same
 * kind and cover [base, base+size) (else ACCESS_DENIED). SYSTEM: base < ZX_RSRC_SYSTEM_COUNT, size 1.
 * ROOT: only base 0, size 0 (resource_dispatcher.cc), from a ROOT parent.
 */
export function zx_resource_create(parent: number, options: number, base: bigint, size: bigint, name: string, outHandle: Out<number> | null): number {
  const p = u32('parent', parent);
  const opts = u32('options', options);
  const b = u64('base', base);
  const s = u64('size', size);
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  const o = out<number>('out', outHandle);
  const kind = opts & ZX_RSRC_KIND_MASK;
  const flags = (opts & ~ZX_RSRC_KIND_MASK) >>> 0;
  const entry = lookup(p, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_WRITE);
  if (typeof entry === 'number') return entry;
  if (kind >= ZX_RSRC_KIND_COUNT || (flags & ~ZX_RSRC_FLAGS_MASK) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  const parentResource = entry.object as ResourceObject;
  if (kind === ZX_RSRC_KIND_ROOT) {
    if (b !== 0n || s !== 0n) return ZX_ERR_INVALID_ARGS;
  } else if (kind === ZX_RSRC_KIND_SYSTEM) {
    if (b >= BigInt(ZX_RSRC_SYSTEM_COUNT) || s !== 1n) return ZX_ERR_INVALID_ARGS;
  } else {
    if (b + s > U64_LIMIT) return ZX_ERR_INVALID_ARGS;
    const limit = RANGE_LIMIT[kind];
    if (limit !== undefined && b + s > limit) return ZX_ERR_OUT_OF_RANGE;
  }
  if (parentResource.kind !== ZX_RSRC_KIND_ROOT && (parentResource.kind !== kind || !parentResource.covers(b, s))) return ZX_ERR_ACCESS_DENIED;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  const child = new ResourceObject(kind, b, s, flags, name.slice(0, ZX_MAX_NAME_LEN - 1));
  o.value = addHandle(child, ZX_DEFAULT_RESOURCE_RIGHTS);
  return ZX_OK;
}
