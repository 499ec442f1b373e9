/**
 * The test device's interrupt-cause register (lib/emu/test-device.ts, 0x10 TEST_DEV_INTR_CAUSE):
 * read-to-clear like e1000's ICR, set by every raise, and its read deasserts INTx — so a FIXED
 * handler clears its source from inside the handler and the line re-arms without a storm.
 */
import t from 'tap';
import { createTestDevice, TEST_DEV_CAUSE_INTX, TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_enable, ddi_intr_disable, ddi_intr_free, ddi_intr_remove_handler,
  DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_UNCLAIMED, DDI_INTR_TYPE_FIXED, DDI_SUCCESS, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import {
  PCI_COMMAND, PCI_COMMAND_MASTER, PCI_STATUS, PCI_STATUS_INTERRUPT, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
} from '../../lib/pci/index.ts';
import { recordingLine, turn } from './helpers.ts';

const { TEST_DEV_INTR_CAUSE: CAUSE, TEST_DEV_RAISE_INTX: RAISE_INTX, TEST_DEV_INTX_LEVEL: LEVEL } = TEST_DEV_REGS;

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

t.test('INTR_CAUSE: raises OR bits in, a read returns them and clears the register', async (t) => {
  const dev = createTestDevice({ intx: true, msi: { vectors: 4 }, msix: { vectors: 40 } });
  const bar = dev.bar(0);
  t.equal(bar.read32(CAUSE), 0, 'nothing raised yet');
  bar.write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 2);
  bar.write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 33);
  t.equal(bar.read32(CAUSE), (1 << 2) | (1 << 1), 'MSI vector 2 → bit 2, MSI-X vector 33 → bit 33 % 32 = 1 (raised even while disabled)');
  t.equal(bar.read32(CAUSE), 0, 'read-to-clear');
  bar.write32(RAISE_INTX, 0x8000_0010);
  bar.write32(LEVEL, 1);
  t.equal(bar.read32(CAUSE), (0x8000_0010 | TEST_DEV_CAUSE_INTX) >>> 0, 'RAISE_INTX ORs its mask; INTX_LEVEL ← 1 adds the INTx cause');
  bar.write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 4);
  t.equal(bar.read32(CAUSE), 0, 'a vector the device does not have sets no cause');
  t.equal(bar.read16(CAUSE), 0xffff, 'sub-dword reads read all-ones, as every register of the device…');
  bar.write32(RAISE_INTX, 0x4);
  t.equal(bar.read8(CAUSE), 0xff);
  t.equal(bar.read32(CAUSE), 0x4, '…and do not clear it');
  bar.write32(RAISE_INTX, 0);
  t.match(dev.deviceErrors.at(-1), { message: /RAISE_INTX 0/ }, 'RAISE_INTX 0 is recorded');
  bar.write32(RAISE_INTX, 0x2);
  dev.reset();
  t.equal(bar.read32(CAUSE), 0, 'reset clears the causes');
  dev.close();
});

t.test('reading INTR_CAUSE deasserts INTx: Interrupt Status and the level clear', async (t) => {
  const dev = createTestDevice({ intx: true });
  const bar = dev.bar(0);
  const status = (): number => dev.config.read16(PCI_STATUS) & PCI_STATUS_INTERRUPT;
  bar.write32(RAISE_INTX, 0x3);
  t.equal(status(), PCI_STATUS_INTERRUPT, 'asserted');
  t.equal(bar.read32(LEVEL), 1);
  bar.write32(LEVEL, 0);
  t.equal(status(), 0, 'INTX_LEVEL ← 0 deasserts…');
  t.equal(bar.read32(CAUSE), 0x3, '…and keeps the causes');
  bar.write32(LEVEL, 1);
  t.equal(status(), PCI_STATUS_INTERRUPT);
  t.equal(bar.read32(CAUSE), TEST_DEV_CAUSE_INTX);
  t.equal(status(), 0, 'the read deasserted INTx');
  t.equal(bar.read32(LEVEL), 0);
  dev.close();
});

t.test('an automasked INTx line whose handler reads the cause re-arms without a storm', async (t) => {
  const dev = createTestDevice({ intx: true });
  const bar = dev.bar(0);
  const line = new IrqLine('fixed');
  const causes: number[] = [];
  // The VFIO flow: the kernel masks INTx when it fires; the handler clears its source, then unmasks.
  line.setConsumer({
    fire: () => {
      causes.push(bar.read32(CAUSE));
      dev.irq.unmaskIntx();
    },
  });
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, line);
  bar.write32(RAISE_INTX, 0x5);
  await turns(10);
  t.same(causes, [0x5], 'one delivery: after the unmask the pin is low, so nothing fires again');
  t.equal(dev.irq.intxMasked, false, 're-armed');
  bar.write32(RAISE_INTX, 0x2);
  await turns(10);
  t.same(causes, [0x5, 0x2], 'the next assertion is delivered once');
  dev.irq.detach(VFIO_PCI_INTX_IRQ_INDEX, 0);
  dev.close();
});

t.test('without the cause read the same line storms (the control for the test above)', async (t) => {
  const dev = createTestDevice({ intx: true });
  const bar = dev.bar(0);
  const line = new IrqLine('fixed');
  let fires = 0;
  line.setConsumer({ fire: () => { fires++; dev.irq.unmaskIntx(); } });
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, line);
  bar.write32(RAISE_INTX, 0x1);
  await turns(10);
  t.ok(fires >= 5, `still asserted: every unmask fires again (${fires} deliveries in 10 turns)`);
  bar.read32(CAUSE);
  const settled = fires;
  await turns(5);
  t.ok(fires <= settled + 1, 'the cause read stops it');
  dev.irq.detach(VFIO_PCI_INTX_IRQ_INDEX, 0);
  dev.close();
});

t.test('a DDI FIXED handler that reads the cause and returns CLAIMED runs once per assertion', async (t) => {
  const dev = createTestDevice({ intx: true });
  const bar = dev.bar(0);
  const handles: ddi_intr_handle_t[] = [];
  t.equal(ddi_intr_alloc(ddi_dev_info(dev), handles, DDI_INTR_TYPE_FIXED, 0, 1, { value: 0 }, DDI_INTR_ALLOC_STRICT), DDI_SUCCESS);
  const h = handles[0] as ddi_intr_handle_t;
  const causes: number[] = [];
  ddi_intr_add_handler(h, () => {
    const cause = bar.read32(CAUSE);
    if (cause === 0) return DDI_INTR_UNCLAIMED;
    causes.push(cause);
    return DDI_INTR_CLAIMED;
  }, null, null);
  t.equal(ddi_intr_enable(h), DDI_SUCCESS);
  bar.write32(RAISE_INTX, 0x9);
  await turns(10);
  t.same(causes, [0x9], 'handled once; no storm after the kit unmasks');
  t.equal(dev.config.read16(PCI_STATUS) & PCI_STATUS_INTERRUPT, 0, 'Interrupt Status clear');
  bar.write32(LEVEL, 1);
  await turns(10);
  t.same(causes, [0x9, TEST_DEV_CAUSE_INTX], 'the line re-armed: the next assertion is handled');
  t.equal(ddi_intr_disable(h), DDI_SUCCESS);
  t.equal(ddi_intr_remove_handler(h), DDI_SUCCESS);
  t.equal(ddi_intr_free(h), DDI_SUCCESS);
  dev.close();
});

t.test('MSI / MSI-X raises set their cause while the message goes out as before', async (t) => {
  const dev = createTestDevice({ msi: { vectors: 2 }, msix: { vectors: 2 } });
  dev.config.write16(PCI_COMMAND, dev.config.read16(PCI_COMMAND) | PCI_COMMAND_MASTER);
  const bar = dev.bar(0);
  const msi = recordingLine('msi 1');
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 1, msi.line);
  bar.write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 1);
  await turn();
  t.equal(msi.total(), 1);
  t.equal(bar.read32(CAUSE), 0x2);
  dev.irq.disable(VFIO_PCI_MSI_IRQ_INDEX);
  const msix = recordingLine('msix 0');
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, msix.line);
  bar.write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSIX, 0);
  await turn();
  t.equal(msix.total(), 1);
  t.equal(bar.read32(CAUSE), 0x1);
  dev.close();
});
