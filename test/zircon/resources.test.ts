/** get_root_resource and zx_resource_create (spec/zircon.md A.5, A.7): kinds, ranges, parent rules. */
import t from 'tap';
import {
  ZX_DEFAULT_RESOURCE_RIGHTS, ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS, ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_WRONG_TYPE, ZX_INFO_HANDLE_BASIC, ZX_OBJ_TYPE_RESOURCE, ZX_OK, ZX_RIGHT_WRITE, ZX_RSRC_FLAG_EXCLUSIVE,
  ZX_RSRC_KIND_IOPORT, ZX_RSRC_KIND_IRQ, ZX_RSRC_KIND_MMIO, ZX_RSRC_KIND_ROOT, ZX_RSRC_KIND_SYSTEM, ZX_RSRC_SYSTEM_COUNT,
  ZX_RSRC_SYSTEM_MSI_BASE,
  get_root_resource, zx_handle_close, zx_handle_duplicate, zx_object_get_info, zx_resource_create,
  type zx_info_handle_basic_t,
} from 'vfio-ddk/zircon';
import { out, virtualInterrupt } from './helpers.ts';

t.test('get_root_resource: a ROOT resource handle, stable until closed', async (t) => {
  const root = get_root_resource();
  t.equal(get_root_resource(), root);
  const info = out<object>({});
  zx_object_get_info(root, ZX_INFO_HANDLE_BASIC, info);
  t.equal((info.value as zx_info_handle_basic_t).type, ZX_OBJ_TYPE_RESOURCE);
  t.equal((info.value as zx_info_handle_basic_t).rights, ZX_DEFAULT_RESOURCE_RIGHTS);
  zx_handle_close(root);
  const again = get_root_resource();
  t.not(again, root, 'a new handle after close');
  t.equal(zx_object_get_info(again, ZX_INFO_HANDLE_BASIC, info), ZX_OK);
});

t.test('zx_resource_create: kinds, flags, ranges', async (t) => {
  const root = get_root_resource();
  const o = out(0);
  t.equal(zx_resource_create(root, 6, 0n, 1n, 'x', o), ZX_ERR_INVALID_ARGS, 'kind ≥ COUNT');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_MMIO | 0x20000, 0n, 1n, 'x', o), ZX_ERR_INVALID_ARGS, 'unknown flag');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_ROOT, 0n, 1n, 'x', o), ZX_ERR_INVALID_ARGS, 'a ROOT with a range');
  const childRoot = out(0);
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_ROOT, 0n, 0n, 'x', childRoot), ZX_OK, 'ROOT with base 0, size 0 (resource_dispatcher.cc)');
  zx_handle_close(childRoot.value);
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_SYSTEM, BigInt(ZX_RSRC_SYSTEM_COUNT), 1n, 'x', o), ZX_ERR_INVALID_ARGS, 'system base range');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_SYSTEM, BigInt(ZX_RSRC_SYSTEM_MSI_BASE), 2n, 'x', o), ZX_ERR_INVALID_ARGS, 'system size must be 1');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0xfffffffffffff000n, 0x2000n, 'x', o), ZX_ERR_INVALID_ARGS, 'overflow');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_IRQ, 0xffffffffn, 2n, 'x', o), ZX_ERR_OUT_OF_RANGE, 'IRQ numbers are 32-bit');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_IOPORT, 0xfff0n, 0x20n, 'x', o), ZX_ERR_OUT_OF_RANGE, 'I/O ports are 16-bit');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0n, 4096n, 'x', null), ZX_ERR_INVALID_ARGS, 'NULL out');
  t.equal(zx_resource_create(0x7ffffff3, ZX_RSRC_KIND_MMIO, 0n, 4096n, 'x', o), ZX_ERR_BAD_HANDLE);
  const irq = virtualInterrupt();
  t.equal(zx_resource_create(irq, ZX_RSRC_KIND_MMIO, 0n, 4096n, 'x', o), ZX_ERR_WRONG_TYPE);
  t.equal(o.value, 0, 'out untouched');
  t.equal(zx_resource_create(root, ZX_RSRC_KIND_MMIO | ZX_RSRC_FLAG_EXCLUSIVE, 0x1000n, 0x4000n, 'a'.repeat(64), o), ZX_OK);
  zx_handle_close(o.value);
  zx_handle_close(irq);
});

t.test('a child of a non-ROOT parent must have its kind and lie inside it; parent needs WRITE', async (t) => {
  const root = get_root_resource();
  const parent = out(0);
  zx_resource_create(root, ZX_RSRC_KIND_MMIO, 0x10000n, 0x10000n, 'parent', parent);
  const child = out(0);
  t.equal(zx_resource_create(parent.value, ZX_RSRC_KIND_MMIO, 0x11000n, 0x1000n, 'child', child), ZX_OK);
  t.equal(zx_resource_create(parent.value, ZX_RSRC_KIND_MMIO, 0x1f000n, 0x2000n, 'c', out(0)), ZX_ERR_ACCESS_DENIED, 'crosses the end');
  t.equal(zx_resource_create(parent.value, ZX_RSRC_KIND_MMIO, 0xf000n, 0x1000n, 'c', out(0)), ZX_ERR_ACCESS_DENIED, 'below the base');
  t.equal(zx_resource_create(parent.value, ZX_RSRC_KIND_IRQ, 0x11000n, 1n, 'c', out(0)), ZX_ERR_ACCESS_DENIED, 'other kind');
  const noWrite = out(0);
  zx_handle_duplicate(parent.value, ZX_DEFAULT_RESOURCE_RIGHTS & ~ZX_RIGHT_WRITE, noWrite);
  t.equal(zx_resource_create(noWrite.value, ZX_RSRC_KIND_MMIO, 0x11000n, 0x1000n, 'c', out(0)), ZX_ERR_ACCESS_DENIED);
  for (const h of [parent.value, child.value, noWrite.value]) zx_handle_close(h);
});
