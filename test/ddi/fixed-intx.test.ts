import t from 'tap';
import { once } from 'node:events';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable, ddi_intr_get_cap,
  ddi_intr_set_mask, ddi_intr_clr_mask, ddi_intr_get_pending,
  DDI_INTR_TYPE_FIXED, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_UNCLAIMED, DDI_INTR_UNCLAIMED_LIMIT,
  DDI_SUCCESS, DDI_EINVAL, DDI_INTR_FLAG_LEVEL, DDI_INTR_FLAG_MASKABLE, DDI_INTR_FLAG_PENDING, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { PCI_COMMAND, PCI_COMMAND_INTX_DISABLE } from '../../lib/pci/regs.ts';
import type { PciDevice } from '../../lib/pci/device.ts';
import { out, setIntx, testDevice, turn, turns } from './helpers.ts';

function allocFixed(device: PciDevice): ddi_intr_handle_t {
  const handles: ddi_intr_handle_t[] = [];
  const status = ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_FIXED, 0, 1, out(0), DDI_INTR_ALLOC_STRICT);
  if (status !== DDI_SUCCESS || handles[0] === undefined) throw new Error(`alloc: ${status}`);
  return handles[0];
}

t.test('FIXED caps: LEVEL|MASKABLE|PENDING when INTx Disable sticks; the probe restores Command', (t) => {
  const device = testDevice(t, { intx: true });
  ddi_dev_info(device); // attach's dip: the framework's Command defaults are in place from here on
  const before = device.config.read16(PCI_COMMAND);
  const h = allocFixed(device);
  const caps = out(0);
  t.equal(ddi_intr_get_cap(h, caps), DDI_SUCCESS);
  t.equal(caps.value, DDI_INTR_FLAG_LEVEL | DDI_INTR_FLAG_MASKABLE | DDI_INTR_FLAG_PENDING);
  t.equal(device.config.read16(PCI_COMMAND), before, 'Command register restored after the probe');
  t.end();
});

t.test('FIXED caps: LEVEL only when INTx Disable does not stick (pre-2.3 device); mask/pending → EINVAL', (t) => {
  const real = testDevice(t, { intx: true });
  // The same device seen through a config space that drops writes of bit 10, as a PCI 2.2 device would.
  const config = {
    size: real.config.size,
    read8: (o: number) => real.config.read8(o),
    read16: (o: number) => real.config.read16(o),
    read32: (o: number) => real.config.read32(o),
    write8: (o: number, v: number) => real.config.write8(o, v),
    write16: (o: number, v: number) => real.config.write16(o, o === PCI_COMMAND ? v & ~PCI_COMMAND_INTX_DISABLE : v),
    write32: (o: number, v: number) => real.config.write32(o, v),
  };
  const device: PciDevice = {
    bdf: real.bdf, backend: real.backend, identity: real.identity, config, irq: real.irq, dma: real.dma,
    bar: (i) => real.bar(i), reset: () => real.reset(), get closed() { return real.closed; },
    close: () => real.close(), onClose: (l) => real.onClose(l), [Symbol.dispose]: () => real.close(),
    onReset: (l) => real.onReset(l), onRemovalRequest: (l) => real.onRemovalRequest(l),
  };
  const h = allocFixed(device);
  const caps = out(0);
  t.equal(ddi_intr_get_cap(h, caps), DDI_SUCCESS);
  t.equal(caps.value, DDI_INTR_FLAG_LEVEL);
  ddi_intr_add_handler(h, () => DDI_INTR_CLAIMED, null, null);
  t.equal(ddi_intr_enable(h), DDI_SUCCESS);
  t.equal(ddi_intr_set_mask(h), DDI_EINVAL, 'not MASKABLE');
  t.equal(ddi_intr_get_pending(h, out(0)), DDI_EINVAL, 'no PENDING');
  t.end();
});

t.test('CLAIMED: the handler runs on the loop, then INTx is unmasked and fires again while asserted', async (t) => {
  const device = testDevice(t, { intx: true });
  const h = allocFixed(device);
  let calls = 0;
  ddi_intr_add_handler(h, () => {
    calls++;
    if (calls >= 2) setIntx(device, false); // from the second run on, the handler clears the cause
    return DDI_INTR_CLAIMED;
  }, null, null);
  t.equal(ddi_intr_enable(h), DDI_SUCCESS);
  setIntx(device, true);
  t.equal(calls, 0, 'not inside the register write');
  await turns(6);
  t.equal(calls, 2, 'after CLAIMED the line was unmasked; still asserted → ran again; then deasserted');
  setIntx(device, true);
  await turns(2);
  t.equal(calls, 3, 'unmasked after the last CLAIMED: a new assertion is delivered');
  setIntx(device, false);
});

t.test('UNCLAIMED: counted, and after the bound the line is left disabled with a warning', async (t) => {
  const device = testDevice(t, { intx: true });
  const h = allocFixed(device);
  let calls = 0;
  let claim = false;
  ddi_intr_add_handler(h, () => {
    calls++;
    if (!claim) return DDI_INTR_UNCLAIMED;
    setIntx(device, false);
    return DDI_INTR_CLAIMED;
  }, null, null);
  ddi_intr_enable(h);
  const warned = once(process, 'warning');
  setIntx(device, true);
  const [warning] = (await warned) as [Error & { code?: string }];
  t.equal(warning.code, 'DDI_INTR_STUCK');
  await turns(4);
  t.equal(calls, DDI_INTR_UNCLAIMED_LIMIT, 'exactly the bound, then no more');
  t.equal(ddi_intr_disable(h), DDI_SUCCESS);
  t.equal(ddi_intr_enable(h), DDI_SUCCESS, 'disable + enable re-arms');
  claim = true;
  await turns(4);
  t.equal(calls, DDI_INTR_UNCLAIMED_LIMIT + 1, 'the still-asserted line is delivered again, claimed once');
});

t.test('a handler that throws is UNCLAIMED plus a warning, never a crash', async (t) => {
  const device = testDevice(t, { intx: true });
  const h = allocFixed(device);
  let calls = 0;
  ddi_intr_add_handler(h, () => {
    calls++;
    if (calls === 1) throw new Error('boom');
    setIntx(device, false);
    return DDI_INTR_CLAIMED;
  }, null, null);
  ddi_intr_enable(h);
  const warned = once(process, 'warning');
  setIntx(device, true);
  const [warning] = (await warned) as [Error & { code?: string }];
  t.equal(warning.code, 'DDI_INTR_HANDLER_THREW');
  await turns(4);
  t.equal(calls, 2, 'line unmasked after the throw (UNCLAIMED below the bound): ran again and claimed');
});

t.test('INTx mask through Command bit 10; pending through Status bit 3; clr_mask delivers once', async (t) => {
  const device = testDevice(t, { intx: true });
  const h = allocFixed(device);
  let calls = 0;
  ddi_intr_add_handler(h, () => { calls++; setIntx(device, false); return DDI_INTR_CLAIMED; }, null, null);
  ddi_intr_enable(h);
  t.equal(ddi_intr_set_mask(h), DDI_SUCCESS);
  t.ok(device.config.read16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, 'INTx Disable set');
  const p = out(-1);
  t.equal(ddi_intr_get_pending(h, p), DDI_SUCCESS);
  t.equal(p.value, 0);
  setIntx(device, true);
  await turn();
  t.equal(calls, 0, 'masked');
  t.equal(ddi_intr_get_pending(h, p), DDI_SUCCESS);
  t.equal(p.value, 1, 'Interrupt Status reported');
  t.equal(ddi_intr_clr_mask(h), DDI_SUCCESS);
  t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, 0, 'INTx Disable cleared');
  await turns(4);
  t.equal(calls, 1, 'delivered exactly once');
});
