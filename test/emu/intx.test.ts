import t from 'tap';
import { createTestDevice, TEST_DEV_REGS } from 'vfio-ddk/emu';
import {
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MEMORY, PCI_STATUS, PCI_STATUS_INTERRUPT,
  VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX,
} from '../../lib/pci/index.ts';
import { recordingLine, turn } from './helpers.ts';

const INTX = VFIO_PCI_INTX_IRQ_INDEX;

function intxDevice(msi = false) {
  const dev = createTestDevice({ intx: true, ...(msi ? { msi: { vectors: 1 as const } } : {}) });
  const level = (on: boolean): void => dev.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, on ? 1 : 0);
  const status = (): number => dev.config.read16(PCI_STATUS) & PCI_STATUS_INTERRUPT;
  return { dev, level, status };
}

t.test('info: INTx count 1 with a pin, MASKABLE | AUTOMASKED; 0 without a pin', async (t) => {
  const { dev } = intxDevice();
  t.match(dev.irq.info(INTX), { count: 1, eventfd: true, maskable: true, automasked: true, noresize: false });
  dev.close();
  const bare = createTestDevice({});
  t.equal(bare.irq.info(INTX).count, 0);
  t.throws(() => bare.irq.attach(INTX, 0, recordingLine().line), RangeError);
  bare.close();
});

t.test('Interrupt Status follows the level, even with INTx Disable set; the register reads the level', async (t) => {
  const { dev, level, status } = intxDevice();
  t.equal(status(), 0);
  level(true);
  t.equal(status(), PCI_STATUS_INTERRUPT);
  t.equal(dev.bar(0).read32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL), 1);
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
  t.equal(status(), PCI_STATUS_INTERRUPT);
  level(false);
  t.equal(status(), 0);
  dev.close();
});

t.test('automask: the line fires once and stays masked until unmaskIntx; a still-asserted level fires again', async (t) => {
  const { dev, level } = intxDevice();
  const { line, counts } = recordingLine();
  dev.irq.attach(INTX, 0, line);
  level(true);
  await turn();
  t.same(counts, [1]);
  t.ok(dev.irq.intxMasked, 'automasked');
  level(false);
  level(true);
  await turn();
  t.same(counts, [1], 'masked: no new fire');
  dev.irq.unmaskIntx();
  await turn();
  t.same(counts, [1, 1], 'level still asserted at unmask: fires again');
  level(false);
  dev.irq.unmaskIntx();
  await turn();
  t.same(counts, [1, 1], 'level low at unmask: nothing');
  t.notOk(dev.irq.intxMasked);
  level(true);
  await turn();
  t.same(counts, [1, 1, 1]);
  dev.close();
});

t.test('INTx does not need Bus Master Enable (it is a wire, not a memory write)', async (t) => {
  const { dev, level } = intxDevice();
  const { line, counts } = recordingLine();
  dev.irq.attach(INTX, 0, line);
  t.equal(dev.config.read16(PCI_COMMAND), PCI_COMMAND_MEMORY);
  level(true);
  await turn();
  t.same(counts, [1]);
  dev.close();
});

t.test('INTx Disable blocks assertion; clearing it with the level high asserts the pin', async (t) => {
  const { dev, level } = intxDevice();
  const { line, counts } = recordingLine();
  dev.irq.attach(INTX, 0, line);
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
  level(true);
  await turn();
  t.same(counts, []);
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY);
  await turn();
  t.same(counts, [1]);
  dev.close();
});

t.test('INTx Disable set at unmask time: no re-fire until it is cleared', async (t) => {
  const { dev, level } = intxDevice();
  const { line, counts } = recordingLine();
  dev.irq.attach(INTX, 0, line);
  level(true);
  await turn();
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
  dev.irq.unmaskIntx();
  await turn();
  t.same(counts, [1]);
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY);
  await turn();
  t.same(counts, [1, 1]);
  dev.close();
});

t.test('maskIntx holds the line; unmaskIntx delivers a level asserted meanwhile', async (t) => {
  const { dev, level } = intxDevice();
  const { line, counts } = recordingLine();
  dev.irq.attach(INTX, 0, line);
  dev.irq.maskIntx();
  level(true);
  await turn();
  t.same(counts, []);
  dev.irq.unmaskIntx();
  await turn();
  t.same(counts, [1]);
  dev.close();
});

t.test('attach with the level already asserted fires; an unrouted level fires nothing', async (t) => {
  const { dev, level } = intxDevice();
  level(true);
  const { line, counts } = recordingLine();
  dev.irq.attach(INTX, 0, line);
  await turn();
  t.same(counts, [1]);
  dev.irq.detach(INTX, 0);
  t.equal(dev.irq.activeIndex, null);
  dev.close();
});

t.test('only one of INTx / MSI: MSI enabled blocks the pin; Status still shows the level', async (t) => {
  const { dev, level, status } = intxDevice(true);
  const msi = recordingLine('msi');
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, msi.line);
  t.throws(() => dev.irq.attach(INTX, 0, recordingLine().line), { name: 'DdkError', code: 'EBUSY' });
  level(true);
  t.equal(status(), PCI_STATUS_INTERRUPT);
  dev.irq.disable(VFIO_PCI_MSI_IRQ_INDEX);
  const intx = recordingLine('intx');
  dev.irq.attach(INTX, 0, intx.line);
  await turn();
  t.same(intx.counts, [1], 'the pin asserts once MSI is off');
  dev.close();
});

t.test('reset drops the level; close detaches the line', async (t) => {
  const { dev, level, status } = intxDevice();
  const { line } = recordingLine();
  dev.irq.attach(INTX, 0, line);
  level(true);
  dev.reset();
  t.equal(status(), 0);
  t.equal(dev.bar(0).read32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL), 0);
  dev.close();
  t.notOk(line.attached);
  t.throws(() => dev.irq.unmaskIntx(), { name: 'DdkError', code: 'ECLOSED' });
});
