import t from 'tap';
import { createEduDevice, eduFactorial } from 'vfio-ddk/emu';
import {
  PCI_BASE_ADDRESS_0, PCI_CAP_ID_MSI, PCI_CLASS_REVISION, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY,
  PCI_INTERRUPT_PIN, PCI_STATUS, PCI_STATUS_INTERRUPT, PCI_SUBSYSTEM_VENDOR_ID, VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, findMsi, listCapabilities,
} from '../../lib/pci/index.ts';
import { EDU_REG } from '../../lib/pci/edu-regs.ts';
import { recordingLine, turn, until } from './helpers.ts';

const R = EDU_REG;
const ONES32 = 0xffffffff;
const ONES64 = 0xffff_ffff_ffff_ffffn;

function edu(options: Parameters<typeof createEduDevice>[0] = {}) {
  const dev = createEduDevice({ dmaDelayMs: 0, ...options });
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  return { dev, bar: dev.bar(0) };
}

t.test('D.1 identity: 1234:11e8 rev 0x10 class ff0000, pin 1, MSI at 0x40 (1 vector, 64-bit, no PVM), no MSI-X, BAR0 1 MiB', async (t) => {
  const { dev } = edu();
  t.equal(dev.config.read32(0), 0x11e81234);
  t.equal(dev.config.read32(PCI_CLASS_REVISION), 0x00ff0010, 'class 0x00ff00 rev 0x10, as real edu reads');
  t.equal(dev.config.read8(PCI_INTERRUPT_PIN), 1);
  t.equal(dev.config.read16(PCI_SUBSYSTEM_VENDOR_ID), 0x1af4);
  t.same(listCapabilities(dev.config), [{ id: PCI_CAP_ID_MSI, offset: 0x40 }]);
  t.match(findMsi(dev.config), { offset: 0x40, vectors: 1, is64: true, perVectorMask: false });
  t.same([dev.irq.info(VFIO_PCI_INTX_IRQ_INDEX).count, dev.irq.info(VFIO_PCI_MSI_IRQ_INDEX).count, dev.irq.info(VFIO_PCI_MSIX_IRQ_INDEX).count], [1, 1, 0]);
  dev.config.write32(PCI_BASE_ADDRESS_0, ONES32);
  t.equal(dev.config.read32(PCI_BASE_ADDRESS_0), 0xfff00000);
  t.equal(dev.dma.mask, (1n << 28n) - 1n, 'dma_mask default 28-bit');
  dev.close();
});

t.test('D.2 identification and liveness (bitwise NOT, initially 0)', async (t) => {
  const { dev, bar } = edu();
  t.equal(bar.read32(R.ID), 0x010000ed);
  t.equal(bar.read32(R.LIVENESS), 0);
  bar.write32(R.LIVENESS, 0x12345678);
  t.equal(bar.read32(R.LIVENESS), 0xedcba987);
  bar.write32(R.ID, 0);
  t.equal(bar.read32(R.ID), 0x010000ed, 'ID is RO');
  dev.close();
});

t.test('D.2 access sizes: 1/2-byte accesses are rejected (read 0, writes ignored); 8-byte below 0x80 read all-ones', async (t) => {
  const { dev, bar } = edu();
  t.equal(bar.read8(R.ID), 0, 'rejected by .valid.min_access_size = 4: reads 0, as the real edu');
  t.equal(bar.read16(R.ID), 0);
  t.equal(bar.read64(R.ID), ONES64);
  bar.write16(R.LIVENESS, 0x1234);
  bar.write8(R.LIVENESS, 1);
  bar.write64(R.FACTORIAL, 5n);
  t.equal(bar.read32(R.LIVENESS), 0, 'non-4-byte writes below 0x80 ignored');
  t.equal(bar.read32(R.STATUS), 0, 'an 8-byte factorial write starts nothing');
  bar.write16(R.DMA_SRC, 0x1234);
  t.equal(bar.read64(R.DMA_SRC), 0n);
  t.equal(bar.read16(R.DMA_SRC), 0);
  bar.write64(R.DMA_SRC, 0x1_2345_6789n);
  t.equal(bar.read64(R.DMA_SRC), 0x1_2345_6789n);
  t.equal(bar.read32(R.DMA_SRC), 0x23456789);
  t.equal(bar.read32(R.DMA_SRC + 4), ONES32, '0x84 is not a register');
  bar.write32(R.DMA_SRC + 4, 7);
  t.equal(bar.read64(R.DMA_SRC), 0x1_2345_6789n, 'writes to 0x84 ignored');
  bar.write32(R.DMA_SRC, 0x40);
  t.equal(bar.read64(R.DMA_SRC), 0x40n, 'a 4-byte write zero-extends');
  dev.close();
});

t.test('D.2 unlisted offsets and write-only registers read all-ones', async (t) => {
  const { dev, bar } = edu();
  for (const offset of [0x0c, 0x10, 0x28, R.IRQ_RAISE, R.IRQ_ACK, 0x9c, 0xa0, 0xffffc]) t.equal(bar.read32(offset), ONES32, `0x${offset.toString(16)}`);
  t.equal(bar.read64(0xa0), ONES64);
  dev.close();
});

t.test('D.4 factorial: COMPUTING while running, reads n until done, then n! mod 2^32', async (t) => {
  const { dev, bar } = edu();
  bar.write32(R.FACTORIAL, 10);
  t.equal(bar.read32(R.STATUS) & 1, 1, 'COMPUTING set synchronously');
  t.equal(bar.read32(R.FACTORIAL), 10, 'reads n until done');
  bar.write32(R.FACTORIAL, 3);
  await until(() => (bar.read32(R.STATUS) & 1) === 0);
  t.equal(bar.read32(R.FACTORIAL), 3628800, 'the write while COMPUTING was ignored');
  for (const [n, expected] of [[0, 1], [1, 1], [12, 479001600], [13, 1932053504], [33, eduFactorial(33)], [34, 0], [0xffffffff, 0]]) {
    bar.write32(R.FACTORIAL, n as number);
    await until(() => (bar.read32(R.STATUS) & 1) === 0);
    t.equal(bar.read32(R.FACTORIAL), expected, `${n}!`);
  }
  t.not(eduFactorial(33), 0);
  dev.close();
});

t.test('D.2 status: only bit 0x80 is writable; COMPUTING is RO', async (t) => {
  const { dev, bar } = edu();
  bar.write32(R.STATUS, ONES32);
  t.equal(bar.read32(R.STATUS), 0x80);
  bar.write32(R.STATUS, 0);
  t.equal(bar.read32(R.STATUS), 0);
  dev.close();
});

t.test('D.4 FACT_IRQ only when status bit 0x80 is set; INTx level while IRQ status ≠ 0 (D.3)', async (t) => {
  const { dev, bar } = edu();
  bar.write32(R.FACTORIAL, 5);
  await until(() => (bar.read32(R.STATUS) & 1) === 0);
  t.equal(bar.read32(R.IRQ_STATUS), 0, 'no IRQ without 0x80');
  bar.write32(R.STATUS, 0x80);
  bar.write32(R.FACTORIAL, 5);
  await until(() => bar.read32(R.IRQ_STATUS) !== 0);
  t.equal(bar.read32(R.IRQ_STATUS), 1);
  t.equal(dev.config.read16(PCI_STATUS) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
  bar.write32(R.IRQ_ACK, 1);
  t.equal(dev.config.read16(PCI_STATUS) & PCI_STATUS_INTERRUPT, 0);
  dev.close();
});

t.test('D.3 INTx: raise ORs causes and asserts; ack clears bits and lowers only at 0', async (t) => {
  const { dev, bar } = edu();
  const { line, counts } = recordingLine();
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, line);
  bar.write32(R.IRQ_RAISE, 0x10);
  bar.write32(R.IRQ_RAISE, 0x02);
  t.equal(bar.read32(R.IRQ_STATUS), 0x12);
  await turn();
  t.same(counts, [1], 'one level, one fire (automasked)');
  bar.write32(R.IRQ_ACK, 0x10);
  t.equal(dev.irq.intxLevel, true, 'still 0x02 pending');
  dev.irq.unmaskIntx();
  await turn();
  t.same(counts, [1, 1], 'level still high at unmask');
  bar.write32(R.IRQ_ACK, 0x02);
  t.equal(dev.irq.intxLevel, false);
  dev.close();
});

t.test('D.3 MSI: one message on every raise, even with status already non-zero; writing 0 re-raises; none on ack', async (t) => {
  const { dev, bar } = edu();
  const { line, total } = recordingLine();
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, line);
  bar.write32(R.IRQ_RAISE, 1);
  await turn();
  bar.write32(R.IRQ_RAISE, 1);
  await turn();
  bar.write32(R.IRQ_RAISE, 0);
  await turn();
  t.equal(total(), 3);
  bar.write32(R.IRQ_ACK, 1);
  bar.write32(R.IRQ_RAISE, 0);
  await turn();
  t.equal(total(), 3, 'status 0: writing 0 raises nothing');
  t.equal(dev.irq.intxLevel, false, 'no INTx while MSI is enabled');
  dev.close();
});

t.test('D.5 DMA round trip through the IOMMU, RUN while busy, DMA_IRQ when asked', async (t) => {
  const { dev, bar } = edu();
  const buf = dev.dma.alloc(8192);
  t.ok(buf.iova < 1n << 28n);
  buf.bytes.set([1, 2, 3, 4, 5], 0);
  bar.write64(R.DMA_SRC, buf.iova);
  bar.write64(R.DMA_DST, 0x40010n);
  bar.write64(R.DMA_CNT, 5n);
  bar.write32(R.DMA_CMD, 0x1 | 0x4);
  t.equal(bar.read32(R.DMA_CMD) & 1, 1, 'busy');
  bar.write64(R.DMA_CNT, 1n);
  t.equal(bar.read64(R.DMA_CNT), 5n, 'writes ignored while running');
  await until(() => (bar.read32(R.DMA_CMD) & 1) === 0);
  t.same([...dev.buffer.subarray(0x10, 0x15)], [1, 2, 3, 4, 5]);
  t.equal(bar.read32(R.IRQ_STATUS), 0x100);
  bar.write32(R.IRQ_ACK, 0x100);
  bar.write64(R.DMA_SRC, 0x40010n);
  bar.write64(R.DMA_DST, buf.iova + 4096n);
  bar.write32(R.DMA_CMD, 0x1 | 0x2);
  await until(() => (bar.read32(R.DMA_CMD) & 1) === 0);
  t.same([...buf.bytes.subarray(4096, 4101)], [1, 2, 3, 4, 5]);
  t.equal(bar.read32(R.IRQ_STATUS), 0, 'no IRQ without cmd bit 0x4');
  t.same(dev.iommuFaults, []);
  dev.close();
});

t.test('D.5 a command without RUN is ignored', async (t) => {
  const { dev, bar } = edu();
  bar.write32(R.DMA_CMD, 0x6);
  t.equal(bar.read32(R.DMA_CMD), 0);
  dev.close();
});

t.test('D.5 bus addresses are clamped with dma_mask before the IOMMU', async (t) => {
  const { dev, bar } = edu();
  const buf = dev.dma.alloc(4096);
  dev.buffer[0] = 0xab;
  bar.write64(R.DMA_SRC, 0x40000n);
  bar.write64(R.DMA_DST, buf.iova | (1n << 28n) | (1n << 40n));
  bar.write64(R.DMA_CNT, 1n);
  bar.write32(R.DMA_CMD, 0x3);
  await until(() => (bar.read32(R.DMA_CMD) & 1) === 0);
  t.equal(buf.bytes[0], 0xab);
  dev.close();
});

t.test('D.5 DMA to an unmapped IOVA is an IOMMU fault: nothing copied, RUN clears, IRQ still raised', async (t) => {
  const { dev, bar } = edu();
  dev.buffer.fill(9);
  bar.write64(R.DMA_SRC, 0x0ff0_0000n);
  bar.write64(R.DMA_DST, 0x40000n);
  bar.write64(R.DMA_CNT, 16n);
  bar.write32(R.DMA_CMD, 0x5);
  await until(() => (bar.read32(R.DMA_CMD) & 1) === 0);
  t.match(dev.iommuFaults, [{ iova: 0x0ff0_0000n, direction: 'read' }]);
  t.equal(dev.buffer[0], 9, 'buffer untouched');
  t.equal(bar.read32(R.IRQ_STATUS), 0x100);
  dev.close();
});

t.test('D.5/D.7 transfers QEMU 7.2 aborts on are refused with a deviceErrors entry', async (t) => {
  const { dev, bar } = edu();
  const buf = dev.dma.alloc(8192);
  buf.bytes.fill(5);
  const run = async (dst: bigint, count: bigint): Promise<void> => {
    bar.write64(R.DMA_SRC, buf.iova);
    bar.write64(R.DMA_DST, dst);
    bar.write64(R.DMA_CNT, count);
    bar.write32(R.DMA_CMD, 0x5);
    await until(() => (bar.read32(R.DMA_CMD) & 1) === 0);
  };
  await run(0x40000n, 4096n);
  t.equal(dev.deviceErrors.length, 1, 'ends exactly at 0x41000 (D.7)');
  t.match(dev.deviceErrors[0]?.message, /DMA refused/);
  await run(0x3fff0n, 16n);
  await run(0x40ff0n, 32n);
  await run(0x40000n, 0n);
  t.equal(dev.deviceErrors.length, 4);
  t.equal(dev.buffer[0], 0, 'nothing copied');
  t.equal(bar.read32(R.IRQ_STATUS), 0x100, 'IRQ still raised');
  await run(0x40000n, 4095n);
  t.equal(dev.deviceErrors.length, 4, '4095 bytes from the window start are fine');
  t.equal(dev.buffer[4094], 5);
  dev.close();
});

t.test('D.6 DMA without Bus Master Enable copies nothing', async (t) => {
  const { dev, bar } = edu();
  const buf = dev.dma.alloc(4096);
  buf.bytes[0] = 1;
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY);
  bar.write64(R.DMA_SRC, buf.iova);
  bar.write64(R.DMA_DST, 0x40000n);
  bar.write64(R.DMA_CNT, 1n);
  bar.write32(R.DMA_CMD, 0x1);
  await until(() => (bar.read32(R.DMA_CMD) & 1) === 0);
  t.equal(dev.buffer[0], 0);
  t.match(dev.deviceErrors, [{ message: /Bus Master Enable/ }]);
  dev.close();
});

t.test('reset is not supported, as on real edu over VFIO', async (t) => {
  const { dev } = edu();
  t.throws(() => dev.reset(), { code: 'ENOTSUP' });
  dev.close();
});

t.test('powerCycle restores power-on registers; close cancels a running factorial', async (t) => {
  const { dev, bar } = edu({ factorialDelayMs: 1 });
  bar.write32(R.LIVENESS, 0);
  bar.write32(R.STATUS, 0x80);
  bar.write32(R.IRQ_RAISE, 4);
  bar.write32(R.FACTORIAL, 4);
  dev.powerCycle();
  t.same([bar.read32(R.LIVENESS), bar.read32(R.STATUS), bar.read32(R.IRQ_STATUS), bar.read32(R.FACTORIAL)], [0, 0, 0, 0]);
  t.equal(dev.irq.intxLevel, false);
  bar.write32(R.STATUS, 0x80);
  bar.write32(R.FACTORIAL, 4);
  dev.close();
  await new Promise((resolve) => setTimeout(resolve, 5));
  t.same(dev.deviceErrors, []);
});

t.test('createEduDevice validates its options', async (t) => {
  t.throws(() => createEduDevice({ factorialDelayMs: -1 }), RangeError);
  t.throws(() => createEduDevice({ dmaDelayMs: Number.NaN }), RangeError);
  t.throws(() => createEduDevice({ dmaMask: 1000n }), RangeError);
  t.throws(() => createEduDevice({ dmaMask: 28 as unknown as bigint }), RangeError);
  const wide = createEduDevice({ dmaMask: (1n << 32n) - 1n });
  t.equal(wide.dmaMask, 0xffff_ffffn);
  wide.close();
});
