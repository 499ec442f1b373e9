/** zx_msi_allocate (spec/zircon.md A.7) and zx_msi_create (A.10, checks in its exact order). */
import { out, sizeT, u32 } from '../args.ts';
import { ZX_OBJ_TYPE_MSI, ZX_OBJ_TYPE_RESOURCE, ZX_OBJ_TYPE_VMO } from '../constants/object-types.ts';
import { ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_MSI_MODE_MSI_X, ZX_RSRC_KIND_ROOT, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_MSI_BASE } from '../constants/options.ts';
import { ZX_DEFAULT_INTERRUPT_RIGHTS, ZX_DEFAULT_MSI_RIGHTS, ZX_RIGHT_MAP, ZX_RIGHT_NONE } from '../constants/rights.ts';
import { ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED, ZX_ERR_WRONG_TYPE, ZX_OK } from '../constants/status.ts';
import { addHandle, lookup } from '../kernel/handle-table.ts';
import { InterruptObject } from '../objects/interrupt.ts';
import { LEVEL_FLAGS } from '../objects/interrupt-state.ts';
import { MSI_ALLOCATION_COUNT_MAX, MsiAllocationObject } from '../objects/msi-allocation.ts';
import { MsiHardware, type MsiRoute } from '../objects/msi-hardware.ts';
import type { ResourceObject } from '../objects/resource.ts';
import type { VmoObject } from '../objects/vmo.ts';
import { allocateMsiBlock } from '../platform/msi-vectors.ts';
import { findWindow, physRead } from '../platform/physical-memory.ts';
import { platformSupportsMsi } from '../platform/platform.ts';
import { findMsi, findMsix } from '../../pci/capabilities.ts';
import { PCI_CAP_ID_MSI, PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_MASKBIT, PCI_MSIX_ENTRY_SIZE } from '../../pci/regs.ts';
import type { Out } from '../types.ts';

/** sizeof(MsiCapability) as Zircon models it (A.10 table). */
const ZIRCON_MSI_CAPABILITY_SIZE = 24;

export function zx_msi_allocate(resource: number, count: number, outHandle: Out<number> | null): number {
  const r = u32('resource', resource);
  const n = u32('count', count);
  const o = out<number>('out', outHandle);
  const entry = lookup(r, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  const res = entry.object as ResourceObject;
  const msiResource = res.kind === ZX_RSRC_KIND_SYSTEM && res.base === BigInt(ZX_RSRC_SYSTEM_MSI_BASE);
  if (!msiResource && res.kind !== ZX_RSRC_KIND_ROOT) return ZX_ERR_WRONG_TYPE;
  if (!platformSupportsMsi()) return ZX_ERR_NOT_SUPPORTED;
  if (n === 0 || n > MSI_ALLOCATION_COUNT_MAX || (n & (n - 1)) !== 0) return ZX_ERR_INVALID_ARGS;
  // sys_msi_allocate allocates the block before it copies the handle out: no vectors left is
  // NO_RESOURCES even with a NULL out; otherwise the block is freed again and the copy fails.
  const block = allocateMsiBlock(n);
  if (typeof block === 'number') return block;
  if (o === null) {
    block.free();
    return ZX_ERR_INVALID_ARGS;
  }
  o.value = addHandle(new MsiAllocationObject(block), ZX_DEFAULT_MSI_RIGHTS);
  return ZX_OK;
}

/**
 * Which device vector the structure at `addr` is (A.10 step 7 after Zircon's own checks): an ECAM
 * window must hold the device's MSI capability there, a BAR its MSI-X table (entry-aligned); RAM has
 * no device behind it (null). Anything else → INVALID_ARGS (a number).
 */
function routeFor(addr: bigint, msix: boolean, msiId: number): MsiRoute | null | number {
  const window = findWindow(addr);
  if (window === null) return null;
  const offset = Number(addr - window.start);
  const device = window.device;
  if (!msix) {
    if (window.kind !== 'config' || findMsi(device.config)?.offset !== offset) return ZX_ERR_INVALID_ARGS;
    return { device, vector: msiId };
  }
  const layout = findMsix(device.config);
  if (window.kind !== 'bar' || layout === null || layout.tableBar !== window.barIndex) return ZX_ERR_INVALID_ARGS;
  const relative = offset - layout.tableOffset;
  if (relative < 0 || relative % PCI_MSIX_ENTRY_SIZE !== 0) return ZX_ERR_INVALID_ARGS;
  const vector = relative / PCI_MSIX_ENTRY_SIZE + msiId;
  return vector < layout.vectors ? { device, vector } : ZX_ERR_INVALID_ARGS;
}

/**
 * zx_msi_create: never programs the MSI capability (address, data, MME, Enable belong to the PCI bus
 * driver — msi_dispatcher.cc); for MSI-X it writes the entry's message. `vmo_offset` is a size_t: a
 * number or a bigint.
 */
export function zx_msi_create(msi: number, options: number, msiId: number, vmo: number, vmoOffset: number | bigint, outHandle: Out<number> | null): number {
  const m = u32('msi', msi);
  let opts = u32('options', options);
  const id = u32('msi_id', msiId);
  const v = u32('vmo', vmo);
  const offset = sizeT('vmo_offset', vmoOffset);
  const o = out<number>('out', outHandle);
  // 1–2: handle lookups.
  const msiEntry = lookup(m, ZX_OBJ_TYPE_MSI, ZX_RIGHT_NONE);
  if (typeof msiEntry === 'number') return msiEntry;
  const vmoEntry = lookup(v, ZX_OBJ_TYPE_VMO, ZX_RIGHT_MAP);
  if (typeof vmoEntry === 'number') return vmoEntry;
  const allocation = msiEntry.object as MsiAllocationObject;
  const vmoObject = vmoEntry.object as VmoObject;
  // 3: argument checks.
  const isMsix = (opts & ZX_MSI_MODE_MSI_X) !== 0;
  opts = (opts & ~ZX_MSI_MODE_MSI_X) >>> 0;
  if (o === null || vmoObject.paged || !vmoObject.contiguous || offset >= vmoObject.size || opts !== 0
    || vmoObject.cachePolicy !== ZX_CACHE_POLICY_UNCACHED_DEVICE) return ZX_ERR_INVALID_ARGS;
  // 4–5: id range, reservation.
  if (id >= allocation.numIrq) return ZX_ERR_INVALID_ARGS;
  const reserved = allocation.reserveId(id);
  if (reserved !== ZX_OK) return reserved;
  const fail = (status: number): number => {
    allocation.releaseId(id);
    return status;
  };
  // 7: structure checks.
  const structureAddr = vmoObject.paddr + offset;
  let control = { is64: false, pvm: false };
  if (isMsix) {
    if (offset + BigInt((id + 1) * PCI_MSIX_ENTRY_SIZE) > vmoObject.size) return fail(ZX_ERR_INVALID_ARGS);
  } else {
    if (physRead(structureAddr, 1) !== PCI_CAP_ID_MSI) return fail(ZX_ERR_INVALID_ARGS);
    if (offset + BigInt(ZIRCON_MSI_CAPABILITY_SIZE) > vmoObject.size) return fail(ZX_ERR_INVALID_ARGS);
    const flags = physRead(structureAddr + BigInt(PCI_MSI_FLAGS), 2);
    control = { is64: (flags & PCI_MSI_FLAGS_64BIT) !== 0, pvm: (flags & PCI_MSI_FLAGS_MASKBIT) !== 0 };
  }
  const route = routeFor(structureAddr, isMsix, id);
  if (typeof route === 'number') return fail(route);
  // 9: register the vector handler, unmask, hand out the interrupt.
  const irq = new InterruptObject(LEVEL_FLAGS, isMsix ? ZX_MSI_MODE_MSI_X : 0);
  // Step 6 maps the whole VMO into the kernel for the object's life: its cache policy is then fixed
  // (zx_vmo_set_cache_policy → BAD_STATE while mapped).
  vmoObject.mappings++;
  const unmapVmo = (): void => {
    vmoObject.mappings--;
    vmoObject.maybeFree();
  };
  const hardware = new MsiHardware(irq, allocation, id, isMsix, structureAddr, control, route, unmapVmo);
  hardware.connect();
  irq.setHardware(hardware);
  hardware.unmask();
  o.value = addHandle(irq, ZX_DEFAULT_INTERRUPT_RIGHTS);
  return ZX_OK;
}
