/**
 * `VfioDevice` on a real QEMU edu bound to vfio-pci, register by register (spec/edu.md D.2–D.7):
 * identity, liveness, factorial completion by MSI, INTx with VFIO's automask and ACTION_UNMASK, DMA
 * through the IOMMU, a DMA to an unmapped IOVA that the IOMMU blocks, close semantics, fd hygiene,
 * the diagnostics of openVfioDevice, and (reported, not asserted) the MSI round-trip latency from JS.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import {
  EDU_BAR0_SIZE, EDU_CLASS_CODE, EDU_DEFAULT_DMA_MASK, EDU_DEVICE_ID, EDU_DMA_DIR, EDU_DMA_IRQ, EDU_DMA_IRQ_ENABLE,
  EDU_DMA_RUN, EDU_DMA_START, EDU_FACT_IRQ, EDU_ID_VALUE, EDU_REG, EDU_REVISION, EDU_STATUS_IRQFACT, EDU_VENDOR_ID,
  PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX, allocHostMemory,
} from 'vfio-ddk';
import type { PciRegion } from 'vfio-ddk';
import { Sysfs, openVfioDevice } from 'vfio-ddk/vfio';
import type { VfioDevice } from 'vfio-ddk/vfio';
import { LineProbe, expectedIommu, guestBdf, guestKernel, openFdCount, percentiles, skipReason } from './helpers.ts';

/** What the real device reports (see the identity test); compared with lib/pci/edu-regs.ts. */
const REAL_EDU_CLASS_CODE = 0x00ff00;

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  const open = (): VfioDevice => openVfioDevice(bdf);
  /** Reads and acknowledges every pending cause (D.3: the handler must ack, also with MSI). */
  const ack = (bar: PciRegion): number => {
    const status = bar.read32(EDU_REG.IRQ_STATUS);
    if (status !== 0) bar.write32(EDU_REG.IRQ_ACK, status);
    return status;
  };
  /** One edu DMA (D.5), completion signalled by DMA_IRQ through `probe`. */
  const dma = async (bar: PciRegion, probe: LineProbe, src: bigint, dst: bigint, count: number, dir: number): Promise<void> => {
    bar.write64(EDU_REG.DMA_SRC, src);
    bar.write64(EDU_REG.DMA_DST, dst);
    bar.write64(EDU_REG.DMA_CNT, BigInt(count));
    const done = probe.next();
    bar.write32(EDU_REG.DMA_CMD, EDU_DMA_RUN | dir | EDU_DMA_IRQ_ENABLE);
    await done;
  };

  t.test('identity: config header, BAR0 mmapped, ID register (D.1, D.2)', async (t) => {
    using dev = open();
    t.equal(dev.backend, 'vfio');
    t.equal(dev.bdf, bdf);
    t.equal(dev.identity.vendorId, EDU_VENDOR_ID);
    t.equal(dev.identity.deviceId, EDU_DEVICE_ID);
    t.equal(dev.identity.revision, EDU_REVISION);
    // QEMU: class_id = PCI_CLASS_OTHERS (0xff) as a 16-bit class/subclass → base 0x00, subclass 0xff.
    t.equal(dev.identity.classCode, REAL_EDU_CLASS_CODE, 'class code 0x00ff00 as QEMU 7.2 reports it');
    t.equal(dev.identity.classCode, EDU_CLASS_CODE, 'the emulated edu reports the same class code');
    const want = expectedIommu();
    if (want !== null) {
      t.equal(dev.iommuKind, want, `the ${guestKernel()} guest kernel gives the ${want} path (${dev.iommuReason})`);
    }
    const command = dev.config.read16(PCI_COMMAND);
    t.equal(command & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 'open enabled Memory Space and Bus Master');
    const bar = dev.bar(0);
    t.equal(bar.size, BigInt(EDU_BAR0_SIZE));
    t.not(bar.view, null, 'BAR0 is mmapped (typed-array view)');
    t.equal(bar.read32(EDU_REG.ID), EDU_ID_VALUE);
    t.equal(bar.view?.u32[EDU_REG.ID >>> 2], EDU_ID_VALUE, 'the view reads the same register');
    t.throws(() => dev.bar(1), { code: 'ENOENT' }, 'edu has only BAR0');
    t.throws(() => bar.read32(2), RangeError, 'misaligned access refused');
    t.same(dev.irq.info(VFIO_PCI_MSI_IRQ_INDEX).count, 1, 'one MSI vector');
    t.same(dev.irq.info(VFIO_PCI_MSIX_IRQ_INDEX).count, 0, 'no MSI-X');
    t.ok(dev.irq.info(VFIO_PCI_INTX_IRQ_INDEX).automasked, 'INTx is automasked');
  });

  t.test('liveness: the device stores the bitwise NOT (D.2)', async (t) => {
    using dev = open();
    const bar = dev.bar(0);
    for (const value of [0x12345678, 0, 0xffffffff, 0xa5a5a5a5]) {
      bar.write32(EDU_REG.LIVENESS, value);
      t.equal(bar.read32(EDU_REG.LIVENESS), ~value >>> 0, `~0x${value.toString(16)}`);
    }
  });

  t.test('factorial completes with an MSI (D.3, D.4)', async (t) => {
    using dev = open();
    const bar = dev.bar(0);
    const probe = new LineProbe('edu msi', () => ack(bar));
    dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
    t.equal(dev.irq.activeIndex, VFIO_PCI_MSI_IRQ_INDEX);
    bar.write32(EDU_REG.STATUS, EDU_STATUS_IRQFACT);
    for (const [n, expected] of [[10, 3628800], [12, 479001600], [13, 1932053504]] as const) {
      const done = probe.next();
      bar.write32(EDU_REG.FACTORIAL, n);
      await done;
      t.equal(bar.read32(EDU_REG.FACTORIAL), expected, `${n}! mod 2^32`);
    }
    t.equal(probe.deliveries, 3, 'one delivery per completion');
    t.equal(bar.read32(EDU_REG.IRQ_STATUS), 0, 'every cause acknowledged');
    dev.irq.detach(VFIO_PCI_MSI_IRQ_INDEX, 0);
    t.equal(dev.irq.activeIndex, null, 'the last detach disables MSI');
    t.ok(probe.detached, 'the line was told');
  });

  t.test('INTx: automasked at each interrupt, re-fires on unmask while the level is up (C.4, D.6)', async (t) => {
    using dev = open();
    const bar = dev.bar(0);
    const probe = new LineProbe('edu intx');
    dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, probe.line);
    t.throws(() => dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, new LineProbe('other').line), { code: 'EBUSY' }, 'one index at a time');
    bar.write32(EDU_REG.IRQ_RAISE, 0x1000);
    await probe.next();
    t.equal(probe.deliveries, 1, 'the raise was delivered');
    // Not acknowledged: the level is still asserted, so unmasking makes the kernel fire again.
    dev.irq.unmaskIntx();
    await probe.next();
    t.equal(probe.deliveries, 2, 'unmask with the level still up re-delivers');
    t.equal(ack(bar), 0x1000, 'the raised cause is pending');
    dev.irq.unmaskIntx();
    bar.write32(EDU_REG.IRQ_RAISE, 0x2000);
    await probe.next();
    t.equal(probe.deliveries, 3, 'after ack + unmask the next raise is delivered');
    t.equal(ack(bar), 0x2000);
    dev.irq.unmaskIntx();
    dev.irq.disable(VFIO_PCI_INTX_IRQ_INDEX);
    t.ok(probe.detached);
  });

  t.test('DMA round trip through the IOMMU below edu\'s 28-bit mask (D.5, D.7)', async (t) => {
    using dev = open();
    const bar = dev.bar(0);
    dev.dma.setMask(EDU_DEFAULT_DMA_MASK);
    const probe = new LineProbe('edu dma', () => ack(bar));
    dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
    const buffer = dev.dma.alloc(8192);
    t.ok(buffer.iova > 0n && buffer.iova + 8192n - 1n <= EDU_DEFAULT_DMA_MASK, `IOVA 0x${buffer.iova.toString(16)} is below the mask`);
    const length = 3000;
    for (let i = 0; i < length; i++) buffer.bytes[i] = (i * 7 + 3) & 0xff;
    await dma(bar, probe, buffer.iova, BigInt(EDU_DMA_START + 16), length, 0);
    await dma(bar, probe, BigInt(EDU_DMA_START + 16), buffer.iova + 4096n, length, EDU_DMA_DIR);
    t.same(buffer.bytes.subarray(4096, 4096 + length), buffer.bytes.subarray(0, length), 'the bytes came back through the device');
    t.equal(probe.deliveries, 2, 'two DMA_IRQ completions');
    buffer.free();
    buffer.free();
    t.equal(dev.dma.mappings, 0, 'free unmapped it (idempotent)');
  });

  t.test('a DMA to an unmapped IOVA is blocked by the IOMMU', async (t) => {
    using dev = open();
    const bar = dev.bar(0);
    dev.dma.setMask(EDU_DEFAULT_DMA_MASK);
    const probe = new LineProbe('edu dma', () => ack(bar));
    dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
    const source = dev.dma.alloc(4096);
    source.bytes.fill(0x55);
    await dma(bar, probe, source.iova, BigInt(EDU_DMA_START), 256, 0);
    // Host memory that stays allocated, mapped once then unmapped: the IOVA now leads nowhere.
    const target = allocHostMemory(4096);
    target.bytes.fill(0xaa);
    const mapping = dev.dma.map(target);
    const iova = mapping.iova;
    mapping.unmap();
    await dma(bar, probe, BigInt(EDU_DMA_START), iova, 256, EDU_DMA_DIR);
    t.ok(target.bytes.every((b: number) => b === 0xaa), 'nothing arrived in the unmapped memory');
    // The guest kernel logs the fault the (virtual) IOMMU reported; the fault interrupt precedes edu's.
    const pattern = new RegExp(`DMAR:.*fault addr 0x0*${iova.toString(16)}\\b`, 'i');
    let log = '';
    for (let i = 0; i < 20 && !pattern.test(log); i++) {
      log = execFileSync('dmesg', { encoding: 'utf8' });
      if (!pattern.test(log)) await new Promise((r) => setTimeout(r, 100));
    }
    const line = log.split('\n').find((l) => pattern.test(l));
    t.ok(line, `the kernel logged a DMAR fault at 0x${iova.toString(16)}${line ? `: ${line.trim()}` : ''}`);
    target.free();
  });

  t.test('reset is ENOTSUP for edu (D.7); close detaches lines and refuses later use', async (t) => {
    const dev = open();
    t.throws(() => dev.reset(), { code: 'ENOTSUP' });
    const probe = new LineProbe('edu msi');
    dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
    let closed = 0;
    dev.onClose(() => closed++);
    dev.close();
    dev.close();
    t.ok(dev.closed);
    t.ok(probe.detached, 'the attached line was detached (pending waits resolve)');
    t.equal(closed, 1, 'onClose ran once');
    t.throws(() => dev.bar(0), { code: 'ECLOSED' });
    t.throws(() => dev.config.read16(0), { code: 'ECLOSED' });
    t.throws(() => dev.dma.alloc(4096), { code: 'ECLOSED' });
  });

  t.test('no fd leaks: open, interrupts, DMA, BAR mapping, close', async (t) => {
    // Warm-up: the addon and node's own lazily opened fds.
    open().close();
    const before = openFdCount();
    for (let round = 0; round < 3; round++) {
      const dev = open();
      const bar = dev.bar(0);
      const probe = new LineProbe('edu msi', () => ack(bar));
      dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
      bar.write32(EDU_REG.STATUS, EDU_STATUS_IRQFACT);
      const done = probe.next();
      bar.write32(EDU_REG.FACTORIAL, 5);
      await done;
      dev.dma.alloc(4096);
      dev.close();
    }
    t.equal(openFdCount(), before, '/proc/self/fd count unchanged');
  });

  t.test('open diagnostics name the cause', async (t) => {
    t.throws(() => openVfioDevice('00:01.0/../x'), { code: 'ERR_BAD_BDF' });
    using dev = open();
    // Type1: the group open says EBUSY; cdev: VFIO_DEVICE_BIND_IOMMUFD says EINVAL. Both must read the same.
    t.throws(() => open(), { code: 'EBUSY', message: /already open in this process/ }, `already open in this process (${dev.iommuKind} path)`);
    const other = new Sysfs().listDevices().find((d) => d.driver !== null && d.driver !== 'vfio-pci');
    if (other) {
      t.throws(() => openVfioDevice(other.bdf), { code: 'ERR_NOT_VFIO', message: new RegExp(`bound to ${other.driver}`) });
    }
    t.ok(dev);
  });

  t.test('MSI round-trip latency from JS (reported, not asserted)', async (t) => {
    using dev = open();
    const bar = dev.bar(0);
    const probe = new LineProbe('edu msi', () => ack(bar));
    dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
    const rounds = 2000;
    const samples: bigint[] = [];
    for (let i = 0; i < rounds; i++) {
      const start = process.hrtime.bigint();
      const done = probe.next();
      bar.write32(EDU_REG.IRQ_RAISE, EDU_FACT_IRQ << 4);
      await done;
      samples.push(process.hrtime.bigint() - start);
    }
    t.equal(probe.deliveries, rounds, 'every raise delivered exactly once');
    const p = percentiles(samples);
    t.comment(`edu MSI round trip (raise → eventfd → uv_poll → IrqLine → ack), ${rounds} rounds: ` +
      `median ${p.medianUs.toFixed(1)} µs, p99 ${p.p99Us.toFixed(1)} µs, min ${p.minUs.toFixed(1)} µs`);
    t.equal(bar.read32(EDU_REG.IRQ_STATUS) & ~EDU_DMA_IRQ, 0);
  });
}
