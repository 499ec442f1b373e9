/**
 * QEMU's `edu` device, register for register (spec/edu.md; hw/misc/edu.c of QEMU 7.2, the project's
 * guest QEMU).
 *
 * * D.1 identity 1234:11e8 rev 0x10, class 0x00ff00 (as the real device reports it), Interrupt Pin 1, MSI capability at 0x40 (1 vector,
 *   64-bit, no per-vector masking), BAR0 32-bit memory, 1 MiB. No MSI-X.
 * * D.2 access sizes: edu's MemoryRegionOps declare .valid.min_access_size = 4, so QEMU's memory core
 *   rejects 1- and 2-byte accesses before edu_mmio_read runs: they read 0 (unassigned_mem_read) and writes
 *   are ignored — what the real edu returns in the guest (hw-tests/edu-conformance; spec/edu.md D.2 says
 *   all-ones, the hardware wins). 8-byte accesses below 0x80 reach edu, which returns all-ones and ignores
 *   the write; unlisted offsets read all-ones and ignore writes. A 4-byte write to a 64-bit DMA register zero-extends.
 * * D.3 raise: IRQ status |= value; if then non-zero, one MSI (vector 0) per raise when MSI is enabled,
 *   else the INTx level is asserted. Ack: status &= ~value; INTx drops when status is 0 and MSI is off.
 * * D.4 factorial: completes `factorialDelayMs` later (0 = next turn of the event loop: asynchronous,
 *   like edu's worker thread), n! mod 2^32, then FACT_IRQ if status bit 0x80 is set.
 * * D.5 DMA: completes `dmaDelayMs` later (stands for edu's 100 ms of virtual clock; default 1 ms). Bus
 *   addresses are clamped with the `dmaMask` property, then go through the device's IOMMU: an unmapped
 *   IOVA is an IOMMU fault (`iommuFaults`) and nothing is copied. Without Bus Master Enable nothing is
 *   copied either (recorded in `deviceErrors`). Either way RUN clears and DMA_IRQ is raised if asked, as
 *   edu ignores DMA errors.
 * * D.5/D.7 window check: the transfer [addr, addr+cnt) must satisfy QEMU 7.2's check (addr ≥ 0x40000,
 *   cnt > 0, addr + cnt < 0x41000 — its off-by-one). QEMU 7.2 aborts the VM otherwise; this model instead
 *   records a `deviceErrors` entry naming the transfer, copies nothing, clears RUN and raises DMA_IRQ if
 *   asked (what the Nov-2025 QEMU fix does). Drivers must keep transfers ≤ 4095 bytes.
 * * `reset()` throws DdkError 'ENOTSUP' exactly as over VFIO, where real edu has no reset (EINVAL —
 *   spec/edu.md D.7); `powerCycle()` restores the power-on register state for tests.
 */
import {
  EDU_BAR0_SIZE, EDU_CLASS_CODE, EDU_DEFAULT_DMA_MASK, EDU_DEVICE_ID, EDU_DMA_DIR, EDU_DMA_IRQ, EDU_DMA_IRQ_ENABLE,
  EDU_DMA_RUN, EDU_DMA_SIZE, EDU_DMA_START, EDU_FACT_IRQ, EDU_ID_VALUE, EDU_REG, EDU_REG_64BIT_START, EDU_REVISION,
  EDU_STATUS_COMPUTING, EDU_STATUS_IRQFACT, EDU_VENDOR_ID,
} from '../pci/edu-regs.ts';
import { PCI_INTERRUPT_PIN_INTA } from '../pci/regs.ts';
import { traceOpened } from '../pci/trace-hook.ts';
import { EmuPciDevice } from './device.ts';
import type { MmioHandler } from './region.ts';

export interface EduOptions {
  factorialDelayMs?: number;
  dmaDelayMs?: number;
  dmaMask?: bigint;
}

const ALL_ONES_32 = 0xffffffff;
const ALL_ONES_64 = 0xffff_ffff_ffff_ffffn;
const TWO_32 = 2 ** 32;
export const EDU_DEFAULT_DMA_DELAY_MS = 1;

/** What QEMU's memory core returns for an access edu's ops reject (1 or 2 bytes): unassigned_mem_read → 0. */
const REJECTED_ACCESS_READ = 0;

/** n! in 32-bit unsigned arithmetic (D.4). 34! and above have 2^32 as a factor: 0. */
export function eduFactorial(n: number): number {
  if (n >= 34) return 0;
  let result = 1;
  for (let i = n; i > 0; i--) result = Math.imul(result, i) >>> 0;
  return result;
}

/** A 64-bit register kept as two 32-bit halves (no bigint on the 4-byte path). */
class Reg64 {
  lo = 0;
  hi = 0;
  get(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
  set(value: bigint): void {
    this.lo = Number(value & 0xffffffffn);
    this.hi = Number((value >> 32n) & 0xffffffffn);
  }
}

class EduRegisters implements MmioHandler {
  device: EduDevice | null = null;
  read(offset: number, width: 1 | 2 | 4): number {
    return (this.device as EduDevice).mmioRead(offset, width);
  }
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    (this.device as EduDevice).mmioWrite(offset, width, value);
  }
  read64(offset: number): bigint {
    return (this.device as EduDevice).mmioRead64(offset);
  }
  write64(offset: number, value: bigint): void {
    (this.device as EduDevice).mmioWrite64(offset, value);
  }
}

export class EduDevice extends EmuPciDevice {
  readonly factorialDelayMs: number;
  readonly dmaDelayMs: number;
  /** The `dma_mask` property: applied to bus addresses (D.5). */
  readonly dmaMask: bigint;
  readonly #maskLo: number;
  readonly #maskHi: number;
  #liveness = 0;
  #factorial = 0;
  #status = 0;
  #irqStatus = 0;
  readonly #src = new Reg64();
  readonly #dst = new Reg64();
  readonly #cnt = new Reg64();
  readonly #cmd = new Reg64();
  /** The 4 KiB device buffer behind the DMA window (D.5). */
  readonly buffer = new Uint8Array(EDU_DMA_SIZE);
  #factorialTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #dmaTimer: NodeJS.Timeout | null = null;

  constructor(options: EduOptions) {
    const registers = new EduRegisters();
    const dmaMask = options.dmaMask ?? EDU_DEFAULT_DMA_MASK;
    super({
      identity: { vendorId: EDU_VENDOR_ID, deviceId: EDU_DEVICE_ID, classCode: EDU_CLASS_CODE, revision: EDU_REVISION },
      pin: PCI_INTERRUPT_PIN_INTA,
      bars: [{ index: 0, size: EDU_BAR0_SIZE, handler: registers }],
      msi: { vectors: 1, perVectorMask: false, addr64: true },
      dmaMask,
    });
    registers.device = this;
    this.factorialDelayMs = options.factorialDelayMs ?? 0;
    this.dmaDelayMs = options.dmaDelayMs ?? EDU_DEFAULT_DMA_DELAY_MS;
    this.dmaMask = dmaMask;
    this.#maskLo = Number(dmaMask & 0xffffffffn);
    this.#maskHi = Number(dmaMask >> 32n);
  }

  mmioRead(offset: number, width: number): number {
    if (width !== 4) return REJECTED_ACCESS_READ;
    switch (offset) {
      case EDU_REG.ID: return EDU_ID_VALUE;
      case EDU_REG.LIVENESS: return this.#liveness;
      case EDU_REG.FACTORIAL: return this.#factorial;
      case EDU_REG.STATUS: return this.#status;
      case EDU_REG.IRQ_STATUS: return this.#irqStatus;
      case EDU_REG.DMA_SRC: return this.#src.lo;
      case EDU_REG.DMA_DST: return this.#dst.lo;
      case EDU_REG.DMA_CNT: return this.#cnt.lo;
      case EDU_REG.DMA_CMD: return this.#cmd.lo;
      default: return ALL_ONES_32;
    }
  }

  mmioRead64(offset: number): bigint {
    if (offset < EDU_REG_64BIT_START) return ALL_ONES_64;
    const reg = this.#dmaRegister(offset);
    return reg === null ? ALL_ONES_64 : reg.get();
  }

  mmioWrite(offset: number, width: number, value: number): void {
    if (width !== 4) return;
    switch (offset) {
      case EDU_REG.LIVENESS: this.#liveness = ~value >>> 0; break;
      case EDU_REG.FACTORIAL: this.#startFactorial(value); break;
      case EDU_REG.STATUS:
        this.#status = (value & EDU_STATUS_IRQFACT) !== 0 ? this.#status | EDU_STATUS_IRQFACT : this.#status & ~EDU_STATUS_IRQFACT;
        break;
      case EDU_REG.IRQ_RAISE: this.#raise(value); break;
      case EDU_REG.IRQ_ACK: this.#lower(value); break;
      default: {
        const reg = this.#dmaRegister(offset);
        if (reg !== null) this.#writeDma(offset, reg, value, 0);
      }
    }
  }

  mmioWrite64(offset: number, value: bigint): void {
    if (offset < EDU_REG_64BIT_START) return;
    const reg = this.#dmaRegister(offset);
    if (reg !== null) this.#writeDma(offset, reg, Number(value & 0xffffffffn), Number(value >> 32n));
  }

  protected override get hasFunctionReset(): boolean {
    return false;
  }

  protected override resetModel(): void {
    if (this.#factorialTimer !== null) {
      clearTimeout(this.#factorialTimer as NodeJS.Timeout);
      clearImmediate(this.#factorialTimer as NodeJS.Immediate);
    }
    if (this.#dmaTimer !== null) clearTimeout(this.#dmaTimer);
    this.#factorialTimer = null;
    this.#dmaTimer = null;
    this.#liveness = 0;
    this.#factorial = 0;
    this.#status = 0;
    this.#irqStatus = 0;
    for (const reg of [this.#src, this.#dst, this.#cnt, this.#cmd]) reg.lo = reg.hi = 0;
    this.buffer.fill(0);
    this.irq.setIntxLevel(false);
  }

  #dmaRegister(offset: number): Reg64 | null {
    switch (offset) {
      case EDU_REG.DMA_SRC: return this.#src;
      case EDU_REG.DMA_DST: return this.#dst;
      case EDU_REG.DMA_CNT: return this.#cnt;
      case EDU_REG.DMA_CMD: return this.#cmd;
      default: return null;
    }
  }

  /** D.5: ignored while a transfer runs; a command without RUN is ignored; RUN arms the timer. */
  #writeDma(offset: number, reg: Reg64, lo: number, hi: number): void {
    if ((this.#cmd.lo & EDU_DMA_RUN) !== 0) return;
    if (offset === EDU_REG.DMA_CMD && (lo & EDU_DMA_RUN) === 0) return;
    reg.lo = lo >>> 0;
    reg.hi = hi >>> 0;
    if (offset === EDU_REG.DMA_CMD) this.#dmaTimer = setTimeout(this.#completeDma, this.dmaDelayMs);
  }

  /** D.3 edu_raise_irq. */
  #raise(value: number): void {
    this.#irqStatus = (this.#irqStatus | value) >>> 0;
    if (this.#irqStatus === 0) return;
    if (this.msi?.enabled === true) this.irq.raiseMsi(0);
    else this.irq.setIntxLevel(true);
  }

  /** D.3 edu_lower_irq. */
  #lower(value: number): void {
    this.#irqStatus = (this.#irqStatus & ~value) >>> 0;
    if (this.#irqStatus === 0 && this.msi?.enabled !== true) this.irq.setIntxLevel(false);
  }

  /** D.4: ignored while COMPUTING. */
  #startFactorial(n: number): void {
    if ((this.#status & EDU_STATUS_COMPUTING) !== 0) return;
    this.#factorial = n >>> 0;
    this.#status |= EDU_STATUS_COMPUTING;
    this.#factorialTimer = this.factorialDelayMs === 0
      ? setImmediate(this.#completeFactorial)
      : setTimeout(this.#completeFactorial, this.factorialDelayMs);
  }

  readonly #completeFactorial = (): void => {
    this.#factorialTimer = null;
    this.#factorial = eduFactorial(this.#factorial);
    this.#status &= ~EDU_STATUS_COMPUTING;
    if ((this.#status & EDU_STATUS_IRQFACT) !== 0) this.#raise(EDU_FACT_IRQ);
  };

  readonly #completeDma = (): void => {
    this.#dmaTimer = null;
    const cmd = this.#cmd.lo;
    if ((cmd & EDU_DMA_RUN) === 0) return;
    const toPci = (cmd & EDU_DMA_DIR) !== 0;
    const window = toPci ? this.#src : this.#dst;
    const bus = toPci ? this.#dst : this.#src;
    const count = this.#cnt;
    const end = window.lo + count.lo;
    if (window.hi !== 0 || count.hi !== 0 || window.lo < EDU_DMA_START || count.lo === 0 || end >= EDU_DMA_START + EDU_DMA_SIZE) {
      this.recordError(`DMA refused: window range 0x${window.get().toString(16)}+0x${count.get().toString(16)} is not inside `
        + `[0x${EDU_DMA_START.toString(16)}, 0x${(EDU_DMA_START + EDU_DMA_SIZE - 1).toString(16)}) (QEMU 7.2 would abort the VM; keep transfers ≤ 4095 bytes)`);
    } else if (!this.busMasterEnabled()) {
      this.recordError('DMA dropped: Bus Master Enable is clear in the Command register');
    } else {
      const iova = (bus.hi & this.#maskHi) * TWO_32 + ((bus.lo & this.#maskLo) >>> 0);
      const at = window.lo - EDU_DMA_START;
      if (toPci) this.dma.deviceWrite(iova, this.buffer, at, count.lo);
      else this.dma.deviceRead(iova, this.buffer, at, count.lo);
    }
    this.#cmd.lo = cmd & ~EDU_DMA_RUN;
    if ((cmd & EDU_DMA_IRQ_ENABLE) !== 0) this.#raise(EDU_DMA_IRQ);
  };
}

/**
 * Creates an emulated QEMU edu device (API.md `vfio-ddk/emu`). Bad options → RangeError.
 * While a trace records (lib/pci/trace-hook.ts), the device comes back as its recording view.
 */
export function createEduDevice(options: EduOptions = {}): EduDevice {
  if (options === null || typeof options !== 'object') throw new RangeError('createEduDevice: options must be an object');
  for (const key of ['factorialDelayMs', 'dmaDelayMs'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new RangeError(`createEduDevice: ${key} must be a finite number ≥ 0, got ${String(value)}`);
    }
  }
  const mask = options.dmaMask;
  if (mask !== undefined && (typeof mask !== 'bigint' || mask < 0xfffn || mask > ALL_ONES_64 || (mask & (mask + 1n)) !== 0n)) {
    throw new RangeError(`createEduDevice: dmaMask must be a bigint 2^n − 1 (12 ≤ n ≤ 64), got ${String(mask)}`);
  }
  return traceOpened(new EduDevice(options));
}
