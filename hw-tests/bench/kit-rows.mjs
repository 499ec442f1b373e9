/**
 * MSI round trips through the kits on the real edu (1 MSI vector, 64-bit, no per-vector masking):
 *   msi_roundtrip_zx_interrupt_wait  zx_interrupt_wait resolves; the driver acks edu (wait mode,
 *                                    spec/zircon.md A.10: the next wait unmasks — the IrqLine latch);
 *   msi_roundtrip_zx_port            zx_port_wait gets the packet; ack edu, then zx_interrupt_ack;
 *   msi_roundtrip_ddi_handler        the ddi_intr handler acks edu and claims (spec/ddi.md; edu's MSI
 *                                    is BLOCK-capable only, so ddi_intr_block_enable).
 * Set-up follows test/zircon/msi-device.test.ts: zx_platform_attach, a physical VMO over the ECAM
 * window (UNCACHED_DEVICE), zx_msi_allocate, zx_msi_create at the MSI capability's offset.
 */
import { EDU_REG, findMsi } from 'vfio-ddk';
import {
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_INTERRUPT_BIND, ZX_OK, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE, get_root_resource,
  zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_wait, zx_msi_allocate, zx_msi_create, zx_platform_attach,
  zx_port_create, zx_port_wait, zx_vmo_create_physical, zx_vmo_set_cache_policy, zx_object_get_info, programMsiCapability,
  disableMsiCapability, ZX_INFO_MSI, PortPacketBuffer,
} from 'vfio-ddk/zircon';
import {
  ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_disable, ddi_intr_block_enable, ddi_intr_free,
  ddi_intr_remove_handler, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSI, DDI_SUCCESS,
} from 'vfio-ddk/ddi';
import { measureAsync } from '../../scripts/bench/measure.mjs';
import { makeRow } from '../../scripts/bench/report.mjs';

export function ok(status, what) {
  if (status !== ZX_OK) throw new Error(`${what} failed with status ${status}`);
}

export const out = (v) => ({ value: v });

/** An MSI interrupt object for edu's vector 0; returns { irq, close() }. */
export function msiInterrupt(dev) {
  const layout = findMsi(dev.config);
  if (layout === null) throw new Error(`${dev.bdf} has no MSI capability`);
  const platform = zx_platform_attach(dev);
  const vmo = out(0);
  ok(zx_vmo_create_physical(get_root_resource(), platform.ecam, 4096n, vmo), 'zx_vmo_create_physical');
  ok(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE), 'zx_vmo_set_cache_policy');
  const msi = out(0);
  ok(zx_msi_allocate(get_root_resource(), 1, msi), 'zx_msi_allocate');
  const irq = out(0);
  ok(zx_msi_create(msi.value, 0, 0, vmo.value, layout.offset, irq), 'zx_msi_create');
  const info = out({});
  ok(zx_object_get_info(msi.value, ZX_INFO_MSI, info), 'zx_object_get_info(ZX_INFO_MSI)');
  programMsiCapability(dev, info.value, 1); // the bus driver programs the capability (msi_dispatcher.cc does not)
  // The bus driver leaves MSI mode when done: MSI Enable cleared (the next rows attach MSI themselves).
  return { irq: irq.value, close: () => { for (const h of [irq.value, msi.value, vmo.value]) zx_handle_close(h); disableMsiCapability(dev); } };
}

export async function zxWaitRow(dev, step) {
  const bar = dev.bar(0);
  const { irq, close } = msiInterrupt(dev);
  const ts = out(0n);
  try {
    const samples = await measureAsync(() => {
      const waiting = zx_interrupt_wait(irq, ts);
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      return waiting;
    }, { ...step('msi_roundtrip_zx_interrupt_wait'), after: (status) => { ok(status, 'zx_interrupt_wait'); bar.write32(EDU_REG.IRQ_ACK, 1); } });
    return makeRow({ name: 'msi_roundtrip_zx_interrupt_wait', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    close();
  }
}

export async function zxPortRow(dev, step) {
  const bar = dev.bar(0);
  const { irq, close } = msiInterrupt(dev);
  const port = out(0);
  ok(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), 'zx_port_create');
  try {
    ok(zx_interrupt_bind(irq, port.value, 0x1234n, ZX_INTERRUPT_BIND), 'zx_interrupt_bind');
    const packet = new PortPacketBuffer().out; // a driver's packet storage, filled in place
    const samples = await measureAsync(() => {
      const waiting = zx_port_wait(port.value, ZX_TIME_INFINITE, packet);
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      return waiting;
    }, {
      ...step('msi_roundtrip_zx_port'),
      after: (status) => { ok(status, 'zx_port_wait'); bar.write32(EDU_REG.IRQ_ACK, 1); ok(zx_interrupt_ack(irq), 'zx_interrupt_ack'); },
    });
    return makeRow({ name: 'msi_roundtrip_zx_port', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    close();
    zx_handle_close(port.value);
  }
}

export async function ddiRow(dev, step) {
  const bar = dev.bar(0);
  const handles = [];
  if (ddi_intr_alloc(ddi_dev_info(dev), handles, DDI_INTR_TYPE_MSI, 0, 1, out(0), DDI_INTR_ALLOC_STRICT) !== DDI_SUCCESS) {
    throw new Error('ddi_intr_alloc (MSI, 1) failed');
  }
  let resolve = null;
  const handler = () => {
    bar.write32(EDU_REG.IRQ_ACK, 1);
    const r = resolve;
    resolve = null;
    r?.();
    return DDI_INTR_CLAIMED;
  };
  const executor = (r) => { resolve = r; };
  try {
    if (ddi_intr_add_handler(handles[0], handler, null, null) !== DDI_SUCCESS) throw new Error('ddi_intr_add_handler failed');
    if (ddi_intr_block_enable(handles, 1) !== DDI_SUCCESS) throw new Error('ddi_intr_block_enable failed');
    const samples = await measureAsync(() => {
      const p = new Promise(executor);
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      return p;
    }, step('msi_roundtrip_ddi_handler'));
    return makeRow({ name: 'msi_roundtrip_ddi_handler', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    ddi_intr_block_disable(handles, 1);
    ddi_intr_remove_handler(handles[0]);
    ddi_intr_free(handles[0]);
  }
}
