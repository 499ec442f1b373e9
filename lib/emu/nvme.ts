/**
 * QEMU 7.2's NVMe controller (`-device nvme,serial=deadbeef`), register level, admin path first
 * (NVMe 1.4; hw/nvme/ctrl.c). Commands themselves are in nvme-admin.ts.
 *
 * * PCI function (config space, BAR0 with the MSI-X table and PBA, capabilities): nvme-pci.ts.
 * * Registers: CAP / VS read-only (QEMU's values, NVME_QEMU_CAP); INTMS / INTMC set / clear the INTx
 *   mask (§3.1.3–4; with MSI-X enabled an access is recorded in `deviceErrors` and has no effect on
 *   MSI-X, as on QEMU); AQA / ASQ / ACQ plain (ASQ / ACQ 32- or 64-bit). 1- and 2-byte reads return
 *   the bytes of the register; 1- and 2-byte writes are ignored and recorded. NSSR is not supported
 *   (CAP.NSSRS 0): writes are ignored. Doorbell reads return 0.
 * * CC.EN 0→1: QEMU's nvme_start_ctrl checks (ASQ / ACQ non-zero and page aligned, MPS within CAP,
 *   IOSQES 6 / IOCQES 4, ASQS / ACQS ≥ 1), then `readyDelayMs` later CSTS = RDY, or CSTS = CFS when a
 *   check failed. CC.EN 1→0: controller reset (queues deleted, CC and INTMS 0 at once, CSTS 0
 *   `readyDelayMs` later). CC.SHN 0→≠0: SHST = occurring, then complete `readyDelayMs` later; SHN
 *   back to 0 clears SHST. The exact rules are at `#writeCc`.
 * * Doorbells: an SQ tail write schedules processing (`commandDelayMs`, 0 = next turn of the loop;
 *   `inlineCommands`: before the write returns, for a blocking IRQ thread on the same thread). A
 *   doorbell for a queue that does not exist, a value ≥ the queue size, or a write while not ready is
 *   ignored and recorded. Commands are fetched and completions posted through the IOMMU
 *   (`this.dma`): a blocked fetch or completion write — or Bus Master Enable clear — sets CSTS = CFS
 *   (Controller Fatal Status, as QEMU's nvme_process_sq / nvme_post_cqes do) and stops processing;
 *   the IOMMU fault is in `iommuFaults`. A full CQ holds commands back until its head doorbell moves.
 * * Interrupts (§7.5): after posting to a CQ with interrupts enabled, MSI-X vector `cq.vector` when
 *   MSI-X is enabled (mask / pending by the framework); else the INTx level = any CQ vector with
 *   entries pending and not masked in INTMS; a CQ head doorbell that empties the CQ drops its bit.
 * * `reset()` (FLR, QEMU nvme_pci_reset): a controller reset — queues gone, CC / CSTS / INTMS 0, timers
 *   cancelled — that keeps AQA / ASQ / ACQ, as QEMU 7.2 does; `powerCycle()` and close clear those too.
 */
import {
  NVME_AQA_ACQS_MASK, NVME_AQA_ACQS_SHIFT, NVME_AQA_ASQS_MASK, NVME_CC_EN, NVME_CC_IOCQES_SHIFT, NVME_CC_IOES_MASK,
  NVME_CC_IOSQES_SHIFT, NVME_CC_MPS_MASK, NVME_CC_MPS_SHIFT, NVME_CC_SHN_MASK, NVME_CC_SHN_SHIFT, NVME_CQE_SIZE,
  NVME_CQES, NVME_CSTS_CFS, NVME_CSTS_RDY, NVME_CSTS_SHST_COMPLETE, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_OCCURRING,
  NVME_DOORBELL_BASE, NVME_QEMU_CAP, NVME_QEMU_FIRMWARE, NVME_QEMU_MAX_IOQPAIRS, NVME_QEMU_MODEL, NVME_REG,
  NVME_SQE_SIZE, NVME_SQES, NVME_VS_1_4, nvmeCapField,
} from '../pci/nvme-regs.ts';
import { traceOpened } from '../pci/trace-hook.ts';
import { EmuPciDevice } from './device.ts';
import { NvmeRegisters, nvmePciSpec } from './nvme-pci.ts';
import { type EmuNvmeCq, type EmuNvmeSq, type NvmeAdminContext, buildIdentifyController, buildIdentifyNamespace, defaultFeatures, executeCommand } from './nvme-admin.ts';
import { type NvmeOptions, type NvmeOptionsChecked, checkNvmeOptions } from './nvme-options.ts';

export type { NvmeOptions } from './nvme-options.ts';
export { NVME_EMU_MSIX_BAR } from './nvme-pci.ts';
const QUEUES = NVME_QEMU_MAX_IOQPAIRS + 1;
const TWO_32 = 2 ** 32;
const CAP_LO = Number(NVME_QEMU_CAP & 0xffff_ffffn);
const CAP_HI = Number(NVME_QEMU_CAP >> 32n);
const MQES = nvmeCapField(NVME_QEMU_CAP, 'MQES');
const MPSMIN = nvmeCapField(NVME_QEMU_CAP, 'MPSMIN');
const MPSMAX = nvmeCapField(NVME_QEMU_CAP, 'MPSMAX');
const PAGE_SHIFT = 12;

export class NvmeDevice extends EmuPciDevice {
  readonly options: NvmeOptionsChecked;
  #cc = 0;
  #csts = 0;
  #intms = 0;
  #aqa = 0;
  readonly #asq = [0, 0];
  readonly #acq = [0, 0];
  /** INTx: one bit per CQ vector with entries the host has not consumed. */
  #irqStatus = 0;
  #stateTimer: NodeJS.Timeout | null = null;
  #shutdownTimer: NodeJS.Timeout | null = null;
  #processTimer: NodeJS.Timeout | null = null;
  readonly #entry = new Uint8Array(NVME_SQE_SIZE);
  readonly #entryView = new DataView(this.#entry.buffer);
  readonly #cqe = new Uint8Array(NVME_CQE_SIZE);
  readonly #cqeView = new DataView(this.#cqe.buffer);
  readonly #ctx: NvmeAdminContext;
  /** Commands executed (all queues) since creation. */
  commandsExecuted = 0;

  constructor(options: NvmeOptionsChecked) {
    const registers = new NvmeRegisters();
    super(nvmePciSpec(registers));
    registers.device = this;
    this.options = options;
    this.#ctx = {
      sqs: new Array<EmuNvmeSq | null>(QUEUES).fill(null),
      cqs: new Array<EmuNvmeCq | null>(QUEUES).fill(null),
      features: new Map(),
      identifyController: buildIdentifyController(this.identity, options.serial, options.model, options.firmware),
      identifyNamespace: buildIdentifyNamespace(options.namespaceBytes),
      mqes: MQES,
      pageSize: 1 << PAGE_SHIFT,
      ioQueuesCreated: false,
      result: 0,
      dmaWrite: (iova, bytes) => this.busMasterEnabled() && this.dma.deviceWrite(iova, bytes, 0, bytes.length),
    };
    defaultFeatures(this.#ctx.features);
  }

  /** CSTS as the host would read it (for tests). */
  get csts(): number {
    return this.#csts;
  }

  readRegister(offset: number): number {
    switch (offset) {
      case NVME_REG.CAP: return CAP_LO;
      case NVME_REG.CAP + 4: return CAP_HI;
      case NVME_REG.VS: return NVME_VS_1_4;
      case NVME_REG.INTMS:
      case NVME_REG.INTMC: return this.#intms;
      case NVME_REG.CC: return this.#cc;
      case NVME_REG.CSTS: return this.#csts;
      case NVME_REG.AQA: return this.#aqa;
      case NVME_REG.ASQ: return this.#asq[0] as number;
      case NVME_REG.ASQ + 4: return this.#asq[1] as number;
      case NVME_REG.ACQ: return this.#acq[0] as number;
      case NVME_REG.ACQ + 4: return this.#acq[1] as number;
      default: return 0;
    }
  }

  writeRegister(offset: number, width: number, value: number): void {
    if (width !== 4) {
      this.recordError(`${width}-byte write at 0x${offset.toString(16)} ignored: NVMe registers take 4- or 8-byte writes (§3.1)`);
      return;
    }
    if (offset >= NVME_DOORBELL_BASE) {
      this.#doorbell(offset, value);
      return;
    }
    switch (offset) {
      case NVME_REG.INTMS:
      case NVME_REG.INTMC:
        if (this.msix?.enabled === true) this.recordError('INTMS/INTMC accessed while MSI-X is enabled (§3.1.3: undefined; no effect on MSI-X)');
        this.#intms = offset === NVME_REG.INTMS ? (this.#intms | value) >>> 0 : (this.#intms & ~value) >>> 0;
        this.#updateIntx();
        break;
      case NVME_REG.CC: this.#writeCc(value); break;
      case NVME_REG.AQA: this.#aqa = value; break;
      case NVME_REG.ASQ: case NVME_REG.ASQ + 4: this.#asq[(offset - NVME_REG.ASQ) >>> 2] = value; break;
      case NVME_REG.ACQ: case NVME_REG.ACQ + 4: this.#acq[(offset - NVME_REG.ACQ) >>> 2] = value; break;
      default: break;
    }
  }

  protected override resetModel(): void {
    this.#controllerReset();
    this.#aqa = 0;
    this.#asq.fill(0);
    this.#acq.fill(0);
    defaultFeatures(this.#ctx.features);
  }

  /**
   * FLR: QEMU's nvme_pci_reset → nvme_ctrl_reset(NVME_RESET_FUNCTION), which leaves AQA / ASQ / ACQ as
   * the host wrote them (observed on QEMU 7.2 in hw-tests/nvme-conformance.test.ts).
   */
  protected override resetFunction(): void {
    this.#controllerReset();
  }

  /** QEMU 7.2 nvme_ctrl_reset: queues deleted, CSTS / INTMS / CC 0, timers cancelled, INTx low. */
  #controllerReset(): void {
    for (const timer of [this.#stateTimer, this.#shutdownTimer, this.#processTimer]) if (timer !== null) clearTimeout(timer);
    this.#stateTimer = this.#shutdownTimer = this.#processTimer = null;
    this.#cc = this.#csts = this.#intms = this.#irqStatus = 0;
    this.#deleteQueues();
    this.irq.setIntxLevel(false);
  }

  #later(ms: number, run: () => void): NodeJS.Timeout {
    return setTimeout(run, ms);
  }

  /**
   * §3.1.5 CC as QEMU 7.2's nvme_write_bar (NVME_REG_CC) handles it: CC takes the written value; SHN
   * 0→≠0 reports shutdown complete, ≠0→0 clears SHST; then EN 0→1 starts the controller (CSTS becomes
   * exactly RDY, or CFS when nvme_start_ctrl's checks fail) and EN 1→0 is a controller reset
   * (nvme_ctrl_reset: queues deleted, CC, CSTS and INTMS 0 — so CFS and SHST go too). The emulation
   * adds `readyDelayMs` before RDY / SHST / the reset's CSTS settle (QEMU: at once) and passes
   * through SHST "occurring" meanwhile.
   */
  #writeCc(data: number): void {
    const en = (v: number): boolean => (v & NVME_CC_EN) !== 0;
    const shn = (v: number): number => (v >>> NVME_CC_SHN_SHIFT) & NVME_CC_SHN_MASK;
    const cc = this.#cc;
    this.#cc = data >>> 0;
    if (shn(data) !== 0 && shn(cc) === 0) {
      this.#csts = (this.#csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_OCCURRING;
      if (this.#shutdownTimer !== null) clearTimeout(this.#shutdownTimer);
      this.#shutdownTimer = this.#later(this.options.readyDelayMs, () => {
        this.#shutdownTimer = null;
        this.#csts = (this.#csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_COMPLETE;
      });
    } else if (shn(data) === 0 && shn(cc) !== 0) {
      if (this.#shutdownTimer !== null) clearTimeout(this.#shutdownTimer);
      this.#shutdownTimer = null;
      this.#csts &= ~NVME_CSTS_SHST_MASK;
    }
    if (en(data) && !en(cc)) {
      this.#setStateTimer(() => { this.#csts = this.#start() ? NVME_CSTS_RDY : NVME_CSTS_CFS; });
    } else if (!en(data) && en(cc)) {
      const csts = this.#csts;
      this.#controllerReset();
      // CSTS reads as before (RDY) until the reset settles `readyDelayMs` later, as a slow controller shows it.
      this.#csts = csts;
      this.#setStateTimer(() => { this.#csts = 0; });
    }
  }

  #setStateTimer(run: () => void): void {
    if (this.#stateTimer !== null) clearTimeout(this.#stateTimer);
    this.#stateTimer = this.#later(this.options.readyDelayMs, () => {
      this.#stateTimer = null;
      run();
    });
  }

  /** QEMU 7.2 nvme_start_ctrl: the checks, then the admin queue pair from AQA / ASQ / ACQ (§7.6.1). */
  #start(): boolean {
    const cc = this.#cc;
    const mps = (cc >>> NVME_CC_MPS_SHIFT) & NVME_CC_MPS_MASK;
    const pageSize = 2 ** (PAGE_SHIFT + mps);
    const asq = (this.#asq[1] as number) * TWO_32 + (this.#asq[0] as number);
    const acq = (this.#acq[1] as number) * TWO_32 + (this.#acq[0] as number);
    const asqs = (this.#aqa & NVME_AQA_ASQS_MASK) + 1;
    const acqs = ((this.#aqa >>> NVME_AQA_ACQS_SHIFT) & NVME_AQA_ACQS_MASK) + 1;
    const problem = asq === 0 || acq === 0 ? 'ASQ/ACQ is zero'
      : asq % pageSize !== 0 || acq % pageSize !== 0 ? 'ASQ/ACQ not aligned to CC.MPS'
        : mps < MPSMIN || mps > MPSMAX ? `CC.MPS ${mps} outside CAP.MPSMIN..MPSMAX`
          : ((cc >>> NVME_CC_IOSQES_SHIFT) & NVME_CC_IOES_MASK) !== NVME_SQES || ((cc >>> NVME_CC_IOCQES_SHIFT) & NVME_CC_IOES_MASK) !== NVME_CQES ? 'CC.IOSQES/IOCQES not 6/4'
            : asqs < 2 || acqs < 2 ? 'AQA.ASQS/ACQS below 1 (0\'s based)' : null;
    if (problem !== null) {
      this.recordError(`controller enable failed (CSTS.CFS): ${problem}`);
      return false;
    }
    this.#ctx.pageSize = pageSize;
    this.#ctx.sqs[0] = { id: 0, base: asq, size: asqs, head: 0, tail: 0, cqid: 0 };
    this.#ctx.cqs[0] = { id: 0, base: acq, size: acqs, head: 0, tail: 0, phase: 1, vector: 0, ien: true };
    return true;
  }

  #deleteQueues(): void {
    this.#ctx.sqs.fill(null);
    this.#ctx.cqs.fill(null);
    this.#ctx.ioQueuesCreated = false;
  }

  /** §3.1 doorbells: SQ y tail at 0x1000 + 8y, CQ y head at 0x1000 + 8y + 4 (DSTRD 0). */
  #doorbell(offset: number, value: number): void {
    const index = (offset - NVME_DOORBELL_BASE) >>> 2;
    const qid = index >>> 1;
    const isCq = (index & 1) === 1;
    const queue = qid < QUEUES ? (isCq ? this.#ctx.cqs[qid] : this.#ctx.sqs[qid]) : null;
    if ((this.#csts & NVME_CSTS_RDY) === 0 || (this.#csts & NVME_CSTS_CFS) !== 0 || queue === null || queue === undefined || value >= queue.size) {
      this.recordError(`doorbell write 0x${value.toString(16)} at 0x${offset.toString(16)} ignored: controller not ready, no such queue, or value ≥ queue size`);
      return;
    }
    if (isCq) {
      queue.head = value;
      if (queue.head === queue.tail) this.#clearIntxBit((queue as EmuNvmeCq).vector);
    } else {
      queue.tail = value;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.options.inlineCommands) this.#process();
    else if (this.#processTimer === null) this.#processTimer = this.#later(this.options.commandDelayMs, this.#process);
  }

  /** Fetch, execute, complete — every SQ, admin first, until empty or its CQ is full. */
  readonly #process = (): void => {
    this.#processTimer = null;
    const { sqs, cqs } = this.#ctx;
    for (const sq of sqs) {
      if (sq === null) continue;
      const cq = cqs[sq.cqid];
      if (cq === null || cq === undefined) continue;
      let posted = false;
      while (sq.head !== sq.tail && (cq.tail + 1) % cq.size !== cq.head) {
        if ((this.#csts & NVME_CSTS_RDY) === 0 || sqs[sq.id] !== sq) return;
        if (!this.#dmaRead(sq.base + sq.head * NVME_SQE_SIZE)) return this.#fatal(`command fetch from SQ ${sq.id} entry ${sq.head} blocked`);
        sq.head = (sq.head + 1) % sq.size;
        this.commandsExecuted++;
        const status = executeCommand(this.#ctx, sq.id, this.#entryView);
        const cqe = this.#cqeView;
        cqe.setUint32(0, this.#ctx.result, true);
        cqe.setUint32(4, 0, true);
        cqe.setUint32(8, (sq.id << 16 | sq.head) >>> 0, true);
        cqe.setUint32(12, (status << 17 | cq.phase << 16 | this.#entryView.getUint16(2, true)) >>> 0, true);
        if (!this.#ctx.dmaWrite(cq.base + cq.tail * NVME_CQE_SIZE, this.#cqe)) return this.#fatal(`completion write to CQ ${cq.id} entry ${cq.tail} blocked`);
        cq.tail = (cq.tail + 1) % cq.size;
        if (cq.tail === 0) cq.phase ^= 1;
        posted = true;
      }
      if (posted) this.#interrupt(cq);
    }
  };

  #dmaRead(iova: number): boolean {
    return this.busMasterEnabled() && this.dma.deviceRead(iova, this.#entry, 0, NVME_SQE_SIZE);
  }

  #fatal(what: string): void {
    this.recordError(`${what}${this.busMasterEnabled() ? ' by the IOMMU' : ': Bus Master Enable is clear'}; CSTS.CFS set`);
    this.#csts = NVME_CSTS_CFS;
  }

  /** §7.5.1 interrupts: MSI-X vector of the CQ, else INTx through INTMS. */
  #interrupt(cq: EmuNvmeCq): void {
    if (!cq.ien) return;
    if (this.msix?.enabled === true) {
      this.irq.raiseMsix(cq.vector);
    } else {
      this.#irqStatus = (this.#irqStatus | (1 << (cq.vector & 31))) >>> 0;
      this.#updateIntx();
    }
  }

  #clearIntxBit(vector: number): void {
    const busy = this.#ctx.cqs.some((cq) => cq !== null && cq.vector === vector && cq.head !== cq.tail);
    if (!busy) this.#irqStatus = (this.#irqStatus & ~(1 << (vector & 31))) >>> 0;
    this.#updateIntx();
  }

  #updateIntx(): void {
    // The framework keeps the pin deasserted while MSI-X is enabled (interrupts.ts).
    this.irq.setIntxLevel((this.#irqStatus & ~this.#intms) !== 0);
  }
}

/**
 * Creates an emulated QEMU NVMe controller. Bad options → RangeError.
 * While a trace records (lib/pci/trace-hook.ts), the device comes back as its recording view.
 */
export function createNvmeDevice(options: NvmeOptions = {}): NvmeDevice {
  return traceOpened(new NvmeDevice(checkNvmeOptions(options)));
}
