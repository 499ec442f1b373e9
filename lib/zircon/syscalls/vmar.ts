/**
 * zx_vmar_root_self / zx_vmar_map / zx_vmar_unmap. A mapping is a `zx_mapping_t` object standing for
 * the mapped address (API.md). Unmapping must name a whole mapping (partial unmaps: INVALID_ARGS).
 */
import { describe, out, u32, u64 } from '../args.ts';
import { ZX_OBJ_TYPE_VMAR, ZX_OBJ_TYPE_VMO } from '../constants/object-types.ts';
import {
  ZX_VM_ALLOW_FAULTS, ZX_VM_MAP_RANGE, ZX_VM_PERM_EXECUTE, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, ZX_VM_REQUIRE_NON_RESIZABLE,
  ZX_VM_SPECIFIC, ZX_VM_SPECIFIC_OVERWRITE,
} from '../constants/options.ts';
import {
  ZX_RIGHT_EXECUTE, ZX_RIGHT_MAP, ZX_RIGHT_NONE, ZX_RIGHT_READ, ZX_RIGHT_WRITE, ZX_RIGHTS_BASIC, ZX_RIGHT_WAIT,
} from '../constants/rights.ts';
import { ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_ERR_NOT_SUPPORTED, ZX_ERR_OUT_OF_RANGE, ZX_OK } from '../constants/status.ts';
import { addHandle, getHandle, lookup } from '../kernel/handle-table.ts';
import { Mapping } from '../objects/mapping.ts';
import { VmarObject } from '../objects/vmar.ts';
import type { VmoObject } from '../objects/vmo.ts';
import type { Out } from '../types.ts';

const PAGE = 4096n;
/** ZX_VM_ALIGN_* live in bits 24–28. */
const VM_ALIGN_MASK = 0x1f000000;
const VM_OPTIONS = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE | ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE
  | ZX_VM_MAP_RANGE | ZX_VM_REQUIRE_NON_RESIZABLE | ZX_VM_ALLOW_FAULTS | VM_ALIGN_MASK;
/** Mappings hand out JS numbers as offsets: 4 GiB is plenty for config windows, BARs and buffers. */
const MAX_MAPPING = 1n << 32n;

const root = new VmarObject();
let rootHandle = 0;
const ROOT_VMAR_RIGHTS = (ZX_RIGHTS_BASIC & ~ZX_RIGHT_WAIT) | ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_EXECUTE | ZX_RIGHT_MAP;

export function zx_vmar_root_self(): number {
  if (rootHandle === 0 || getHandle(rootHandle) === undefined) rootHandle = addHandle(root, ROOT_VMAR_RIGHTS);
  return rootHandle;
}

export function zx_vmar_map(vmar: number, options: number, vmarOffset: number | bigint, vmo: number, vmoOffset: bigint,
  len: bigint, mappedAddr: Out<Mapping> | null): number {
  const h = u32('vmar', vmar);
  const opts = u32('options', options);
  if (typeof vmarOffset !== 'number' && typeof vmarOffset !== 'bigint') throw new TypeError(`vmar_offset must be a number or bigint, got ${describe(vmarOffset)}`);
  const vOff = typeof vmarOffset === 'bigint' ? BigInt.asUintN(64, vmarOffset) : BigInt(u32('vmar_offset', vmarOffset));
  const v = u32('vmo', vmo);
  const off = u64('vmo_offset', vmoOffset);
  const length = u64('len', len);
  const o = out<Mapping>('mapped_addr', mappedAddr);
  if ((opts & ~VM_OPTIONS) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  const vmarEntry = lookup(h, ZX_OBJ_TYPE_VMAR, ZX_RIGHT_NONE);
  if (typeof vmarEntry === 'number') return vmarEntry;
  const vmoEntry = lookup(v, ZX_OBJ_TYPE_VMO, ZX_RIGHT_MAP);
  if (typeof vmoEntry === 'number') return vmoEntry;
  const needed = ((opts & ZX_VM_PERM_READ) !== 0 ? ZX_RIGHT_READ : 0) | ((opts & ZX_VM_PERM_WRITE) !== 0 ? ZX_RIGHT_WRITE : 0)
    | ((opts & ZX_VM_PERM_EXECUTE) !== 0 ? ZX_RIGHT_EXECUTE : 0);
  const rights = lookup(v, ZX_OBJ_TYPE_VMO, ZX_RIGHT_MAP | needed);
  if (typeof rights === 'number') return rights;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  if (length === 0n || off % PAGE !== 0n) return ZX_ERR_INVALID_ARGS;
  if ((opts & (ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE)) === 0 && vOff !== 0n) return ZX_ERR_INVALID_ARGS;
  if ((opts & (ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE)) !== 0) return ZX_ERR_NOT_SUPPORTED; // addresses are synthetic
  const rounded = (length + PAGE - 1n) / PAGE * PAGE;
  const object = vmoEntry.object as VmoObject;
  if (off + rounded > (object.size + PAGE - 1n) / PAGE * PAGE) return ZX_ERR_OUT_OF_RANGE;
  if (rounded > MAX_MAPPING) return ZX_ERR_OUT_OF_RANGE;
  o.value = new Mapping(object, off, Number(rounded), (opts & ZX_VM_PERM_READ) !== 0, (opts & ZX_VM_PERM_WRITE) !== 0);
  return ZX_OK;
}

export function zx_vmar_unmap(vmar: number, mapping: Mapping, len: bigint): number {
  const h = u32('vmar', vmar);
  const length = u64('len', len);
  const vmarEntry = lookup(h, ZX_OBJ_TYPE_VMAR, ZX_RIGHT_NONE);
  if (typeof vmarEntry === 'number') return vmarEntry;
  if (!(mapping instanceof Mapping)) return ZX_ERR_INVALID_ARGS;
  if (!mapping.mapped) return ZX_ERR_NOT_FOUND;
  const rounded = (length + PAGE - 1n) / PAGE * PAGE;
  if (rounded !== BigInt(mapping.size)) return ZX_ERR_INVALID_ARGS;
  mapping.unmap();
  return ZX_OK;
}
