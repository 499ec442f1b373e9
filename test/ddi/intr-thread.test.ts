/**
 * ddi_intr_thread_run on the emulated edu, on this thread: the handler runs for each interrupt the thread
 * dispatches and the run ends after maxEvents — counting an interrupt already due when it starts — or
 * returns 'none' / 'timeout' when nothing on this thread could ever wake it (an emulated model runs here).
 */
import t from 'tap';
import {
  ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_disable, ddi_intr_block_enable, ddi_intr_free,
  ddi_intr_remove_handler, ddi_intr_thread_run, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSI, DDI_SUCCESS,
  type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { createEduDevice } from 'vfio-ddk/emu';
import { EDU_REG } from '../../lib/pci/edu-regs.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER } from '../../lib/pci/regs.ts';
import { out } from './helpers.ts';

function eduWithHandler(t: { teardown(fn: () => void): void }, rounds: number) {
  const device = createEduDevice();
  device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MASTER);
  const handles: ddi_intr_handle_t[] = [];
  if (ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSI, 0, 1, out(0), DDI_INTR_ALLOC_STRICT) !== DDI_SUCCESS) throw new Error('alloc');
  const h = handles[0] as ddi_intr_handle_t;
  const bar = device.bar(0);
  const state = { handled: 0 };
  ddi_intr_add_handler(h, () => {
    bar.write32(EDU_REG.IRQ_ACK, bar.read32(EDU_REG.IRQ_STATUS));
    state.handled++;
    if (state.handled < rounds) bar.write32(EDU_REG.IRQ_RAISE, 1); // the next one at once, from the handler
    return DDI_INTR_CLAIMED;
  }, null, null);
  ddi_intr_block_enable([h], 1);
  t.teardown(() => {
    ddi_intr_block_disable([h], 1);
    ddi_intr_remove_handler(h);
    ddi_intr_free(h);
    device.close();
  });
  return { bar, state };
}

t.test('maxEvents counts the interrupt already due at the start: 4 rounds end the run, long before its deadline', async (t) => {
  const { bar, state } = eduWithHandler(t, 4);
  bar.write32(EDU_REG.IRQ_RAISE, 1);
  const start = process.hrtime.bigint();
  const result = ddi_intr_thread_run({ maxEvents: 4, deadline: start + 60_000_000_000n });
  t.same(result, { reason: 'events', events: 4 });
  t.equal(state.handled, 4, 'each handler ran on this thread');
  t.ok(process.hrtime.bigint() - start < 30_000_000_000n, 'it did not wait out the deadline');
});

t.test('nothing due and nothing that could come: none at once without a deadline, timeout at a deadline', async (t) => {
  const { state } = eduWithHandler(t, 1);
  t.same(ddi_intr_thread_run(), { reason: 'none', events: 0 });
  const start = process.hrtime.bigint();
  t.same(ddi_intr_thread_run({ deadline: start + 20_000_000n }), { reason: 'timeout', events: 0 });
  t.ok(process.hrtime.bigint() - start >= 20_000_000n, 'the deadline, not earlier');
  t.equal(state.handled, 0);
});

t.test('bad options are TypeErrors', async (t) => {
  t.throws(() => ddi_intr_thread_run(null as never), TypeError);
  t.throws(() => ddi_intr_thread_run({ deadline: 5 as never }), TypeError);
  t.throws(() => ddi_intr_thread_run({ wakeFd: -2 }), TypeError);
  t.throws(() => ddi_intr_thread_run({ maxEvents: 0 }), TypeError);
});
