/** VMOs (paged, physical) and mappings: sizes, cache policy (A.7), read/write, zx_mapping_t access. */
import t from 'tap';
import { DdkError } from 'vfio-ddk';
import {
  ZX_CACHE_POLICY_CACHED, ZX_CACHE_POLICY_UNCACHED, ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_DEFAULT_VMO_RIGHTS,
  ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_ERR_NOT_FOUND, ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE, ZX_ERR_WRONG_TYPE, ZX_ERR_NO_MEMORY, ZX_INFO_HANDLE_BASIC, ZX_OK, ZX_RIGHT_MAP, ZX_RIGHT_READ,
  ZX_RIGHT_WRITE, ZX_RSRC_KIND_IRQ, ZX_RSRC_KIND_MMIO, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, ZX_VM_SPECIFIC,
  get_root_resource, zx_handle_close, zx_handle_duplicate, zx_object_get_info, zx_resource_create, zx_vmar_map,
  zx_vmar_root_self, zx_vmar_unmap, zx_vmo_create, zx_vmo_create_physical, zx_vmo_get_size, zx_vmo_read,
  zx_vmo_set_cache_policy, zx_vmo_write, type zx_info_handle_basic_t, type zx_mapping_t,
} from 'vfio-ddk/zircon';
import { out } from './helpers.ts';

const root = get_root_resource();
const RW = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;

function map(vmo: number, len: bigint, options = RW, offset = 0n): zx_mapping_t {
  const o = out<zx_mapping_t | null>(null);
  const status = zx_vmar_map(zx_vmar_root_self(), options, 0, vmo, offset, len, o as { value: zx_mapping_t });
  if (status !== ZX_OK) throw new Error(`map ${status}`);
  return o.value as zx_mapping_t;
}

t.test('zx_vmo_create: page-rounded size, default rights, read/write round trip', async (t) => {
  const vmo = out(0);
  t.equal(zx_vmo_create(100n, 0, vmo), ZX_OK);
  const size = out(0n);
  t.equal(zx_vmo_get_size(vmo.value, size), ZX_OK);
  t.equal(size.value, 4096n);
  const info = out<object>({});
  zx_object_get_info(vmo.value, ZX_INFO_HANDLE_BASIC, info);
  t.equal((info.value as zx_info_handle_basic_t).rights, ZX_DEFAULT_VMO_RIGHTS);
  t.equal(zx_vmo_write(vmo.value, new Uint8Array([1, 2, 3]), 4093n), ZX_OK);
  const back = new Uint8Array(3);
  t.equal(zx_vmo_read(vmo.value, back, 4093n), ZX_OK);
  t.same([...back], [1, 2, 3]);
  t.equal(zx_vmo_read(vmo.value, back, 4094n), ZX_ERR_OUT_OF_RANGE);
  t.equal(zx_vmo_get_size(vmo.value, null), ZX_ERR_INVALID_ARGS);
  t.equal(zx_vmo_create(4096n, 0x100, out(0)), ZX_ERR_INVALID_ARGS, 'unknown option');
  t.equal(zx_vmo_create(4096n, 0, null), ZX_ERR_INVALID_ARGS);
  t.equal(zx_vmo_create(0xffffffffffffffffn, 0, out(0)), ZX_ERR_OUT_OF_RANGE, 'rounding overflows');
  t.equal(zx_vmo_create(1n << 40n, 0, out(0)), ZX_ERR_NO_MEMORY);
  const empty = out(0);
  t.equal(zx_vmo_create(0n, 0, empty), ZX_OK, 'size 0 allowed');
  const readOnly = out(0);
  zx_handle_duplicate(vmo.value, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE, readOnly);
  t.equal(zx_vmo_write(readOnly.value, back, 0n), ZX_ERR_ACCESS_DENIED);
  const writeOnly = out(0);
  zx_handle_duplicate(vmo.value, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ, writeOnly);
  t.equal(zx_vmo_read(writeOnly.value, back, 0n), ZX_ERR_ACCESS_DENIED);
  for (const h of [vmo.value, empty.value, readOnly.value, writeOnly.value]) zx_handle_close(h);
});

t.test('a mapping of a paged VMO reads and writes its memory; bounds and permissions enforced', async (t) => {
  const vmo = out(0);
  zx_vmo_create(8192n, 0, vmo);
  const m = map(vmo.value, 8192n);
  m.write32(4, 0xdeadbeef);
  m.write64(8, 0x0123456789abcdefn);
  m.write16(16, 0xbeef);
  m.write8(18, 0x7f);
  const bytes = new Uint8Array(16);
  zx_vmo_read(vmo.value, bytes, 4n);
  t.same([...bytes.subarray(0, 4)], [0xef, 0xbe, 0xad, 0xde], 'little-endian, reaches the VMO');
  t.equal(m.read32(4), 0xdeadbeef);
  t.equal(m.read64(8), 0x0123456789abcdefn);
  t.equal(m.read16(16), 0xbeef);
  t.equal(m.read8(18), 0x7f);
  t.throws(() => m.read32(8192), RangeError);
  t.throws(() => m.read32(2), RangeError, 'misaligned');
  t.throws(() => m.write8(-1, 0), RangeError);
  const ro = map(vmo.value, 4096n, ZX_VM_PERM_READ, 4096n);
  t.throws(() => ro.write8(0, 1), DdkError, 'write through a read-only mapping');
  t.equal(zx_vmar_unmap(zx_vmar_root_self(), ro, 4096n), ZX_OK);
  t.equal(zx_vmar_unmap(zx_vmar_root_self(), ro, 4096n), ZX_ERR_NOT_FOUND, 'already unmapped');
  t.throws(() => ro.read8(0), DdkError, 'access after unmap');
  t.equal(zx_vmar_unmap(zx_vmar_root_self(), m, 4096n), ZX_ERR_INVALID_ARGS, 'partial unmap');
  t.equal(zx_vmar_unmap(zx_vmar_root_self(), {} as zx_mapping_t, 4096n), ZX_ERR_INVALID_ARGS, 'not a mapping');
  t.equal(zx_vmar_unmap(vmo.value, m, 8192n), ZX_ERR_WRONG_TYPE);
  t.equal(zx_vmar_unmap(zx_vmar_root_self(), m, 8192n), ZX_OK);
  zx_handle_close(vmo.value);
});

t.test('zx_vmar_map validation', async (t) => {
  const vmar = zx_vmar_root_self();
  const vmo = out(0);
  zx_vmo_create(4096n, 0, vmo);
  const o = out<zx_mapping_t | null>(null) as { value: zx_mapping_t };
  t.equal(zx_vmar_map(vmar, 0x80000000, 0, vmo.value, 0n, 4096n, o), ZX_ERR_INVALID_ARGS, 'unknown option');
  t.equal(zx_vmar_map(vmo.value, RW, 0, vmo.value, 0n, 4096n, o), ZX_ERR_WRONG_TYPE, 'vmar handle');
  t.equal(zx_vmar_map(vmar, RW, 0, vmar, 0n, 4096n, o), ZX_ERR_WRONG_TYPE, 'vmo handle');
  const noMap = out(0);
  zx_handle_duplicate(vmo.value, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_MAP, noMap);
  t.equal(zx_vmar_map(vmar, RW, 0, noMap.value, 0n, 4096n, o), ZX_ERR_ACCESS_DENIED);
  const readOnly = out(0);
  zx_handle_duplicate(vmo.value, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE, readOnly);
  t.equal(zx_vmar_map(vmar, RW, 0, readOnly.value, 0n, 4096n, o), ZX_ERR_ACCESS_DENIED, 'PERM_WRITE needs WRITE');
  t.equal(zx_vmar_map(vmar, RW, 0, vmo.value, 0n, 0n, o), ZX_ERR_INVALID_ARGS, 'len 0');
  t.equal(zx_vmar_map(vmar, RW, 0, vmo.value, 100n, 4096n, o), ZX_ERR_INVALID_ARGS, 'unaligned vmo_offset');
  t.equal(zx_vmar_map(vmar, RW, 4096, vmo.value, 0n, 4096n, o), ZX_ERR_INVALID_ARGS, 'vmar_offset without SPECIFIC');
  t.equal(zx_vmar_map(vmar, RW | ZX_VM_SPECIFIC, 4096, vmo.value, 0n, 4096n, o), ZX_ERR_NOT_SUPPORTED);
  t.equal(zx_vmar_map(vmar, RW, 0, vmo.value, 4096n, 4096n, o), ZX_ERR_OUT_OF_RANGE, 'past the end');
  t.equal(zx_vmar_map(vmar, RW, 0, vmo.value, 0n, 4096n, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  for (const h of [vmo.value, noMap.value, readOnly.value]) zx_handle_close(h);
});

t.test('zx_vmo_create_physical: A.7 size rule and MMIO resource validation; RAM behind it', async (t) => {
  const o = out(0);
  t.equal(zx_vmo_create_physical(root, 0x3000_0000n, 0n, o), ZX_ERR_INVALID_ARGS, 'size 0');
  t.equal(zx_vmo_create_physical(root, 0x3000_0000n, 100n, o), ZX_ERR_INVALID_ARGS, 'size not page multiple');
  t.equal(zx_vmo_create_physical(root, 0x3000_0010n, 4096n, o), ZX_ERR_INVALID_ARGS, 'paddr not page aligned');
  const irqRes = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_IRQ, 0n, 16n, 'irq', irqRes);
  t.equal(zx_vmo_create_physical(irqRes.value, 0x3000_0000n, 4096n, o), ZX_ERR_WRONG_TYPE, 'not MMIO');
  const mmio = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0x3000_0000n, 0x2000n, 'mmio', mmio);
  t.equal(zx_vmo_create_physical(mmio.value, 0x3000_1000n, 0x2000n, o), ZX_ERR_OUT_OF_RANGE, 'outside the resource');
  t.equal(zx_vmo_create_physical(mmio.value, 0x3000_0000n, 0x2000n, null), ZX_ERR_INVALID_ARGS);
  t.equal(zx_vmo_create_physical(mmio.value, 0x3000_0000n, 0x2000n, o), ZX_OK);
  t.equal(zx_vmo_read(o.value, new Uint8Array(4), 0n), ZX_ERR_NOT_SUPPORTED, 'physical VMOs are not readable');
  t.equal(zx_vmo_write(o.value, new Uint8Array(4), 0n), ZX_ERR_NOT_SUPPORTED);
  const a = map(o.value, 0x2000n);
  a.write32(0x1ffc, 0x12345678);
  const second = out(0);
  zx_vmo_create_physical(root, 0x3000_1000n, 0x1000n, second);
  const b = map(second.value, 0x1000n);
  t.equal(b.read32(0xffc), 0x12345678, 'two VMOs over the same RAM see the same bytes');
  t.equal(b.read64(0x800), 0n, 'untouched RAM reads 0');
  for (const h of [irqRes.value, mmio.value, o.value, second.value]) zx_handle_close(h);
});

t.test('zx_vmo_set_cache_policy: A.7 order and rules', async (t) => {
  const vmo = out(0);
  zx_vmo_create_physical(root, 0x3100_0000n, 4096n, vmo);
  t.equal(zx_vmo_set_cache_policy(0x7ffffff3, 4), ZX_ERR_INVALID_ARGS, 'policy bits checked before the handle');
  t.equal(zx_vmo_set_cache_policy(vmo.value, 4), ZX_ERR_INVALID_ARGS);
  const noMap = out(0);
  zx_handle_duplicate(vmo.value, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_MAP, noMap);
  t.equal(zx_vmo_set_cache_policy(noMap.value, ZX_CACHE_POLICY_UNCACHED), ZX_ERR_ACCESS_DENIED);
  t.equal(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_CACHED), ZX_OK, 'same policy: no-op');
  const m = map(vmo.value, 4096n);
  t.equal(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_CACHED), ZX_OK, 'same policy even while mapped');
  t.equal(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE), ZX_ERR_BAD_STATE, 'mapped');
  zx_vmar_unmap(zx_vmar_root_self(), m, 4096n);
  t.equal(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE), ZX_OK);
  const paged = out(0);
  zx_vmo_create(4096n, 0, paged);
  zx_vmo_set_cache_policy(paged.value, ZX_CACHE_POLICY_UNCACHED);
  t.equal(zx_vmo_read(paged.value, new Uint8Array(1), 0n), ZX_ERR_BAD_STATE, 'uncached paged VMOs are not readable');
  for (const h of [vmo.value, noMap.value, paged.value]) zx_handle_close(h);
});
