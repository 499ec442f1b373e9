/**
 * zx_iommu_create, zx_bti_create, zx_bti_pin, zx_pmt_unpin. A BTI reaches the IOMMU domain of the
 * device zx_platform_attach gave that bti_id; pins map the VMO's host memory there and return IOVAs.
 */
import { out, u32, u64 } from '../args.ts';
import { ZX_OBJ_TYPE_BTI, ZX_OBJ_TYPE_IOMMU, ZX_OBJ_TYPE_PMT, ZX_OBJ_TYPE_RESOURCE, ZX_OBJ_TYPE_VMO } from '../constants/object-types.ts';
import {
  ZX_BTI_COMPRESS, ZX_BTI_CONTIGUOUS, ZX_BTI_PERM_EXECUTE, ZX_BTI_PERM_READ, ZX_BTI_PERM_WRITE, ZX_IOMMU_TYPE_DUMMY,
  ZX_RSRC_KIND_ROOT, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_IOMMU_BASE,
} from '../constants/options.ts';
import {
  ZX_DEFAULT_BTI_RIGHTS, ZX_DEFAULT_IOMMU_RIGHTS, ZX_DEFAULT_PMT_RIGHTS, ZX_RIGHT_EXECUTE, ZX_RIGHT_MAP, ZX_RIGHT_NONE,
  ZX_RIGHT_READ, ZX_RIGHT_WRITE,
} from '../constants/rights.ts';
import {
  ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED, ZX_ERR_OUT_OF_RANGE, ZX_ERR_WRONG_TYPE, ZX_OK,
} from '../constants/status.ts';
import { addHandle, lookup, removeHandle } from '../kernel/handle-table.ts';
import { BtiObject, IommuObject, PmtObject, dummyMapping } from '../objects/dma.ts';
import type { ResourceObject } from '../objects/resource.ts';
import type { VmoObject } from '../objects/vmo.ts';
import { deviceForBti } from '../platform/platform.ts';
import type { HostMemory } from '../../pci/device.ts';
import type { Out } from '../types.ts';
import { statusFromDeviceError } from './device-errors.ts';

const PAGE = 4096n;

/** `resource`: ROOT or SYSTEM/IOMMU_BASE. Only ZX_IOMMU_TYPE_DUMMY (others NOT_SUPPORTED). */
export function zx_iommu_create(resource: number, type: number, desc: object | null, outHandle: Out<number> | null): number {
  const r = u32('resource', resource);
  const t = u32('type', type);
  const o = out<number>('out', outHandle);
  const entry = lookup(r, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  const res = entry.object as ResourceObject;
  const iommuResource = res.kind === ZX_RSRC_KIND_SYSTEM && res.base === BigInt(ZX_RSRC_SYSTEM_IOMMU_BASE);
  if (!iommuResource && res.kind !== ZX_RSRC_KIND_ROOT) return ZX_ERR_WRONG_TYPE;
  if (desc === null || typeof desc !== 'object') return ZX_ERR_INVALID_ARGS;
  if (t !== ZX_IOMMU_TYPE_DUMMY) return ZX_ERR_NOT_SUPPORTED;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  o.value = addHandle(new IommuObject(t), ZX_DEFAULT_IOMMU_RIGHTS);
  return ZX_OK;
}

/**
 * options must be 0. A bti_id of an attached, open device reaches that device's IOMMU domain; any
 * other id is accepted too, as the DUMMY IOMMU does (DummyIommu::IsValidBusTxnId returns true; Fuchsia's
 * msi-test ContiguousNotSupported creates one with 0xdeadbeef): its pins get untranslated addresses.
 */
export function zx_bti_create(iommu: number, options: number, btiId: bigint, outHandle: Out<number> | null): number {
  const i = u32('iommu', iommu);
  const opts = u32('options', options);
  const id = u64('bti_id', btiId);
  const o = out<number>('out', outHandle);
  if (opts !== 0) return ZX_ERR_INVALID_ARGS;
  const entry = lookup(i, ZX_OBJ_TYPE_IOMMU, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  const device = deviceForBti(id);
  if (o === null) return ZX_ERR_INVALID_ARGS;
  o.value = addHandle(new BtiObject(entry.object as IommuObject, id, device), ZX_DEFAULT_BTI_RIGHTS);
  return ZX_OK;
}

const PIN_OPTIONS = ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE | ZX_BTI_PERM_EXECUTE | ZX_BTI_COMPRESS | ZX_BTI_CONTIGUOUS;

/**
 * Pins [offset, offset+size) of a paged VMO for the BTI's device. `addrs` receives one IOVA per page,
 * or one for ZX_BTI_CONTIGUOUS (contiguous VMOs only); `addrs_count` must match. Physical VMOs
 * (peer-to-peer DMA) and ZX_BTI_COMPRESS: NOT_SUPPORTED.
 */
export function zx_bti_pin(bti: number, options: number, vmo: number, offset: bigint, size: bigint,
  addrs: bigint[] | null, addrsCount: number, pmt: Out<number> | null): number {
  const b = u32('bti', bti);
  const opts = u32('options', options);
  const v = u32('vmo', vmo);
  const off = u64('offset', offset);
  const s = u64('size', size);
  const count = u32('addrs_count', addrsCount);
  if (addrs !== null && !Array.isArray(addrs)) throw new TypeError('addrs must be an array (bigint[]) or null');
  const o = out<number>('pmt', pmt);
  const btiEntry = lookup(b, ZX_OBJ_TYPE_BTI, ZX_RIGHT_MAP);
  if (typeof btiEntry === 'number') return btiEntry;
  if (off % PAGE !== 0n || s % PAGE !== 0n || s === 0n) return ZX_ERR_INVALID_ARGS;
  const rights = ZX_RIGHT_MAP | ((opts & ZX_BTI_PERM_READ) !== 0 ? ZX_RIGHT_READ : 0)
    | ((opts & ZX_BTI_PERM_WRITE) !== 0 ? ZX_RIGHT_WRITE : 0) | ((opts & ZX_BTI_PERM_EXECUTE) !== 0 ? ZX_RIGHT_EXECUTE : 0);
  const vmoEntry = lookup(v, ZX_OBJ_TYPE_VMO, rights);
  if (typeof vmoEntry === 'number') return vmoEntry;
  if ((opts & ~PIN_OPTIONS) >>> 0 !== 0 || (opts & (ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE | ZX_BTI_PERM_EXECUTE)) === 0) return ZX_ERR_INVALID_ARGS;
  if ((opts & ZX_BTI_COMPRESS) !== 0) return ZX_ERR_NOT_SUPPORTED;
  const object = vmoEntry.object as VmoObject;
  const contiguous = (opts & ZX_BTI_CONTIGUOUS) !== 0;
  if (contiguous && !object.contiguous) return ZX_ERR_INVALID_ARGS;
  const pages = Number(s / PAGE);
  if (count !== (contiguous ? 1 : pages) || addrs === null || o === null) return ZX_ERR_INVALID_ARGS;
  if (off + s > object.size) return ZX_ERR_OUT_OF_RANGE;
  if (object.kind === 'physical' || object.memory === null) return ZX_ERR_NOT_SUPPORTED;
  const device = (btiEntry.object as BtiObject).device;
  const source = object.memory;
  const start = Number(off);
  const length = Number(s);
  const memory: HostMemory = start === 0 ? source
    : { bytes: source.bytes.subarray(start, start + length), size: length, native: source.native, free: () => {} };
  let mapping;
  try {
    mapping = device === null ? dummyMapping(length) : device.dma.map(memory, { size: length, read: (opts & ZX_BTI_PERM_READ) !== 0, write: (opts & ZX_BTI_PERM_WRITE) !== 0 });
  } catch (error) {
    return statusFromDeviceError(error);
  }
  if (contiguous) addrs[0] = mapping.iova;
  else for (let i = 0; i < pages; i++) addrs[i] = mapping.iova + BigInt(i) * PAGE;
  o.value = addHandle(new PmtObject(mapping, object), ZX_DEFAULT_PMT_RIGHTS);
  return ZX_OK;
}

/** Unpins and invalidates the PMT handle. */
export function zx_pmt_unpin(pmt: number): number {
  const entry = lookup(u32('pmt', pmt), ZX_OBJ_TYPE_PMT, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  (entry.object as PmtObject).unpin();
  removeHandle(entry);
  return ZX_OK;
}
