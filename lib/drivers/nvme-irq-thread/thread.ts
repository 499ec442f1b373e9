/**
 * The NVMe admin queue serviced the way a Fuchsia NVMe driver services it (src/devices/block/drivers/
 * nvme/nvme.cc: IrqLoop), by an IRQ thread that blocks in zx_interrupt_wait. Run it in a Worker —
 * `run()` blocks its thread — on a device opened in that Worker.
 *
 * `open()` (on the event loop, before anything blocks): probe, Memory Space + Bus Master, then the
 * interrupt through Fuchsia's PCI protocol as the driver would get it — SetInterruptMode(MSI_X, 1),
 * MapInterrupt(0): the admin CQ signals on vector 0 (§7.5.1) — and the controller brought up with an
 * admin queue pair of `queueEntries` (nvme-controller.ts, §7.6.1).
 *
 * `run()` loops: zx_interrupt_wait → consume every new completion entry by its phase tag and ring
 * the CQ head doorbell (nvme-queue.ts, §4.6 / §7.2) → report each completion → submit what waits →
 * wait again. Without a port the next zx_interrupt_wait is the acknowledgement (A.8: NEEDACK → a
 * fire during servicing makes that wait return at once, so nothing is lost); zx_interrupt_ack is for
 * port-bound interrupts only (BAD_STATE here). Commands are submitted with `submit()` — from the
 * mailbox (irq-thread-mailbox.ts) while the thread is blocked, as another CPU would ring the doorbell —
 * each in its own CID slot with its own data page, up to entries − 1 in flight, the rest queued.
 * `stop()` zx_interrupt_destroy()s the interrupt: the wait returns ZX_ERR_CANCELED and `run()`
 * returns its statistics; a device closed meanwhile ends it the same way.
 *
 * Emulated controllers need `inlineCommands: true` (lib/emu/nvme-options.ts): a deferred model's
 * timer never runs on a blocked thread. Errors from open: those of nvme-controller.ts, TypeError /
 * RangeError for bad options, DdkError 'EIO' naming the PCI protocol call and its status.
 */
import type { DmaBuffer, PciDevice, PciRegion } from '../../pci/device.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../../pci/regs.ts';
import { NVME_ADMIN_OPC, NVME_CNS, NVME_IDENTIFY_DATA_SIZE } from '../../pci/nvme-regs.ts';
import { DdkError } from '../../errors.ts';
import {
  PCI_INTERRUPT_MODE_DISABLED, PCI_INTERRUPT_MODE_MSI_X, Pci, ZX_OK, zx_clock_get_monotonic, zx_handle_close,
  zx_interrupt_destroy, zx_status_get_string,
} from '../../zircon/index.ts';
import { zx_interrupt_wait } from '../../zircon/blocking/index.ts';
import { NvmeQueuePair } from '../nvme-queue.ts';
import { checkNvmeClass, enableController, readNvmeCapabilities, shutdownController, type NvmeRegisterAccess } from '../nvme-controller.ts';
import { fillGetFeatures, fillIdentify, parseActiveNamespaces } from '../nvme-commands.ts';
import { parseIdentifyController, parseIdentifyNamespace } from '../nvme-identify.ts';
import type { NvmeThreadCommand, NvmeThreadEvent, NvmeThreadStats } from './protocol.ts';

export interface NvmeIrqThreadOptions {
  /** Admin SQ / CQ entries, 2–4096 (capped by CAP.MQES; default 32): up to entries − 1 commands in flight. */
  queueEntries?: number;
  /** How long CSTS.RDY / SHST transitions may take (default CAP.TO). */
  readyTimeoutMs?: number;
}

/** One CID: the request it carries while busy. Made once per CID, reused. */
interface Slot {
  busy: boolean;
  id: number;
  command: NvmeThreadCommand;
  submittedAt: bigint;
}

const DEFAULT_ENTRIES = 32;
const MAX_ENTRIES = 4096;
const PAGE = NVME_IDENTIFY_DATA_SIZE;
const IDLE: NvmeThreadCommand = { kind: 'identify-controller' };

function check(status: number, call: string, bdf: string): void {
  if (status !== ZX_OK) throw new DdkError('EIO', `${bdf}: ${call} returned ${zx_status_get_string(status)}`);
}

export class NvmeIrqThread {
  readonly device: PciDevice;
  readonly queueEntries: number;
  readonly #bar: PciRegion;
  readonly #ctrl: NvmeRegisterAccess;
  readonly #admin: NvmeQueuePair;
  readonly #data: DmaBuffer;
  readonly #pci: Pci;
  readonly #slots: Slot[];
  readonly #free: number[];
  readonly #backlog: { id: number; command: NvmeThreadCommand }[] = [];
  readonly #timestamp = { value: 0n };
  #irq = 0;
  #filling = 0;
  #wokeAt = 0n;
  #post: (event: NvmeThreadEvent) => void = () => {};
  #running = false;
  #closed = false;
  #submitted = 0;
  #completed = 0;
  #wakes = 0;
  #spurious = 0;
  #unexpected = 0;

  /** Probes and brings up `device` with MSI-X vector 0 mapped through the PCI protocol (see the file comment). */
  static async open(device: PciDevice, options: NvmeIrqThreadOptions = {}): Promise<NvmeIrqThread> {
    if (device === null || typeof device !== 'object' || !('config' in device)) throw new TypeError('NvmeIrqThread.open: device must be a PciDevice');
    if (options === null || typeof options !== 'object') throw new TypeError('NvmeIrqThread.open: options must be an object');
    const entries = options.queueEntries ?? DEFAULT_ENTRIES;
    if (!Number.isInteger(entries) || entries < 2 || entries > MAX_ENTRIES) throw new RangeError(`NvmeIrqThread.open: queueEntries must be an integer in 2..${MAX_ENTRIES}, got ${String(entries)}`);
    const ready = options.readyTimeoutMs;
    if (ready !== undefined && !(typeof ready === 'number' && Number.isFinite(ready) && ready > 0)) throw new RangeError(`NvmeIrqThread.open: readyTimeoutMs must be a finite number > 0, got ${String(ready)}`);
    checkNvmeClass(device);
    const thread = new NvmeIrqThread(device, entries, ready);
    try {
      await thread.#start();
    } catch (error) {
      await thread.close().catch(() => {});
      throw error;
    }
    return thread;
  }

  private constructor(device: PciDevice, entries: number, readyTimeoutMs: number | undefined) {
    this.device = device;
    device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    this.#bar = device.bar(0);
    const caps = readNvmeCapabilities(device, this.#bar);
    this.queueEntries = Math.min(entries, caps.maxQueueEntries);
    this.#ctrl = { bdf: device.bdf, readyTimeoutMs: readyTimeoutMs ?? caps.readyTimeoutMs, regs: () => this.#regs() };
    this.#admin = new NvmeQueuePair(device, this.#bar, 0, this.queueEntries, caps.dstrd);
    const depth = this.queueEntries - 1;
    try {
      this.#data = device.dma.alloc(depth * PAGE);
    } catch (error) {
      this.#admin.free();
      throw error;
    }
    this.#slots = Array.from({ length: depth }, () => ({ busy: false, id: 0, command: IDLE, submittedAt: 0n }));
    this.#free = Array.from({ length: depth }, (_, i) => depth - 1 - i);
    this.#pci = new Pci(device);
  }

  /** Commands in flight (submitted, not completed). */
  get inFlight(): number {
    return this.#slots.length - this.#free.length;
  }

  async #start(): Promise<void> {
    const bdf = this.device.bdf;
    check(this.#pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 1), 'Pci.SetInterruptMode(MSI_X, 1)', bdf);
    const irq = { value: 0 };
    check(this.#pci.MapInterrupt(0, irq), 'Pci.MapInterrupt(0)', bdf);
    this.#irq = irq.value;
    await enableController(this.#ctrl, this.#admin);
  }

  /** Queues a command and submits what fits. Callable from a mailbox callback while `run()` is blocked. */
  submit(id: number, command: NvmeThreadCommand): void {
    if (this.#closed) throw new DdkError('ECLOSED', 'NvmeIrqThread: closed');
    this.#backlog.push({ id, command });
    this.#pump();
  }

  /** Ends `run()`: the interrupt is destroyed, so the blocked zx_interrupt_wait returns ZX_ERR_CANCELED. */
  stop(): void {
    if (this.#irq !== 0) zx_interrupt_destroy(this.#irq);
  }

  /**
   * Blocks this thread servicing the admin CQ until `stop()` or the device closes; `post` gets each
   * completion, then an `abandoned` event per command that never completed. Returns the statistics.
   */
  run(post: (event: NvmeThreadEvent) => void): NvmeThreadStats {
    if (this.#closed) throw new DdkError('ECLOSED', 'NvmeIrqThread: closed');
    if (this.#running) throw new DdkError('EBUSY', 'NvmeIrqThread: run() is already running on this thread');
    this.#running = true;
    this.#post = post;
    let status: number;
    try {
      this.#pump();
      for (;;) {
        status = zx_interrupt_wait(this.#irq, this.#timestamp);
        if (status !== ZX_OK) break;
        this.#wokeAt = zx_clock_get_monotonic();
        this.#wakes++;
        if (this.#admin.reap(this.#onEntry) === 0) this.#spurious++;
        this.#pump();
      }
    } finally {
      this.#running = false;
    }
    return { ...this.#abandonAll(), endStatus: zx_status_get_string(status) };
  }

  /** Interrupt off (PCI protocol), controller shut down (§7.6.2), queues freed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#irq !== 0) zx_handle_close(this.#irq);
    this.#irq = 0;
    if (this.#pci.is_valid()) this.#pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0);
    if (this.device.closed) return;
    try {
      await shutdownController(this.#ctrl);
    } finally {
      this.#admin.free();
      this.#data.free();
    }
  }

  #regs(): PciRegion {
    if (this.device.closed) throw new DdkError('ECLOSED', `${this.device.bdf} was closed under the NVMe IRQ thread`);
    return this.#bar;
  }

  /** Submits queued commands while a CID and an SQ entry are free. */
  #pump(): void {
    const backlog = this.#backlog;
    while (backlog.length > 0 && this.#free.length > 0 && !this.#admin.full && !this.device.closed) {
      const request = backlog.shift() as { id: number; command: NvmeThreadCommand };
      const cid = this.#free.pop() as number;
      const slot = this.#slots[cid] as Slot;
      slot.busy = true;
      slot.id = request.id;
      slot.command = request.command;
      this.#submitted++;
      this.#filling = cid;
      const opcode = request.command.kind === 'get-features' ? NVME_ADMIN_OPC.GET_FEATURES : NVME_ADMIN_OPC.IDENTIFY;
      slot.submittedAt = zx_clock_get_monotonic();
      this.#admin.submit(opcode, cid, this.#fillSlot);
    }
  }

  readonly #fillSlot = (sqe: DataView): void => {
    const cid = this.#filling;
    const command = (this.#slots[cid] as Slot).command;
    if (command.kind === 'get-features') {
      fillGetFeatures(sqe, command.fid);
      return;
    }
    this.#page(cid).fill(0);
    const iova = this.#data.iova + BigInt(cid * PAGE);
    if (command.kind === 'identify-controller') fillIdentify(sqe, NVME_CNS.CONTROLLER, 0, iova);
    else if (command.kind === 'identify-namespace') fillIdentify(sqe, NVME_CNS.NAMESPACE, command.nsid, iova);
    else fillIdentify(sqe, NVME_CNS.ACTIVE_NS_LIST, 0, iova);
  };

  #page(cid: number): Uint8Array {
    return this.#data.bytes.subarray(cid * PAGE, (cid + 1) * PAGE);
  }

  /** One completion entry reaped after a wake: report it against its CID's request, free the CID. */
  readonly #onEntry = (cid: number, status: number, dw0: number): void => {
    const slot = this.#slots[cid];
    if (slot === undefined || !slot.busy) {
      this.#unexpected++;
      return;
    }
    slot.busy = false;
    this.#free.push(cid);
    this.#completed++;
    const command = slot.command;
    let result = null;
    if (status === 0 && command.kind !== 'get-features') {
      const page = this.#page(cid);
      result = command.kind === 'identify-controller' ? parseIdentifyController(page)
        : command.kind === 'identify-namespace' ? parseIdentifyNamespace(command.nsid, page) : parseActiveNamespaces(page);
    }
    // Submitted after this wake (from a callback of this very pass) and already here: seen now, not at the wake.
    const seenAt = slot.submittedAt > this.#wokeAt ? zx_clock_get_monotonic() : this.#wokeAt;
    this.#post({ completion: { id: slot.id, cid, status, dw0, result, latencyNs: Number(seenAt - slot.submittedAt), wake: this.#wakes } });
  };

  /** After the loop: every command in flight or queued is reported abandoned. */
  #abandonAll(): Omit<NvmeThreadStats, 'endStatus'> {
    let abandoned = 0;
    this.#slots.forEach((slot, cid) => {
      if (!slot.busy) return;
      slot.busy = false;
      this.#free.push(cid);
      abandoned++;
      this.#post({ abandoned: { id: slot.id } });
    });
    for (const request of this.#backlog.splice(0)) {
      abandoned++;
      this.#post({ abandoned: { id: request.id } });
    }
    return {
      submitted: this.#submitted, completed: this.#completed, wakes: this.#wakes, spuriousWakes: this.#spurious,
      unexpected: this.#unexpected, abandoned,
    };
  }
}
