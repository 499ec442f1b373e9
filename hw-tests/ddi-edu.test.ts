/**
 * The illumos DDI kit (vfio-ddk/ddi) on a real edu over VFIO — the steps of test/ddi/edu-interrupts on
 * the emulated edu: ddi_intr_alloc of MSI (1 vector; the edu has no per-vector masking → the BLOCK
 * capability → ddi_intr_block_enable) and of FIXED (INTx); handlers run on each raise with their
 * args; a FIXED handler that acks the edu and returns DDI_INTR_CLAIMED gets the line unmasked (the
 * next raise is delivered too). Everything is disabled, removed and freed before the device closes.
 */
import t from 'tap';
import { EDU_REG } from 'vfio-ddk';
import type { PciRegion } from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import {
  DDI_EINVAL, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_FLAG_BLOCK, DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI, DDI_SUCCESS,
  ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_disable, ddi_intr_block_enable, ddi_intr_disable,
  ddi_intr_enable, ddi_intr_free, ddi_intr_get_cap, ddi_intr_remove_handler, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { guestBdf, skipReason } from './helpers.ts';
import { Calls, eduAck, out, settle } from './kit-helpers.ts';

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  t.test('MSI: 1 vector, BLOCK capability, block_enable; the handler runs per raise with its args', async (t) => {
    using device = openVfioDevice(bdf);
    const bar = device.bar(0);
    eduAck(bar);
    const handles: ddi_intr_handle_t[] = [];
    const actual = out(0);
    t.equal(ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSI, 0, 1, actual, DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
    t.equal(actual.value, 1);
    const cap = out(0);
    t.equal(ddi_intr_get_cap(handles[0] ?? null, cap), DDI_SUCCESS);
    t.ok((cap.value & DDI_INTR_FLAG_BLOCK) !== 0, 'no per-vector masking → DDI_INTR_FLAG_BLOCK');
    const calls = new Calls<{ cause: number; arg2: unknown }>();
    const token = { name: 'arg2' };
    ddi_intr_add_handler(handles[0] ?? null, (arg1, arg2) => {
      calls.hit({ cause: eduAck(arg1 as PciRegion), arg2 });
      return DDI_INTR_CLAIMED;
    }, bar, token);
    t.equal(ddi_intr_enable(handles[0] ?? null), DDI_EINVAL, 'BLOCK: ddi_intr_enable refused');
    t.equal(ddi_intr_block_enable(handles, 1), DDI_SUCCESS);
    bar.write32(EDU_REG.IRQ_RAISE, 0x2);
    const first = await calls.next();
    t.equal(first.cause, 0x2, 'arg1 (the BAR) reached the handler: it read and acked the cause');
    t.equal(first.arg2, token, 'arg2 passed through');
    bar.write32(EDU_REG.IRQ_RAISE, 0x4);
    t.equal((await calls.next()).cause, 0x4);
    t.equal(calls.count, 2, 'one handler run per MSI');
    t.equal(ddi_intr_block_disable(handles, 1), DDI_SUCCESS);
    t.equal(device.irq.activeIndex, null, 'block_disable unrouted the vector');
    t.equal(ddi_intr_remove_handler(handles[0] ?? null), DDI_SUCCESS);
    t.equal(ddi_intr_free(handles[0] ?? null), DDI_SUCCESS);
  });

  t.test('FIXED (INTx): the handler acks and claims, the line is unmasked, the next raise arrives', async (t) => {
    using device = openVfioDevice(bdf);
    const bar = device.bar(0);
    eduAck(bar);
    const handles: ddi_intr_handle_t[] = [];
    t.equal(ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_FIXED, 0, 1, out(0), DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
    const calls = new Calls<number>();
    ddi_intr_add_handler(handles[0] ?? null, (arg1) => {
      calls.hit(eduAck(arg1 as PciRegion));
      return DDI_INTR_CLAIMED;
    }, bar, null);
    t.equal(ddi_intr_enable(handles[0] ?? null), DDI_SUCCESS);
    bar.write32(EDU_REG.IRQ_RAISE, 0x100);
    t.equal(await calls.next(), 0x100);
    await settle();
    t.equal(calls.count, 1, 'acked before the unmask: no second delivery of the same assertion');
    // INTx is automasked by VFIO at each interrupt: this delivery proves CLAIMED unmasked it.
    bar.write32(EDU_REG.IRQ_RAISE, 0x1);
    t.equal(await calls.next(), 0x1, 'the next raise is delivered: CLAIMED unmasked INTx');
    t.equal(ddi_intr_disable(handles[0] ?? null), DDI_SUCCESS);
    t.equal(device.irq.activeIndex, null);
    t.equal(ddi_intr_remove_handler(handles[0] ?? null), DDI_SUCCESS);
    t.equal(ddi_intr_free(handles[0] ?? null), DDI_SUCCESS);
  });
}
