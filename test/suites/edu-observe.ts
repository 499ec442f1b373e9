/**
 * Conformance steps for the edu (spec/edu.md D.1–D.5): the same register-level sequence on any
 * `PciDevice`, returning everything a driver could observe. hw-tests/edu-conformance.test.ts runs it
 * on the emulated edu (createEduDevice) and on the real one and asserts the results are equal — a
 * difference is a bug in one of them; test/suites/edu-observe.test.ts pins the emulated results on
 * the host.
 *
 * Interrupts go to MSI vector 0 (routed for the whole run, so the edu never asserts INTx) and every
 * raise is awaited before the next step: the counts do not depend on timing. Imports the library only
 * by package name (compiled for the guest too).
 */
import {
  EDU_DEFAULT_DMA_MASK, EDU_DMA_IRQ_ENABLE, EDU_DMA_RUN, EDU_DMA_START, EDU_DMA_TO_PCI, EDU_REG, EDU_STATUS_COMPUTING,
  EDU_STATUS_IRQFACT, IrqLine, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_INTERRUPT_PIN, VFIO_PCI_MSI_IRQ_INDEX,
  findMsi, listCapabilities,
} from 'vfio-ddk';
import type { PciDevice, PciRegion } from 'vfio-ddk';

export interface EduObservations {
  identity: {
    vendorId: number; deviceId: number; revision: number; classCode: number; subsystemVendorId: number; subsystemId: number;
    interruptPin: number; capabilities: number[]; msi: { vectors: number; is64: boolean; perVectorMask: boolean } | null;
    bar0Size: bigint;
  };
  registers: { id: number; idRead8: number; idRead16: number; dmaSrcRead16: number; liveness: number[]; dmaSrcRead64: bigint };
  factorials: { n: number; value: number }[];
  irqStatus: { step: string; status: number }[];
  interrupts: { raised: number; cause: number; fires: number }[];
  factorialIrq: { value: number; cause: number; fires: number; status: number };
  dma: { causes: number[]; roundTrip: number[]; cmdAfter: number };
}

const LIVENESS_VALUES = [0, 1, 0x12345678, 0xffffffff, 0xa5a5a5a5];
const FACTORIAL_INPUTS = [0, 1, 2, 5, 10, 12, 13, 20, 33, 34, 100];
const DMA_BYTES = 200;

/** MSI vector 0 as promises of (fires, cause read and acked on delivery — the handler's job, D.3). */
class MsiProbe {
  readonly line = new IrqLine('edu conformance');
  #waiters: ((r: { fires: number; cause: number }) => void)[] = [];
  #queued: { fires: number; cause: number }[] = [];

  constructor(bar: PciRegion) {
    this.line.setConsumer({
      fire: (fires) => {
        const cause = bar.read32(EDU_REG.IRQ_STATUS);
        if (cause !== 0) bar.write32(EDU_REG.IRQ_ACK, cause);
        const waiter = this.#waiters.shift();
        if (waiter) waiter({ fires, cause });
        else this.#queued.push({ fires, cause });
      },
    });
  }

  next(): Promise<{ fires: number; cause: number }> {
    const queued = this.#queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

export async function observeEdu(device: PciDevice): Promise<EduObservations> {
  const cfg = device.config;
  cfg.write16(PCI_COMMAND, cfg.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const bar = device.bar(0);
  const msi = findMsi(cfg);
  const identity = {
    ...device.identity,
    interruptPin: cfg.read8(PCI_INTERRUPT_PIN),
    capabilities: listCapabilities(cfg).map((c) => c.id),
    msi: msi === null ? null : { vectors: msi.vectors, is64: msi.is64, perVectorMask: msi.perVectorMask },
    bar0Size: bar.size,
  };
  const registers = {
    id: bar.read32(EDU_REG.ID),
    idRead8: bar.read8(EDU_REG.ID),
    idRead16: bar.read16(EDU_REG.ID),
    dmaSrcRead16: bar.read16(EDU_REG.DMA_SRC),
    liveness: LIVENESS_VALUES.map((v) => {
      bar.write32(EDU_REG.LIVENESS, v);
      return bar.read32(EDU_REG.LIVENESS);
    }),
    dmaSrcRead64: 0n,
  };
  bar.write64(EDU_REG.DMA_SRC, 0x1234_5678n);
  registers.dmaSrcRead64 = bar.read64(EDU_REG.DMA_SRC);

  const factorials: { n: number; value: number }[] = [];
  for (const n of FACTORIAL_INPUTS) {
    bar.write32(EDU_REG.FACTORIAL, n);
    await until(() => (bar.read32(EDU_REG.STATUS) & EDU_STATUS_COMPUTING) === 0);
    factorials.push({ n, value: bar.read32(EDU_REG.FACTORIAL) });
  }

  const probe = new MsiProbe(bar);
  device.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
  try {
    // Status bookkeeping (D.3): raise ORs, ack clears; each raise is one MSI, awaited.
    const irqStatus: { step: string; status: number }[] = [];
    const interrupts: { raised: number; cause: number; fires: number }[] = [];
    for (const raised of [0x1, 0x100, 0x8000_0000, 0xffff_ffff]) {
      bar.write32(EDU_REG.IRQ_RAISE, raised);
      const { fires, cause } = await probe.next();
      interrupts.push({ raised, cause, fires });
      irqStatus.push({ step: `after raise 0x${raised.toString(16)} + handler ack`, status: bar.read32(EDU_REG.IRQ_STATUS) });
    }
    // Ack without a raise, partial ack: observed through the status register only (no interrupt).
    probe.line.mask();
    bar.write32(EDU_REG.IRQ_RAISE, 0x101);
    const latched = probe.next();
    irqStatus.push({ step: 'raise 0x101 (line masked)', status: bar.read32(EDU_REG.IRQ_STATUS) });
    bar.write32(EDU_REG.IRQ_ACK, 0x1);
    irqStatus.push({ step: 'ack 0x1', status: bar.read32(EDU_REG.IRQ_STATUS) });
    bar.write32(EDU_REG.IRQ_ACK, 0x100);
    irqStatus.push({ step: 'ack 0x100', status: bar.read32(EDU_REG.IRQ_STATUS) });
    probe.line.unmask();
    const late = await latched;
    interrupts.push({ raised: 0x101, cause: late.cause, fires: late.fires });

    // Factorial with its interrupt (D.4: STATUS bit 7).
    bar.write32(EDU_REG.STATUS, EDU_STATUS_IRQFACT);
    bar.write32(EDU_REG.FACTORIAL, 6);
    const fact = await probe.next();
    const factorialIrq = { value: bar.read32(EDU_REG.FACTORIAL), cause: fact.cause, fires: fact.fires, status: bar.read32(EDU_REG.STATUS) };
    bar.write32(EDU_REG.STATUS, 0);

    // DMA (D.5): RAM → edu buffer, edu buffer → RAM at +4096, each completion by its interrupt.
    device.dma.setMask(EDU_DEFAULT_DMA_MASK);
    const buffer = device.dma.alloc(8192);
    try {
      for (let i = 0; i < DMA_BYTES; i++) buffer.bytes[i] = (i * 31 + 7) & 0xff;
      const causes: number[] = [];
      const run = async (src: bigint, dst: bigint, cmd: number): Promise<void> => {
        bar.write64(EDU_REG.DMA_SRC, src);
        bar.write64(EDU_REG.DMA_DST, dst);
        bar.write64(EDU_REG.DMA_CNT, BigInt(DMA_BYTES));
        bar.write32(EDU_REG.DMA_CMD, cmd | EDU_DMA_RUN | EDU_DMA_IRQ_ENABLE);
        causes.push((await probe.next()).cause);
      };
      await run(buffer.iova, BigInt(EDU_DMA_START), 0);
      await run(BigInt(EDU_DMA_START), buffer.iova + 4096n, EDU_DMA_TO_PCI << 1);
      const dma = { causes, roundTrip: [...buffer.bytes.subarray(4096, 4096 + DMA_BYTES)], cmdAfter: bar.read32(EDU_REG.DMA_CMD) };
      return { identity, registers, factorials, irqStatus, interrupts, factorialIrq, dma };
    } finally {
      buffer.free();
    }
  } finally {
    device.irq.detach(VFIO_PCI_MSI_IRQ_INDEX, 0);
  }
}
