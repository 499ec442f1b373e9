/** zx_iommu_create, zx_bti_create, zx_vmo_create_contiguous, zx_bti_pin, zx_pmt_unpin over an emulated device's IOMMU. */
import t from 'tap';
import type { EmuPciDevice } from 'vfio-ddk/emu';
import {
  ZX_BTI_COMPRESS, ZX_BTI_CONTIGUOUS, ZX_BTI_PERM_READ, ZX_BTI_PERM_WRITE, ZX_DEFAULT_BTI_RIGHTS, ZX_DEFAULT_VMO_RIGHTS,
  ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_SUPPORTED, ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_WRONG_TYPE, ZX_INFO_HANDLE_BASIC, ZX_IOMMU_TYPE_DUMMY, ZX_IOMMU_TYPE_INTEL, ZX_MSI_MODE_MSI_X, ZX_OK,
  ZX_RIGHT_MAP, ZX_RIGHT_WRITE, ZX_RSRC_KIND_MMIO, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_IOMMU_BASE, ZX_CACHE_POLICY_UNCACHED_DEVICE,
  get_root_resource, zx_bti_create, zx_bti_pin, zx_handle_close, zx_handle_duplicate, zx_iommu_create, zx_msi_allocate,
  zx_msi_create, zx_object_get_info, zx_pmt_unpin, zx_resource_create, zx_vmo_create, zx_vmo_create_contiguous,
  zx_vmo_set_cache_policy, zx_vmo_write, type zx_info_handle_basic_t,
} from 'vfio-ddk/zircon';
import { attachedTestDevice } from './device-fixtures.ts';
import { out } from './helpers.ts';

const root = get_root_resource();

function iommu(): number {
  const o = out(0);
  if (zx_iommu_create(root, ZX_IOMMU_TYPE_DUMMY, {}, o) !== ZX_OK) throw new Error('iommu');
  return o.value;
}

t.test('zx_iommu_create: resource, desc, type', async (t) => {
  const mmio = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0n, 4096n, 'm', mmio);
  t.equal(zx_iommu_create(mmio.value, ZX_IOMMU_TYPE_DUMMY, {}, out(0)), ZX_ERR_WRONG_TYPE);
  t.equal(zx_iommu_create(0x7ffffff3, ZX_IOMMU_TYPE_DUMMY, {}, out(0)), ZX_ERR_BAD_HANDLE);
  t.equal(zx_iommu_create(root, ZX_IOMMU_TYPE_DUMMY, null, out(0)), ZX_ERR_INVALID_ARGS, 'NULL desc');
  t.equal(zx_iommu_create(root, ZX_IOMMU_TYPE_INTEL, {}, out(0)), ZX_ERR_NOT_SUPPORTED);
  t.equal(zx_iommu_create(root, ZX_IOMMU_TYPE_DUMMY, {}, null), ZX_ERR_INVALID_ARGS);
  const sys = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_SYSTEM, BigInt(ZX_RSRC_SYSTEM_IOMMU_BASE), 1n, 'iommu', sys);
  const o = out(0);
  t.equal(zx_iommu_create(sys.value, ZX_IOMMU_TYPE_DUMMY, {}, o), ZX_OK);
  for (const h of [mmio.value, sys.value, o.value]) zx_handle_close(h);
});

t.test('pin a paged VMO: per-page IOVAs the device reads through its IOMMU; unpin unmaps', async (t) => {
  const { device, platform } = attachedTestDevice({});
  const emu = device as unknown as EmuPciDevice;
  const io = iommu();
  const bti = out(0);
  t.equal(zx_bti_create(io, 1, platform.bti_id, bti), ZX_ERR_INVALID_ARGS, 'options must be 0');
  const dummy = out(0);
  t.equal(zx_bti_create(io, 0, 0xffffn, dummy), ZX_OK, 'an id no device has: the DUMMY IOMMU accepts it (DummyIommu::IsValidBusTxnId)');
  zx_handle_close(dummy.value);
  t.equal(zx_bti_create(root, 0, platform.bti_id, bti), ZX_ERR_WRONG_TYPE);
  t.equal(zx_bti_create(io, 0, platform.bti_id, bti), ZX_OK);
  const info = out<object>({});
  zx_object_get_info(bti.value, ZX_INFO_HANDLE_BASIC, info);
  t.equal((info.value as zx_info_handle_basic_t).rights, ZX_DEFAULT_BTI_RIGHTS);

  const vmo = out(0);
  zx_vmo_create(3n * 4096n, 0, vmo);
  zx_vmo_write(vmo.value, new Uint8Array([0xaa, 0xbb]), 4096n + 10n);
  const addrs: bigint[] = [];
  const pmt = out(0);
  const baseMappings = emu.dma.mappings;
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE, vmo.value, 0n, 3n * 4096n, addrs, 3, pmt), ZX_OK);
  t.equal(addrs.length, 3);
  t.equal(addrs[1], (addrs[0] as bigint) + 4096n);
  t.equal(emu.dma.mappings, baseMappings + 1);
  const seen = new Uint8Array(2);
  t.ok(emu.dma.deviceRead(Number(addrs[1]) + 10, seen, 0, 2), 'device reads the pinned page');
  t.same([...seen], [0xaa, 0xbb]);
  t.equal(zx_pmt_unpin(pmt.value), ZX_OK);
  t.equal(emu.dma.mappings, baseMappings, 'unmapped');
  t.equal(zx_pmt_unpin(pmt.value), ZX_ERR_BAD_HANDLE, 'the PMT handle is gone');

  const offsetPin = out(0);
  const one: bigint[] = [];
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_READ, vmo.value, 4096n, 4096n, one, 1, offsetPin), ZX_OK, 'pin at an offset');
  t.ok(emu.dma.deviceRead(Number(one[0]) + 10, seen, 0, 2));
  t.same([...seen], [0xaa, 0xbb], 'offset honoured');
  zx_handle_close(offsetPin.value);
  t.equal(emu.dma.mappings, baseMappings, 'closing the PMT unpins');
  for (const h of [io, bti.value, vmo.value]) zx_handle_close(h);
  device.close();
});

t.test('zx_bti_pin validation', async (t) => {
  const { device, platform } = attachedTestDevice({});
  const io = iommu();
  const bti = out(0);
  zx_bti_create(io, 0, platform.bti_id, bti);
  const vmo = out(0);
  zx_vmo_create(8192n, 0, vmo);
  const R = ZX_BTI_PERM_READ;
  const a: bigint[] = [];
  t.equal(zx_bti_pin(0x7ffffff3, R, vmo.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_BAD_HANDLE);
  t.equal(zx_bti_pin(vmo.value, R, vmo.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_WRONG_TYPE);
  const btiNoMap = out(0);
  zx_handle_duplicate(bti.value, ZX_DEFAULT_BTI_RIGHTS & ~ZX_RIGHT_MAP, btiNoMap);
  t.equal(zx_bti_pin(btiNoMap.value, R, vmo.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_ACCESS_DENIED);
  t.equal(zx_bti_pin(bti.value, R, vmo.value, 100n, 4096n, a, 1, out(0)), ZX_ERR_INVALID_ARGS, 'unaligned offset');
  t.equal(zx_bti_pin(bti.value, R, vmo.value, 0n, 100n, a, 1, out(0)), ZX_ERR_INVALID_ARGS, 'unaligned size');
  const readOnly = out(0);
  zx_handle_duplicate(vmo.value, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE, readOnly);
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_WRITE, readOnly.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_ACCESS_DENIED, 'PERM_WRITE needs WRITE');
  t.equal(zx_bti_pin(bti.value, 0, vmo.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_INVALID_ARGS, 'no permission');
  t.equal(zx_bti_pin(bti.value, R | 0x100, vmo.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_INVALID_ARGS, 'unknown option');
  t.equal(zx_bti_pin(bti.value, R | ZX_BTI_COMPRESS, vmo.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_NOT_SUPPORTED);
  t.equal(zx_bti_pin(bti.value, R | ZX_BTI_CONTIGUOUS, vmo.value, 0n, 4096n, a, 1, out(0)), ZX_ERR_INVALID_ARGS, 'CONTIGUOUS on a non-contiguous VMO');
  t.equal(zx_bti_pin(bti.value, R, vmo.value, 0n, 8192n, a, 1, out(0)), ZX_ERR_INVALID_ARGS, 'addrs_count ≠ pages');
  t.equal(zx_bti_pin(bti.value, R, vmo.value, 0n, 4096n, null, 1, out(0)), ZX_ERR_INVALID_ARGS, 'NULL addrs');
  t.equal(zx_bti_pin(bti.value, R, vmo.value, 0n, 4096n, a, 1, null), ZX_ERR_INVALID_ARGS, 'NULL pmt');
  t.equal(zx_bti_pin(bti.value, R, vmo.value, 8192n, 4096n, a, 1, out(0)), ZX_ERR_OUT_OF_RANGE);
  t.equal(a.length, 0, 'addrs untouched on failure');
  for (const h of [io, bti.value, btiNoMap.value, vmo.value, readOnly.value]) zx_handle_close(h);
  device.close();
});

t.test('zx_vmo_create_contiguous: A.7 checks; paged+contiguous (CONTIGUOUS pin: one address; zx_msi_create rejects it)', async (t) => {
  const { device, platform } = attachedTestDevice({});
  const io = iommu();
  const bti = out(0);
  zx_bti_create(io, 0, platform.bti_id, bti);
  const o = out(0);
  t.equal(zx_vmo_create_contiguous(bti.value, 0n, 0, o), ZX_ERR_INVALID_ARGS, 'size 0');
  t.equal(zx_vmo_create_contiguous(bti.value, 100n, 0, o), ZX_ERR_INVALID_ARGS, 'not page multiple');
  t.equal(zx_vmo_create_contiguous(bti.value, 4096n, 11, o), ZX_ERR_INVALID_ARGS, 'alignment < 12');
  t.equal(zx_vmo_create_contiguous(bti.value, 4096n, 64, o), ZX_ERR_INVALID_ARGS, 'alignment ≥ 64');
  const noMap = out(0);
  zx_handle_duplicate(bti.value, ZX_DEFAULT_BTI_RIGHTS & ~ZX_RIGHT_MAP, noMap);
  t.equal(zx_vmo_create_contiguous(noMap.value, 4096n, 0, o), ZX_ERR_ACCESS_DENIED);
  t.equal(zx_vmo_create_contiguous(io, 4096n, 0, o), ZX_ERR_WRONG_TYPE);
  t.equal(zx_vmo_create_contiguous(bti.value, 8192n, 0, o), ZX_OK);
  const addrs: bigint[] = [];
  const pmt = out(0);
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS, o.value, 0n, 8192n, addrs, 2, pmt), ZX_ERR_INVALID_ARGS, 'contiguous: addrs_count must be 1');
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS, o.value, 0n, 8192n, addrs, 1, pmt), ZX_OK);
  t.equal(addrs.length, 1);
  zx_pmt_unpin(pmt.value);
  zx_vmo_set_cache_policy(o.value, ZX_CACHE_POLICY_UNCACHED_DEVICE);
  const msi = out(0);
  zx_msi_allocate(root, 1, msi);
  t.equal(zx_msi_create(msi.value, ZX_MSI_MODE_MSI_X, 0, o.value, 0, out(0)), ZX_ERR_INVALID_ARGS, 'ContiguousNotSupported');
  for (const h of [io, bti.value, noMap.value, o.value, msi.value]) zx_handle_close(h);
  device.close();
});
