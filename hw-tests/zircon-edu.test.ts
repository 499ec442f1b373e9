/**
 * The Zircon kit (vfio-ddk/zircon) on a real edu over VFIO — the steps of test/zircon/msi-device,
 * intx-physical and dma on the emulated devices, with the real device behind them:
 * zx_platform_attach, a physical VMO over its ECAM window, zx_msi_allocate + zx_msi_create on its real
 * MSI capability (edu: 64-bit, no per-vector masking), edu raise (0x60) → zx_interrupt_wait, a port
 * binding with ack re-arming, INTx as a LEVEL_HIGH physical interrupt (VFIO automask + unmask), and
 * zx_bti_pin with an edu DMA to the pinned IOVA. Every test ends by checking that closing the device
 * resolves a pending zx_interrupt_wait with ZX_ERR_CANCELED.
 */
import t from 'tap';
import {
  EDU_DEFAULT_DMA_MASK, EDU_DEVICE_ID, EDU_DMA_RUN, EDU_DMA_START, EDU_DMA_TO_PCI, EDU_REG, EDU_VENDOR_ID, PCI_INTERRUPT_PIN, PCI_VENDOR_ID,
  findMsi,
} from 'vfio-ddk';
import type { PciRegion } from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import type { VfioDevice } from 'vfio-ddk/vfio';
import {
  ZX_BTI_PERM_READ, ZX_BTI_PERM_WRITE, ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_ERR_CANCELED, ZX_INTERRUPT_BIND,
  ZX_INTERRUPT_MODE_LEVEL_HIGH, ZX_IOMMU_TYPE_DUMMY, ZX_OK, ZX_PKT_TYPE_INTERRUPT, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE,
  get_root_resource, zx_bti_create, zx_bti_pin, zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create,
  zx_interrupt_wait, zx_iommu_create, zx_msi_allocate, zx_msi_create, zx_platform_attach, zx_pmt_unpin, zx_port_create,
  zx_port_wait, zx_vmar_map, zx_vmar_root_self, zx_vmar_unmap, zx_vmo_create, zx_vmo_create_physical, zx_vmo_read,
  zx_vmo_set_cache_policy, zx_vmo_write, ZX_VM_PERM_READ, ZX_INFO_MSI, zx_object_get_info, programMsiCapability, disableMsiCapability,
  type Mapping, type zx_info_msi_t, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { guestBdf, skipReason } from './helpers.ts';
import { eduAck, eduDmaIdle, out, stateOf, type SubTest } from './kit-helpers.ts';

const root = get_root_resource();

function check(status: number, what: string): void {
  if (status !== ZX_OK) throw new Error(`${what}: status ${status}`);
}

/** A physical VMO over [paddr, paddr+size) with the device cache policy zx_msi_create requires. */
function deviceVmo(t: SubTest, paddr: bigint, size: bigint): number {
  const vmo = out(0);
  check(zx_vmo_create_physical(root, paddr, size, vmo), 'zx_vmo_create_physical');
  t.equal(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE), ZX_OK, 'UNCACHED_DEVICE cache policy');
  return vmo.value;
}

/** zx_msi_create of the edu's one MSI vector; returns the interrupt and the handles to close. */
function eduMsiInterrupt(t: SubTest, device: VfioDevice): { irq: number; handles: number[] } {
  const platform = zx_platform_attach(device);
  const layout = findMsi(device.config);
  if (layout === null) throw new Error('edu has no MSI capability');
  const vmo = deviceVmo(t, platform.ecam, 4096n);
  const msi = out(0);
  check(zx_msi_allocate(root, 1, msi), 'zx_msi_allocate');
  const irq = out(0);
  t.equal(zx_msi_create(msi.value, 0, 0, vmo, layout.offset, irq), ZX_OK, 'zx_msi_create on the real MSI capability');
  // The bus driver's step (the kernel never touches the capability): address/data from ZX_INFO_MSI, Enable.
  const info = out<object>({});
  check(zx_object_get_info(msi.value, ZX_INFO_MSI, info), 'zx_object_get_info(ZX_INFO_MSI)');
  programMsiCapability(device, info.value as zx_info_msi_t, 1);
  t.equal(device.config.read32(layout.addressLo) >>> 0, Number((info.value as zx_info_msi_t).target_addr & 0xffffffffn), 'vfio-pci shows the address the bus driver wrote');
  return { irq: irq.value, handles: [irq.value, msi.value, vmo] };
}

async function closeCancelsWait(t: SubTest, device: VfioDevice, irq: number): Promise<void> {
  const pending = zx_interrupt_wait(irq, null);
  t.equal(await stateOf(pending), 'pending', 'nothing raised: the wait blocks');
  device.close();
  t.equal(await pending, ZX_ERR_CANCELED, 'closing the device resolves the pending wait with CANCELED');
}

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  t.test('platform attach: ECAM window reads the real config header, INTx number, bti_id', async (t) => {
    using device = openVfioDevice(bdf);
    const platform = zx_platform_attach(device);
    t.type(platform.irq, 'number', 'edu has INTA: a platform interrupt number');
    t.type(platform.bars[0], 'bigint', 'BAR0 placed');
    t.equal(zx_platform_attach(device), platform, 'idempotent');
    const vmo = deviceVmo(t, platform.ecam, 4096n);
    const mapped = out<Mapping | null>(null);
    t.equal(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo, 0n, 4096n, mapped as { value: Mapping }), ZX_OK);
    const ecam = mapped.value as Mapping;
    t.equal(ecam.read32(PCI_VENDOR_ID), (EDU_DEVICE_ID << 16 | EDU_VENDOR_ID) >>> 0, 'vendor/device through the mapped ECAM window');
    t.equal(ecam.read8(PCI_INTERRUPT_PIN), device.config.read8(PCI_INTERRUPT_PIN), 'interrupt pin');
    t.equal(zx_vmar_unmap(zx_vmar_root_self(), ecam, 4096n), ZX_OK);
    zx_handle_close(vmo);
    t.comment(`ECAM 0x${platform.ecam.toString(16)}, BAR0 0x${platform.bars[0]?.toString(16)}, irq ${platform.irq}, bti ${platform.bti_id}`);
  });

  t.test('MSI: zx_msi_create, raise → zx_interrupt_wait, next wait re-arms, close → CANCELED', async (t) => {
    const device = openVfioDevice(bdf);
    const bar = device.bar(0);
    eduAck(bar);
    const { irq, handles } = eduMsiInterrupt(t, device);
    const ts = out(0n);
    const first = zx_interrupt_wait(irq, ts);
    bar.write32(EDU_REG.IRQ_RAISE, 0x1234);
    t.equal(await first, ZX_OK, 'the real MSI wakes the waiter');
    t.ok(ts.value > 0n, 'timestamp from the eventfd watcher');
    t.equal(eduAck(bar), 0x1234, 'the raised cause, acked');
    const second = zx_interrupt_wait(irq, null);
    bar.write32(EDU_REG.IRQ_RAISE, 0x8);
    t.equal(await second, ZX_OK, 'a second raise after the ack');
    t.equal(eduAck(bar), 0x8);
    await closeCancelsWait(t, device, irq);
    for (const h of handles) zx_handle_close(h);
  });

  t.test('MSI bound to a port: raise → packet with the key; ack re-arms', async (t) => {
    const device = openVfioDevice(bdf);
    const bar = device.bar(0);
    eduAck(bar);
    const { irq, handles } = eduMsiInterrupt(t, device);
    const port = out(0);
    check(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), 'zx_port_create');
    t.equal(zx_interrupt_bind(irq, port.value, 0x5eedn, ZX_INTERRUPT_BIND), ZX_OK);
    const packet = out<zx_port_packet_t | null>(null);
    const waiting = zx_port_wait(port.value, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
    bar.write32(EDU_REG.IRQ_RAISE, 0x40);
    t.equal(await waiting, ZX_OK);
    t.equal(packet.value?.key, 0x5eedn);
    t.equal(packet.value?.type, ZX_PKT_TYPE_INTERRUPT);
    t.equal(eduAck(bar), 0x40);
    t.equal(zx_interrupt_ack(irq), ZX_OK, 'ack re-arms');
    const next = zx_port_wait(port.value, ZX_TIME_INFINITE, packet as { value: zx_port_packet_t });
    bar.write32(EDU_REG.IRQ_RAISE, 0x80);
    t.equal(await next, ZX_OK, 'second raise, second packet');
    t.equal(eduAck(bar), 0x80);
    device.close();
    for (const h of [...handles, port.value]) zx_handle_close(h);
  });

  t.test('INTx as a LEVEL_HIGH physical interrupt: asserted until the edu ack, the next wait unmasks', async (t) => {
    const device = openVfioDevice(bdf);
    const bar = device.bar(0);
    eduAck(bar);
    const platform = zx_platform_attach(device);
    const irq = out(0);
    t.equal(zx_interrupt_create(root, platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, irq), ZX_OK);
    const first = zx_interrupt_wait(irq.value, null);
    t.equal(await stateOf(first), 'pending', 'nothing asserted yet');
    bar.write32(EDU_REG.IRQ_RAISE, 0x2);
    t.equal(await first, ZX_OK, 'raise asserts INTx: the wait returns');
    t.equal(await zx_interrupt_wait(irq.value, null), ZX_OK, 'not acked at the edu: still asserted, the unmask of this wait fires again');
    t.equal(eduAck(bar), 0x2, 'the driver services the edu (line deasserted)');
    const third = zx_interrupt_wait(irq.value, null);
    // The unmask of this wait finds the line low: VFIO signals nothing more.
    t.equal(await stateOf(third), 'pending', 'deasserted: the next wait blocks');
    bar.write32(EDU_REG.IRQ_RAISE, 0x4);
    t.equal(await third, ZX_OK, 'a new raise');
    t.equal(eduAck(bar), 0x4);
    await closeCancelsWait(t, device, irq.value);
    zx_handle_close(irq.value);
  });

  t.test('INTx and MSI objects of the edu coexist: MSI enabled → the pin is quiet; MSI disabled → INTx again', async (t) => {
    const device = openVfioDevice(bdf);
    const bar = device.bar(0);
    eduAck(bar);
    const platform = zx_platform_attach(device);
    const intx = out(0);
    t.equal(zx_interrupt_create(root, platform.irq as number, ZX_INTERRUPT_MODE_LEVEL_HIGH, intx), ZX_OK, 'INTx object first');
    const { irq, handles } = eduMsiInterrupt(t, device); // zx_msi_create + the bus driver's MSI Enable
    const intxWait = zx_interrupt_wait(intx.value, null);
    const msiWait = zx_interrupt_wait(irq, null);
    bar.write32(EDU_REG.IRQ_RAISE, 0x10);
    t.equal(await msiWait, ZX_OK, 'MSI delivered (VFIO switched INTx → MSI underneath)');
    t.equal(eduAck(bar), 0x10);
    t.equal(await stateOf(intxWait), 'pending', 'the INTx object is valid and quiet');
    disableMsiCapability(device);
    bar.write32(EDU_REG.IRQ_RAISE, 0x20);
    t.equal(await intxWait, ZX_OK, 'MSI disabled: the edu asserts INTx and the INTx object fires');
    t.equal(eduAck(bar), 0x20);
    device.close();
    for (const h of [...handles, intx.value]) zx_handle_close(h);
  });

  t.test('zx_bti_pin: an edu DMA reads and writes the pinned VMO through the IOMMU', async (t) => {
    const device = openVfioDevice(bdf);
    device.dma.setMask(EDU_DEFAULT_DMA_MASK); // the edu drives 28 address bits (D.5)
    const bar: PciRegion = device.bar(0);
    const platform = zx_platform_attach(device);
    const iommu = out(0);
    check(zx_iommu_create(root, ZX_IOMMU_TYPE_DUMMY, {}, iommu), 'zx_iommu_create');
    const bti = out(0);
    t.equal(zx_bti_create(iommu.value, 0, platform.bti_id, bti), ZX_OK);
    const vmo = out(0);
    check(zx_vmo_create(4096n, 0, vmo), 'zx_vmo_create');
    const pattern = new Uint8Array(256).map((_, i) => (i * 13 + 1) & 0xff);
    check(zx_vmo_write(vmo.value, pattern, 0n), 'zx_vmo_write');
    const addrs: bigint[] = [];
    const pmt = out(0);
    t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE, vmo.value, 0n, 4096n, addrs, 1, pmt), ZX_OK);
    const iova = addrs[0] as bigint;
    t.ok(iova <= EDU_DEFAULT_DMA_MASK, 'IOVA below the device DMA mask');
    // RAM (pinned IOVA) → edu buffer, then edu buffer → RAM at IOVA + 2048 (D.5).
    bar.write64(EDU_REG.DMA_SRC, iova);
    bar.write64(EDU_REG.DMA_DST, BigInt(EDU_DMA_START));
    bar.write64(EDU_REG.DMA_CNT, BigInt(pattern.length));
    bar.write32(EDU_REG.DMA_CMD, EDU_DMA_RUN);
    t.ok(await eduDmaIdle(bar), 'to-device transfer finished');
    bar.write64(EDU_REG.DMA_SRC, BigInt(EDU_DMA_START));
    bar.write64(EDU_REG.DMA_DST, iova + 2048n);
    bar.write64(EDU_REG.DMA_CNT, BigInt(pattern.length));
    bar.write32(EDU_REG.DMA_CMD, EDU_DMA_RUN | (EDU_DMA_TO_PCI << 1));
    t.ok(await eduDmaIdle(bar), 'from-device transfer finished');
    const back = new Uint8Array(pattern.length);
    check(zx_vmo_read(vmo.value, back, 2048n), 'zx_vmo_read');
    t.same(back, pattern, 'the data made the round trip through the pinned pages');
    t.equal(zx_pmt_unpin(pmt.value), ZX_OK);
    const { irq, handles } = eduMsiInterrupt(t, device);
    await closeCancelsWait(t, device, irq);
    for (const h of [...handles, vmo.value, bti.value, iommu.value]) zx_handle_close(h);
  });
}
