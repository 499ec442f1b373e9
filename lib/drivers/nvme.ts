/**
 * A small NVMe admin-queue driver written against `PciDevice` only, so the same code runs on the
 * emulated controller (lib/emu/nvme.ts) and on QEMU's NVMe over VFIO. Start reading at
 * `NvmeDriver.open`, then `enableController` (nvme-controller.ts, NVMe 1.4 §7.6.1) and `#command` /
 * `onInterrupt` (§7.2; the ring arithmetic is nvme-queue.ts).
 *
 * Completions are taken from the admin CQ when the completion interrupt arrives (MSI-X vector 0,
 * where the admin CQ signals — §7.5.1). How the interrupt reaches the driver is pluggable:
 * `interrupts: 'msix'` (default) attaches the driver's own `IrqLine` to MSI-X vector 0;
 * `interrupts: 'external'` leaves the hookup to the caller (a Zircon `zx_msi_create` interrupt, an
 * illumos `ddi_intr_add_handler` handler …), which calls `onInterrupt()` on the event loop whenever
 * vector 0 fires. A spurious call is harmless: it reaps nothing.
 *
 * Admin commands run one at a time (queued in call order). Each takes `{ timeoutMs, signal }`
 * (wait.ts): the command's own limit (default `commandTimeoutMs`) and an AbortSignal; a timed-out or
 * aborted command stops being waited for (its late completion is reaped and dropped, §4.6 CID).
 * Errors: DdkError 'ENODEV' (not an NVMe controller), 'ENOTSUP' (no NVM command set or no 4 KiB
 * pages), 'ETIMEDOUT' (a controller state or a completion did not come in time — the message says
 * which), 'ABORT_ERR' (the call's signal was aborted; name 'AbortError'), 'EIO' (the controller
 * reported Fatal Status or a command failed: the message carries SCT / SC), 'ECLOSED' (driver or
 * device closed while waiting, or used after close), 'EBUSY' (admin SQ full after commands timed
 * out); TypeError for a missing device or wrong-typed options, RangeError for out-of-range values.
 */
import type { DmaBuffer, PciDevice, PciRegion } from '../pci/device.ts';
import { IrqLine } from '../irq/irq-line.ts';
import { DdkError } from '../errors.ts';
import { checkWaitOptions, createWaiter, throwIfAborted } from './wait.ts';
import type { WaitOptions, Waiter } from './wait.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../pci/regs.ts';
import { VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import { NVME_ADMIN_OPC, NVME_CNS, NVME_CSTS_CFS, NVME_CSTS_RDY, NVME_FID, NVME_IDENTIFY_DATA_SIZE, NVME_REG } from '../pci/nvme-regs.ts';
import { type NvmeControllerInfo, type NvmeNamespaceInfo, parseIdentifyController, parseIdentifyNamespace } from './nvme-identify.ts';
import { NvmeQueuePair } from './nvme-queue.ts';
import { checkNvmeClass, enableController, readNvmeCapabilities, shutdownController, type NvmeRegisterAccess } from './nvme-controller.ts';
import { describeNvmeStatus, fillGetFeatures, fillIdentify, parseActiveNamespaces } from './nvme-commands.ts';

export type { NvmeControllerInfo, NvmeNamespaceInfo } from './nvme-identify.ts';
export type { WaitOptions } from './wait.ts';
export type NvmeInterruptMode = 'msix' | 'external';

export interface NvmeOpenOptions {
  /** 'msix' (default): the driver routes MSI-X vector 0 to its own IrqLine; 'external': call `onInterrupt()`. */
  interrupts?: NvmeInterruptMode;
  /** Admin SQ and CQ entries, 2–4096 (AQA is 12 bits, 0's based; default 32). */
  adminQueueEntries?: number;
  /** How long one admin command may take (default 10 s). */
  commandTimeoutMs?: number;
  /** How long CSTS.RDY / SHST transitions may take (default CAP.TO × 500 ms, §3.1.1). */
  readyTimeoutMs?: number;
  /** Aborts the bring-up (the waits for CSTS.RDY): open rejects with 'ABORT_ERR' and releases everything. */
  signal?: AbortSignal;
}

interface Pending {
  cid: number;
  what: string;
  waiter: Waiter<{ dw0: number }>;
}

const DEFAULT_ENTRIES = 32;
const MAX_ENTRIES = 4096;
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

function checkMs(name: string, value: number | undefined): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
    throw new RangeError(`NvmeDriver.open: ${name} must be a finite number > 0, got ${String(value)}`);
  }
}

export class NvmeDriver {
  readonly device: PciDevice;
  readonly mode: NvmeInterruptMode;
  /** CAP as read at open (§3.1.1). */
  readonly cap: bigint;
  readonly #bar: PciRegion;
  #line: IrqLine | null;
  readonly #commandTimeoutMs: number;
  /** The registers as the bring-up / shutdown steps reach them (nvme-controller.ts). */
  readonly #ctrl: NvmeRegisterAccess;
  readonly #admin: NvmeQueuePair;
  readonly #data: DmaBuffer;
  #nextCid = 0;
  #pending: Pending | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | null = null;
  #released = false;
  readonly #unlistenClose: () => void;
  /** onInterrupt() calls (interrupt deliveries, or external calls). */
  interrupts = 0;
  /** Completion entries consumed. */
  completions = 0;

  /**
   * Probes `device` (class 01:08:02 NVM Express), enables Memory Space and Bus Master (vfio-pci
   * leaves BME off), routes the interrupt, allocates the admin queues and brings the controller up
   * (§7.6.1 steps 1–5). Resolves when CSTS.RDY = 1.
   */
  static async open(device: PciDevice, options: NvmeOpenOptions = {}): Promise<NvmeDriver> {
    if (device === null || typeof device !== 'object' || !('config' in device) || !('irq' in device)) {
      throw new TypeError(`NvmeDriver.open: device must be a PciDevice (from openVfioDevice or createNvmeDevice), got ${device === null ? 'null' : typeof device}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError('NvmeDriver.open: options must be an object');
    const { signal } = checkWaitOptions('NvmeDriver.open', { signal: options.signal });
    const mode = options.interrupts ?? 'msix';
    if (mode !== 'msix' && mode !== 'external') throw new RangeError(`NvmeDriver.open: interrupts must be 'msix' or 'external', got ${String(mode)}`);
    const entries = options.adminQueueEntries ?? DEFAULT_ENTRIES;
    if (!Number.isInteger(entries) || entries < 2 || entries > MAX_ENTRIES) throw new RangeError(`NvmeDriver.open: adminQueueEntries must be an integer in 2..${MAX_ENTRIES}, got ${String(entries)}`);
    checkMs('commandTimeoutMs', options.commandTimeoutMs);
    checkMs('readyTimeoutMs', options.readyTimeoutMs);
    checkNvmeClass(device);
    throwIfAborted('NvmeDriver.open', signal);
    const driver = new NvmeDriver(device, mode, entries, options);
    try {
      await enableController(driver.#ctrl, driver.#admin, signal);
    } catch (error) {
      driver.#release();
      throw error;
    }
    return driver;
  }

  private constructor(device: PciDevice, mode: NvmeInterruptMode, entries: number, options: NvmeOpenOptions) {
    this.device = device;
    this.mode = mode;
    device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const bar = device.bar(0);
    this.#bar = bar;
    const caps = readNvmeCapabilities(device, bar);
    this.cap = caps.cap;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#ctrl = { bdf: device.bdf, readyTimeoutMs: options.readyTimeoutMs ?? caps.readyTimeoutMs, regs: () => this.#regs() };
    this.#admin = new NvmeQueuePair(device, bar, 0, Math.min(entries, caps.maxQueueEntries), caps.dstrd);
    this.#data = device.dma.alloc(NVME_IDENTIFY_DATA_SIZE);
    this.#unlistenClose = device.onClose(() => this.#fail(new DdkError('ECLOSED', `${device.bdf} was closed while the NVMe driver used it`)));
    this.#line = mode === 'msix' ? new IrqLine(`nvme ${device.bdf} admin`) : null;
    if (this.#line === null) return;
    this.#line.setConsumer({ fire: () => this.onInterrupt(), detached: () => this.#fail(new DdkError('ECLOSED', 'the NVMe interrupt was detached')) });
    try {
      // §7.5.1: the admin CQ interrupts on vector 0.
      device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, this.#line);
    } catch (error) {
      this.#line.setConsumer(null);
      this.#line = null;
      this.#release();
      throw error;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Admin commands being waited for (0 or 1); 0 after a timeout or abort — nothing is left behind. */
  get pendingWaits(): number {
    return this.#pending === null ? 0 : 1;
  }

  /** The driver's own line on MSI-X vector 0 ('msix' mode; null for 'external'): its counters show deliveries. */
  get interruptLine(): IrqLine | null {
    return this.#line;
  }

  /** §5.15.2.2 Identify Controller (CNS 1). */
  async identifyController(options?: WaitOptions): Promise<NvmeControllerInfo> {
    const wait = checkWaitOptions('identifyController', options);
    return parseIdentifyController(await this.#identify(NVME_CNS.CONTROLLER, 0, 'Identify Controller', wait));
  }

  /** §5.15.2.1 Identify Namespace (CNS 0). An inactive NSID reads as zeros (size 0). */
  async identifyNamespace(nsid: number, options?: WaitOptions): Promise<NvmeNamespaceInfo> {
    if (!Number.isInteger(nsid) || nsid < 1 || nsid >= 0xffff_ffff) throw new RangeError(`identifyNamespace: nsid must be in 1..0xfffffffe, got ${String(nsid)}`);
    const wait = checkWaitOptions('identifyNamespace', options);
    return parseIdentifyNamespace(nsid, await this.#identify(NVME_CNS.NAMESPACE, nsid, `Identify Namespace ${nsid}`, wait));
  }

  /** §5.15.2.3 Active Namespace ID list (CNS 2), from NSID 1. */
  async activeNamespaces(options?: WaitOptions): Promise<number[]> {
    const wait = checkWaitOptions('activeNamespaces', options);
    return parseActiveNamespaces(await this.#identify(NVME_CNS.ACTIVE_NS_LIST, 0, 'Identify Active Namespace List', wait));
  }

  /** §5.21.1.7 Number of Queues (Get Features): I/O SQs and CQs allocated, as counts (not 0's based). */
  async numberOfQueues(options?: WaitOptions): Promise<{ submission: number; completion: number }> {
    const wait = checkWaitOptions('numberOfQueues', options);
    const { dw0 } = await this.#command(NVME_ADMIN_OPC.GET_FEATURES, 'Get Features (Number of Queues)', (sqe) => fillGetFeatures(sqe, NVME_FID.NUMBER_OF_QUEUES), wait);
    return { submission: (dw0 & 0xffff) + 1, completion: (dw0 >>> 16) + 1 };
  }

  /** §7.3.2 Controller Reset (CC.EN 1→0) and re-initialization (§7.6.1); queued after running commands. */
  reset(): Promise<void> {
    return this.#serialize(() => enableController(this.#ctrl, this.#admin));
  }

  /**
   * §7.6.2 normal shutdown (CC.SHN = 01b, wait CSTS.SHST = 10b), then detaches the interrupt and frees
   * the queues. Waits for queued commands first. Idempotent; always releases, then rethrows a shutdown
   * error ('ETIMEDOUT', 'EIO').
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#rejectPending(new DdkError('ECLOSED', 'the NVMe driver was closed while a command was pending'));
    this.#closing = this.#serialize(async () => {
      if (this.#released || this.device.closed) return;
      try {
        if (!this.#closed) await shutdownController(this.#ctrl);
      } finally {
        this.#release();
      }
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * The admin CQ's interrupt (§7.5.1): consume every entry whose Phase Tag matches the expected phase
   * (§4.6), then tell the controller with one CQ head doorbell write. Call on the event loop.
   */
  onInterrupt(): void {
    if (this.#closed || this.device.closed) return;
    this.interrupts++;
    this.completions += this.#admin.reap(this.#onCompletion);
  }

  /** One reaped entry: the pending command's, or a late one of a command no longer waited for (dropped). */
  readonly #onCompletion = (cid: number, status: number, dw0: number): void => {
    const pending = this.#pending;
    if (pending === null || pending.cid !== cid) return;
    if (status === 0) pending.waiter.resolve({ dw0 });
    else pending.waiter.reject(this.#statusError(pending.what, status));
  };

  async #identify(cns: number, nsid: number, what: string, wait: WaitOptions): Promise<Uint8Array> {
    await this.#command(NVME_ADMIN_OPC.IDENTIFY, what, (sqe) => {
      this.#data.bytes.fill(0);
      fillIdentify(sqe, cns, nsid, this.#data.iova);
    }, wait);
    return this.#data.bytes.slice(0, NVME_IDENTIFY_DATA_SIZE);
  }

  /** §7.2 Submit: fill the SQ entry at the tail, advance the tail, ring the SQ 0 tail doorbell, await completion. */
  #command(opcode: number, what: string, fill: (sqe: DataView) => void, wait: WaitOptions = {}): Promise<{ dw0: number }> {
    return this.#serialize(() => {
      const bar = this.#regs();
      // Aborted while queued behind another command: never submit it.
      throwIfAborted(`${this.device.bdf}: ${what}`, wait.signal);
      const csts = bar.read32(NVME_REG.CSTS);
      if ((csts & NVME_CSTS_RDY) === 0 || (csts & NVME_CSTS_CFS) !== 0) {
        throw new DdkError('EIO', `${this.device.bdf}: controller not ready (CSTS 0x${csts.toString(16)}) for ${what}: reset() it`);
      }
      const admin = this.#admin;
      if (admin.full) {
        throw new DdkError('EBUSY', `${this.device.bdf}: admin SQ full (head ${admin.sqHead}): the controller stopped fetching commands; reset() it`);
      }
      const cid = this.#nextCid;
      this.#nextCid = (cid + 1) & 0xffff;
      const waiter = createWaiter<{ dw0: number }>(`${this.device.bdf}: ${what}`, { timeoutMs: wait.timeoutMs ?? this.#commandTimeoutMs, ...(wait.signal === undefined ? {} : { signal: wait.signal }) },
        (ms) => new DdkError('ETIMEDOUT', `${this.device.bdf}: ${what} (opcode 0x${opcode.toString(16)}, CID ${cid}) did not complete within `
          + `${ms} ms: no entry with phase tag ${admin.phase} at admin CQ head ${admin.cqHead} after ${this.interrupts} interrupt(s)`),
        () => {
          if (this.#pending?.cid === cid) this.#pending = null;
        });
      this.#pending = { cid, what, waiter };
      admin.submit(opcode, cid, fill);
      return waiter.promise;
    });
  }

  #serialize<T>(step: () => T | Promise<T>): Promise<T> {
    const run = (): T | Promise<T> => step();
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  #statusError(what: string, status: number): DdkError {
    return new DdkError('EIO', `${this.device.bdf}: ${what} failed with ${describeNvmeStatus(status)} (NVMe 1.4 §4.6.1.2)`);
  }

  #regs(): PciRegion {
    if (this.#closed) throw new DdkError('ECLOSED', 'the NVMe driver is closed: open it again');
    return this.#bar;
  }

  /** Rejects the command in flight and marks the driver closed (device gone or interrupt detached). */
  #fail(error: DdkError): void {
    this.#rejectPending(error);
    this.#closed = true;
  }

  #rejectPending(error: DdkError): void {
    this.#pending?.waiter.reject(error);
  }

  /** Detaches the interrupt, frees the DMA buffers; nothing of the driver stays on the device. */
  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#fail(new DdkError('ECLOSED', 'the NVMe driver was closed while a command was pending'));
    this.#unlistenClose();
    if (!this.device.closed) {
      // Only our own routing: someone may have re-routed vector 0 after detaching ours.
      if (this.#line?.attached === true) this.device.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, 0);
      this.#admin.free();
      this.#data.free();
    }
    this.#line?.setConsumer(null);
  }
}
