/**
 * zx_msi_allocate (spec/zircon.md A.7) and zx_msi_create (A.10) validation, step by step, over a fake
 * MSI capability written into RAM through a physical VMO (as Zircon's own tests do).
 */
import t from 'tap';
import {
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_ERR_ACCESS_DENIED, ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS,
  ZX_ERR_NO_RESOURCES, ZX_ERR_NOT_SUPPORTED, ZX_ERR_WRONG_TYPE, ZX_INFO_MSI, ZX_MSI_MODE_MSI_X, ZX_OK, ZX_RIGHT_INSPECT,
  ZX_RIGHT_MAP, ZX_RSRC_KIND_MMIO, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_INFO_BASE, ZX_RSRC_SYSTEM_MSI_BASE, ZX_VM_PERM_READ,
  ZX_VM_PERM_WRITE, ZX_DEFAULT_VMO_RIGHTS, ZX_DEFAULT_MSI_RIGHTS, ZX_INFO_HANDLE_BASIC,
  get_root_resource, zx_handle_close, zx_handle_duplicate, zx_interrupt_wait, zx_msi_allocate, zx_msi_create,
  zx_object_get_info, zx_resource_create, zx_vmar_map, zx_vmar_root_self, zx_vmo_create, zx_vmo_create_physical,
  zx_vmo_set_cache_policy, type zx_info_handle_basic_t, type zx_info_msi_t, type zx_mapping_t,
} from 'vfio-ddk/zircon';
import { setPlatformMsiSupport } from '../../lib/zircon/platform/platform.ts';
import { msiVectorsInUse } from '../../lib/zircon/platform/msi-vectors.ts';
import { out, stateOf } from './helpers.ts';

const root = get_root_resource();
const RAM_BASE = 0x1000_0000n; // plain RAM in the platform's physical map

function ramVmo(paddr: bigint, policy = ZX_CACHE_POLICY_UNCACHED_DEVICE): { vmo: number; map: zx_mapping_t } {
  const vmo = out(0);
  if (zx_vmo_create_physical(root, paddr, 4096n, vmo) !== ZX_OK) throw new Error('physical vmo');
  if (zx_vmo_set_cache_policy(vmo.value, policy) !== ZX_OK) throw new Error('policy');
  const map = out<zx_mapping_t | null>(null);
  if (zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo.value, 0n, 4096n, map as { value: zx_mapping_t }) !== ZX_OK) throw new Error('map');
  return { vmo: vmo.value, map: map.value as zx_mapping_t };
}

/** A fake 32-bit PVM-capable MSI capability at `offset` (Zircon's MsiCapability layout). */
function writeFakeCapability(map: zx_mapping_t, offset: number, control: number): void {
  map.write8(offset, 0x05);
  map.write8(offset + 1, 0);
  map.write16(offset + 2, control);
}

function allocate(count: number): number {
  const o = out(0);
  const status = zx_msi_allocate(root, count, o);
  if (status !== ZX_OK) throw new Error(`zx_msi_allocate ${status}`);
  return o.value;
}

function info(msi: number): zx_info_msi_t {
  const o = out<object>({});
  zx_object_get_info(msi, ZX_INFO_MSI, o);
  return o.value as zx_info_msi_t;
}

t.test('zx_msi_allocate: resource kind → NOT_SUPPORTED → count, in that order', async (t) => {
  t.equal(zx_msi_allocate(0x7ffffff3, 1, out(0)), ZX_ERR_BAD_HANDLE);
  const mmio = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0n, 4096n, 'mmio', mmio);
  t.equal(zx_msi_allocate(mmio.value, 1, out(0)), ZX_ERR_WRONG_TYPE, 'MMIO resource');
  const info3 = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_SYSTEM, BigInt(ZX_RSRC_SYSTEM_INFO_BASE), 1n, 'info', info3);
  t.equal(zx_msi_allocate(info3.value, 1, out(0)), ZX_ERR_WRONG_TYPE, 'SYSTEM resource with another base');
  const { vmo } = ramVmo(RAM_BASE + 0x10000n);
  t.equal(zx_msi_allocate(vmo, 1, out(0)), ZX_ERR_WRONG_TYPE, 'not a resource');
  setPlatformMsiSupport(false);
  t.equal(zx_msi_allocate(root, 3, out(0)), ZX_ERR_NOT_SUPPORTED, 'NOT_SUPPORTED before the count check');
  setPlatformMsiSupport(true);
  for (const bad of [0, 3, 6, 64, 33]) t.equal(zx_msi_allocate(root, bad, out(0)), ZX_ERR_INVALID_ARGS, `count ${bad}`);
  t.equal(zx_msi_allocate(root, 1, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  const msiRes = out(0);
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_SYSTEM, BigInt(ZX_RSRC_SYSTEM_MSI_BASE), 1n, 'msi', msiRes), ZX_OK);
  const msi = out(0);
  t.equal(zx_msi_allocate(msiRes.value, 8, msi), ZX_OK, 'SYSTEM/MSI_BASE resource');
  const basic = out<object>({});
  zx_object_get_info(msi.value, ZX_INFO_HANDLE_BASIC, basic);
  t.equal((basic.value as zx_info_handle_basic_t).rights, ZX_DEFAULT_MSI_RIGHTS, 'rights 0xC003');
  const i = info(msi.value);
  t.equal(i.target_addr, 0xfee00000n);
  t.equal(i.num_irq, 8);
  t.equal(i.target_data, i.base_irq_id);
  t.equal(i.base_irq_id % 8, 0, 'block aligned to its size');
  t.equal(i.interrupt_count, 0);
  for (const h of [mmio.value, info3.value, vmo, msiRes.value, msi.value]) zx_handle_close(h);
});

t.test('zx_msi_allocate exhaustion → NO_RESOURCES; closing frees the vectors', async (t) => {
  const held: number[] = [];
  for (;;) {
    const o = out(0);
    const status = zx_msi_allocate(root, 32, o);
    if (status !== ZX_OK) {
      t.equal(status, ZX_ERR_NO_RESOURCES);
      break;
    }
    held.push(o.value);
    if (held.length > 10) break;
  }
  t.ok(held.length >= 1 && held.length <= 6, `${held.length} blocks of 32 fit in 0x30–0xEF`);
  for (const h of held) zx_handle_close(h);
  const again = out(0);
  t.equal(zx_msi_allocate(root, 32, again), ZX_OK);
  zx_handle_close(again.value);
});

t.test('ZX_INFO_MSI needs INSPECT', async (t) => {
  const msi = allocate(1);
  const noInspect = out(0);
  zx_handle_duplicate(msi, ZX_DEFAULT_MSI_RIGHTS & ~ZX_RIGHT_INSPECT, noInspect);
  t.equal(zx_object_get_info(noInspect.value, ZX_INFO_MSI, out<object>({})), ZX_ERR_ACCESS_DENIED);
  t.equal(zx_object_get_info(msi, ZX_INFO_MSI, null), ZX_ERR_INVALID_ARGS);
  zx_handle_close(noInspect.value);
  zx_handle_close(msi);
});

t.test('zx_msi_create: A.10 checks in order over a capability in RAM', async (t) => {
  const { vmo, map } = ramVmo(RAM_BASE);
  writeFakeCapability(map, 0, 0x0100); // PVM, 32-bit
  const msi = allocate(2);
  // 1: MSI handle.
  t.equal(zx_msi_create(0x7ffffff3, 0, 0, 0x7ffffff3, 0, out(0)), ZX_ERR_BAD_HANDLE);
  t.equal(zx_msi_create(vmo, 0, 0, 0x7ffffff3, 0, out(0)), ZX_ERR_WRONG_TYPE, 'msi WRONG_TYPE before the vmo lookup');
  // 2: VMO handle with MAP.
  t.equal(zx_msi_create(msi, 0xff, 0, 0x7ffffff3, 0, out(0)), ZX_ERR_BAD_HANDLE, 'vmo lookup before option checks');
  t.equal(zx_msi_create(msi, 0, 0, msi, 0, out(0)), ZX_ERR_WRONG_TYPE);
  const noMap = out(0);
  zx_handle_duplicate(vmo, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_MAP, noMap);
  t.equal(zx_msi_create(msi, 0xff, 99, noMap.value, 0, out(0)), ZX_ERR_ACCESS_DENIED);
  // 3: argument checks.
  t.equal(zx_msi_create(msi, 0, 0, vmo, 0, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  const paged = out(0);
  zx_vmo_create(4096n, 0, paged);
  t.equal(zx_msi_create(msi, 0, 0, paged.value, 0, out(0)), ZX_ERR_INVALID_ARGS, 'paged VMO');
  t.equal(zx_msi_create(msi, 0, 0, vmo, 4096, out(0)), ZX_ERR_INVALID_ARGS, 'vmo_offset >= size');
  t.equal(zx_msi_create(msi, 0x2, 0, vmo, 0, out(0)), ZX_ERR_INVALID_ARGS, 'leftover option bits');
  const cached = ramVmo(RAM_BASE + 0x1000n, 0);
  writeFakeCapability(cached.map, 0, 0);
  t.equal(zx_msi_create(msi, 0, 0, cached.vmo, 0, out(0)), ZX_ERR_INVALID_ARGS, 'cache policy not UNCACHED_DEVICE');
  // 4: id range.
  t.equal(zx_msi_create(msi, 0, 2, vmo, 0, out(0)), ZX_ERR_INVALID_ARGS, 'msi_id >= num_irq');
  // 5: reservation (before the capability checks).
  const first = out(0);
  t.equal(zx_msi_create(msi, 0, 0, vmo, 0, first), ZX_OK, 'a capability in RAM is accepted');
  t.equal(zx_msi_create(msi, 0, 0, vmo, 8, out(0)), ZX_ERR_ALREADY_BOUND, 'ALREADY_BOUND before the cap id check');
  t.equal(info(msi).interrupt_count, 1);
  // 7: MSI capability checks; failures release the id.
  t.equal(zx_msi_create(msi, 0, 1, vmo, 8, out(0)), ZX_ERR_INVALID_ARGS, 'byte at vmo_offset is not 0x05');
  writeFakeCapability(map, 4096 - 16, 0);
  t.equal(zx_msi_create(msi, 0, 1, vmo, 4096 - 16, out(0)), ZX_ERR_INVALID_ARGS, 'vmo_offset + 24 > size');
  t.equal(info(msi).interrupt_count, 1, 'failed creates released their id');
  // MSI-X: the VMO is the table; the entry must fit.
  t.equal(zx_msi_create(msi, ZX_MSI_MODE_MSI_X, 1, vmo, 4096 - 16, out(0)), ZX_ERR_INVALID_ARGS, 'entry 1 past the end');
  const msix = out(0);
  t.equal(zx_msi_create(msi, ZX_MSI_MODE_MSI_X, 1, vmo, 4096 - 32, msix), ZX_OK, 'MSI-X table in RAM');
  t.equal(map.read32(4096 - 32 + 16 + 8), info(msi).target_data + 1, 'entry data programmed in RAM');
  t.equal(map.read32(4096 - 32 + 16 + 12) & 1, 0, 'entry unmasked');
  // The PVM mask bit in RAM follows the state machine: masked on delivery only, so still clear.
  t.equal(map.read32(0x0c) & 1, 0, 'RAM capability mask bit 0 cleared by create');
  t.equal(await stateOf(zx_interrupt_wait(first.value, null)), 'pending', 'no device behind it: never fires');
  for (const h of [first.value, msix.value]) zx_handle_close(h);
  t.equal(info(msi).interrupt_count, 0);
  for (const h of [msi, vmo, noMap.value, paged.value, cached.vmo]) zx_handle_close(h);
});

t.test('the allocation outlives its handle while interrupts exist (A.7 step 5)', async (t) => {
  const { vmo, map } = ramVmo(RAM_BASE + 0x2000n);
  writeFakeCapability(map, 0, 0);
  const before = msiVectorsInUse();
  const msi = allocate(4);
  t.equal(msiVectorsInUse(), before + 4);
  const irq = out(0);
  t.equal(zx_msi_create(msi, 0, 3, vmo, 0, irq), ZX_OK);
  zx_handle_close(msi);
  t.equal(msiVectorsInUse(), before + 4, 'still allocated: an interrupt holds it');
  zx_handle_close(irq.value);
  t.equal(msiVectorsInUse(), before, 'released with the last interrupt');
  zx_handle_close(vmo);
});
