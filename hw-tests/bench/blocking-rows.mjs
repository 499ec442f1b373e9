/**
 * The blocking forms' rows (issue: interrupt threads), beside the async ones of kit-rows.mjs and against
 * the same C row (msi_roundtrip_blocking): raise → `vfio-ddk/zircon/blocking` zx_interrupt_wait /
 * zx_port_wait (+ ack), and a ddi_intr handler dispatched by ddi_intr_thread_run — each blocking this
 * thread in one native poll of the device's eventfds (native/blocking_wait.cc), no event loop in the
 * timed region.
 */
import { EDU_REG } from 'vfio-ddk';
import {
  ZX_INTERRUPT_BIND, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE, zx_interrupt_ack, zx_interrupt_bind, zx_port_create,
  zx_handle_close, PortPacketBuffer,
} from 'vfio-ddk/zircon';
import { zx_interrupt_wait, zx_port_wait } from 'vfio-ddk/zircon/blocking';
import {
  ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_disable, ddi_intr_block_enable, ddi_intr_free,
  ddi_intr_remove_handler, ddi_intr_thread_run, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSI, DDI_SUCCESS,
} from 'vfio-ddk/ddi';
import { measureSync } from '../../scripts/bench/measure.mjs';
import { makeRow } from '../../scripts/bench/report.mjs';
import { msiInterrupt, ok, out } from './kit-rows.mjs';

export function zxWaitBlockingRow(dev, step) {
  const bar = dev.bar(0);
  const { irq, close } = msiInterrupt(dev);
  const ts = out(0n);
  try {
    const samples = measureSync(() => {
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      ok(zx_interrupt_wait(irq, ts), 'zx_interrupt_wait (blocking)');
      bar.write32(EDU_REG.IRQ_ACK, 1);
    }, step('msi_roundtrip_zx_interrupt_wait_blocking'));
    return makeRow({ name: 'msi_roundtrip_zx_interrupt_wait_blocking', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    close();
  }
}

export function zxPortBlockingRow(dev, step) {
  const bar = dev.bar(0);
  const { irq, close } = msiInterrupt(dev);
  const port = out(0);
  ok(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), 'zx_port_create');
  try {
    ok(zx_interrupt_bind(irq, port.value, 0x1234n, ZX_INTERRUPT_BIND), 'zx_interrupt_bind');
    const packet = new PortPacketBuffer().out; // a driver's packet storage, filled in place
    const samples = measureSync(() => {
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      ok(zx_port_wait(port.value, ZX_TIME_INFINITE, packet), 'zx_port_wait (blocking)');
      bar.write32(EDU_REG.IRQ_ACK, 1);
      ok(zx_interrupt_ack(irq), 'zx_interrupt_ack');
    }, step('msi_roundtrip_zx_port_blocking'));
    return makeRow({ name: 'msi_roundtrip_zx_port_blocking', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    close();
    zx_handle_close(port.value);
  }
}

export function ddiInterruptThreadRow(dev, step) {
  const bar = dev.bar(0);
  const handles = [];
  ok(ddi_intr_alloc(ddi_dev_info(dev), handles, DDI_INTR_TYPE_MSI, 0, 1, out(0), DDI_INTR_ALLOC_STRICT) === DDI_SUCCESS ? 0 : -1, 'ddi_intr_alloc');
  const h = handles[0];
  ddi_intr_add_handler(h, () => { bar.write32(EDU_REG.IRQ_ACK, 1); return DDI_INTR_CLAIMED; }, null, null);
  ok(ddi_intr_block_enable([h], 1) === DDI_SUCCESS ? 0 : -1, 'ddi_intr_block_enable');
  try {
    const samples = measureSync(() => {
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      ddi_intr_thread_run({ maxEvents: 1 });
    }, step('msi_roundtrip_ddi_interrupt_thread'));
    return makeRow({ name: 'msi_roundtrip_ddi_interrupt_thread', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    ddi_intr_block_disable([h], 1);
    ddi_intr_remove_handler(h);
    ddi_intr_free(h);
  }
}
