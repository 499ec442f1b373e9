/**
 * Issue 11 items 3–7: where the kernel's own code decides (each test names the upstream file), the
 * kit answers as Zircon does — all-ones ECAM holes, the DUMMY IOMMU's any-bti_id rule, the order of
 * checks and copy-outs, what closing a port's last handle does, and VMOs a live MSI object maps.
 */
import t from 'tap';
import { findMsi } from 'vfio-ddk';
import {
  ZX_CACHE_POLICY_CACHED, ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_HANDLE, ZX_ERR_BAD_STATE,
  ZX_ERR_INVALID_ARGS, ZX_ERR_NO_RESOURCES, ZX_ERR_OUT_OF_RANGE, ZX_INTERRUPT_BIND, ZX_INTERRUPT_MODE_LEVEL_HIGH,
  ZX_IOMMU_TYPE_DUMMY, ZX_BTI_PERM_READ, ZX_BTI_CONTIGUOUS, ZX_OK, ZX_RSRC_KIND_MMIO,
  ZX_USER_SIGNAL_0, ZX_WAIT_ASYNC_BOOT_TIMESTAMP, ZX_WAIT_ASYNC_TIMESTAMP,
  get_root_resource, zx_bti_create, zx_bti_pin, zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create,
  zx_interrupt_destroy, zx_interrupt_trigger, zx_iommu_create, zx_msi_allocate, zx_msi_create, zx_object_signal,
  zx_object_wait_async, zx_pmt_unpin, zx_resource_create, zx_vmar_map, zx_vmar_root_self, zx_vmar_unmap,
  zx_vmo_create_contiguous, zx_vmo_create_physical, zx_vmo_set_cache_policy, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, type Mapping,
} from 'vfio-ddk/zircon';
import { attachedTestDevice, deviceVmo } from './device-fixtures.ts';
import { interruptPort, out, virtualInterrupt } from './helpers.ts';

/** Reads the physical range through a mapping of a physical VMO (as a bus scan would). */
function mapPhysical(paddr: bigint, size: bigint): { map: Mapping; close(): void } {
  const vmo = out(0);
  if (zx_vmo_create_physical(get_root_resource(), paddr, size, vmo) !== ZX_OK) throw new Error('zx_vmo_create_physical');
  const mapped = out<Mapping | null>(null);
  if (zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0n, vmo.value, 0n, size, mapped as { value: Mapping }) !== ZX_OK) throw new Error('zx_vmar_map');
  const map = mapped.value as Mapping;
  return { map, close: () => { zx_vmar_unmap(zx_vmar_root_self(), map, size); zx_handle_close(vmo.value); } };
}

t.test('ECAM: an absent function of an attached bus reads all-ones at every width, drops writes; so does a closed device', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 1 } });
  const hole = platform.ecam + 7n * 4096n; // function 7 of the same device number: nothing there
  const { map, close } = mapPhysical(hole, 4096n);
  t.same([map.read8(0), map.read16(0), map.read32(0)], [0xff, 0xffff, 0xffffffff], 'vendor id all-ones: no function (PCI 3.0 §6.1)');
  t.equal(map.read64(8), 0xffff_ffff_ffff_ffffn);
  map.write32(0, 0x12345678);
  t.equal(map.read32(0), 0xffffffff, 'the write went nowhere (not RAM)');
  close();

  const ecam = platform.ecam;
  const bar = platform.bars[0] as bigint;
  device.close();
  const config = mapPhysical(ecam, 4096n);
  t.equal(config.map.read32(0), 0xffffffff, 'a closed device\'s config window reads all-ones');
  config.close();
  const window = mapPhysical(bar, 4096n);
  t.equal(window.map.read32(0), 0xffffffff, 'and so do its BARs');
  window.close();
});

t.test('DUMMY IOMMU: every bti_id is valid; pins and contiguous VMOs work on such a BTI (DummyIommu::IsValidBusTxnId)', async (t) => {
  const iommu = out(0);
  t.equal(zx_iommu_create(get_root_resource(), ZX_IOMMU_TYPE_DUMMY, {}, iommu), ZX_OK);
  const bti = out(0);
  t.equal(zx_bti_create(iommu.value, 0, 0xdeadbeefn, bti), ZX_OK, 'msi-test ContiguousNotSupported does this');
  const vmo = out(0);
  t.equal(zx_vmo_create_contiguous(bti.value, 8192n, 0, vmo), ZX_OK);
  const addrs = [0n];
  const pmt = out(0);
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_READ | ZX_BTI_CONTIGUOUS, vmo.value, 0n, 8192n, addrs, 1, pmt), ZX_OK);
  t.ok((addrs[0] as bigint) > 0n && (addrs[0] as bigint) % 4096n === 0n, 'a page-aligned bus address');
  t.equal(zx_pmt_unpin(pmt.value), ZX_OK);
  const msi = out(0);
  zx_msi_allocate(get_root_resource(), 1, msi);
  t.equal(zx_msi_create(msi.value, 0, 0, vmo.value, 0, out(0)), ZX_ERR_INVALID_ARGS, 'and zx_msi_create still refuses the paged contiguous VMO');
  for (const h of [vmo.value, bti.value, iommu.value, msi.value]) zx_handle_close(h);
});

t.test('check order: wait_async timestamps, resource parent first, physical VMO resource before alignment', async (t) => {
  const port = interruptPort(0);
  t.equal(zx_object_wait_async(0x7777_7777, port, 1n, ZX_USER_SIGNAL_0, ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_BOOT_TIMESTAMP), ZX_ERR_INVALID_ARGS,
    'both timestamp options: INVALID_ARGS before the bad handle (object_wait.cc)');
  t.equal(zx_resource_create(0x7777_7777, 0x7fff, 0n, 1n, 'x', out(0)), ZX_ERR_BAD_HANDLE, 'the parent is looked up before the kind (resource.cc)');
  t.equal(zx_vmo_create_physical(0x7777_7777, 0x1001n, 4096n, out(0)), ZX_ERR_BAD_HANDLE, 'resource before alignment (VmObjectPhysical::Create checks it later)');
  const mmio = out(0);
  t.equal(zx_resource_create(get_root_resource(), ZX_RSRC_KIND_MMIO, 0x10000n, 0x1000n, 'mmio', mmio), ZX_OK);
  t.equal(zx_vmo_create_physical(mmio.value, 0x20001n, 4096n, out(0)), ZX_ERR_OUT_OF_RANGE, 'outside the resource: OUT_OF_RANGE even though unaligned');
  for (const h of [port, mmio.value]) zx_handle_close(h);
});

t.test('NULL out-handles are seen only at copy-out: NO_RESOURCES and ALREADY_BOUND win', async (t) => {
  const held: number[] = [];
  for (;;) {
    const msi = out(0);
    const status = zx_msi_allocate(get_root_resource(), 32, msi);
    if (status !== ZX_OK) break;
    held.push(msi.value);
  }
  t.equal(zx_msi_allocate(get_root_resource(), 32, null), ZX_ERR_NO_RESOURCES, 'no block left: NO_RESOURCES with a NULL out (sys_msi_allocate)');
  for (const h of held) zx_handle_close(h);
  t.equal(zx_msi_allocate(get_root_resource(), 1, null), ZX_ERR_INVALID_ARGS, 'a block was there: the copy out fails');

  const { device, platform } = attachedTestDevice({ intx: true });
  const irq = out(0);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, irq), ZX_OK);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, null), ZX_ERR_ALREADY_BOUND,
    'an owned IRQ: ALREADY_BOUND even with a NULL out (InterruptEventDispatcher::Create)');
  zx_handle_close(irq.value);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, null), ZX_ERR_INVALID_ARGS);
  t.equal(zx_interrupt_create(get_root_resource(), platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, irq), ZX_OK, 'and that attempt left the IRQ free');
  zx_handle_close(irq.value);
  device.close();
});

t.test('the last port handle closing: ordinary packets and wait_async observers go, a bound interrupt\'s packet stays', async (t) => {
  const port = interruptPort();
  const irq = virtualInterrupt();
  t.equal(zx_interrupt_bind(irq, port, 5n, ZX_INTERRUPT_BIND), ZX_OK);
  t.equal(zx_interrupt_trigger(irq, 0, 1n), ZX_OK, 'packet queued');
  t.equal(zx_interrupt_trigger(irq, 0, 2n), ZX_OK, 'a second trigger while the packet is unread: pending');
  const watched = virtualInterrupt();
  t.equal(zx_object_wait_async(watched, port, 9n, ZX_USER_SIGNAL_0, 0), ZX_OK);
  zx_handle_close(port);
  t.equal(zx_object_signal(watched, 0, ZX_USER_SIGNAL_0), ZX_OK, 'the observer was removed: the signal queues nothing');
  t.equal(zx_interrupt_ack(irq), ZX_ERR_BAD_STATE, 'the first packet is still queued, so ack cannot send the pending one: BAD_STATE (A.8)');
  t.equal(zx_interrupt_destroy(irq), ZX_OK, 'destroy takes the queued packet back: OK (A.8)');
  for (const h of [irq, watched]) zx_handle_close(h);
});

t.test('a VMO a live MSI interrupt maps keeps its cache policy (BAD_STATE) until the object is freed', async (t) => {
  const { device, platform } = attachedTestDevice({ msi: { vectors: 1 } });
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('no MSI');
  const vmo = deviceVmo(platform.ecam, 4096n);
  const msi = out(0);
  zx_msi_allocate(get_root_resource(), 1, msi);
  const irq = out(0);
  t.equal(zx_msi_create(msi.value, 0, 0, vmo, BigInt(layout.offset), irq), ZX_OK, 'vmo_offset as a bigint (size_t)');
  t.equal(zx_vmo_set_cache_policy(vmo, ZX_CACHE_POLICY_CACHED), ZX_ERR_BAD_STATE, 'the kernel holds a mapping');
  t.equal(zx_vmo_set_cache_policy(vmo, ZX_CACHE_POLICY_UNCACHED_DEVICE), ZX_OK, 'the same policy is a no-op');
  zx_handle_close(irq.value);
  t.equal(zx_vmo_set_cache_policy(vmo, ZX_CACHE_POLICY_CACHED), ZX_OK, 'freed: the mapping is gone');
  for (const h of [msi.value, vmo]) zx_handle_close(h);
  device.close();
});
