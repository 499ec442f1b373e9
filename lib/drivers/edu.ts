/**
 * A driver for QEMU's `edu` device, written against `PciDevice` only, so the same code runs on the
 * emulated edu (lib/emu/edu.ts) and on a real one over VFIO. Start reading at `EduDriver.open`.
 *
 * Everything that waits returns a Promise; interrupts are routed through `device.irq` to an `IrqLine`
 * (MSI vector 0, or INTx with VFIO's automask + `unmaskIntx`). The device has one factorial engine and
 * one DMA engine, so operations of each kind run one at a time (queued in call order).
 *
 * Every wait for a completion interrupt is bounded: `timeoutMs` (per driver at open, default 10 s, or
 * per call) and an optional AbortSignal per call (wait.ts); the waiter is removed either way, and a
 * late interrupt is acknowledged and ignored.
 *
 * Errors: DdkError 'ENODEV' (not an edu), 'ECLOSED' (pending and later calls after close), 'EIO'
 * (the device reported something impossible), 'ETIMEDOUT' (the completion interrupt did not come in
 * time), 'ABORT_ERR' (the call's signal was aborted; name 'AbortError'); TypeError for a missing
 * device or a wrong-typed argument, RangeError for an out-of-range one.
 */
import type { DmaBuffer, PciDevice, PciRegion } from '../pci/device.ts';
import { IrqLine } from '../irq/irq-line.ts';
import { DdkError } from '../errors.ts';
import { checkWaitOptions, createWaiter, throwIfAborted } from './wait.ts';
import type { WaitOptions, Waiter } from './wait.ts';
import {
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_DEVICE_ID, PCI_VENDOR_ID,
} from '../pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../pci/vfio-indices.ts';
import {
  EDU_DEFAULT_DMA_MASK, EDU_DEVICE_ID, EDU_DMA_DIR, EDU_DMA_IRQ, EDU_DMA_IRQ_ENABLE, EDU_DMA_MAX_SAFE, EDU_DMA_RUN,
  EDU_DMA_START, EDU_FACT_IRQ, EDU_REG, EDU_STATUS_COMPUTING, EDU_STATUS_IRQFACT, EDU_VENDOR_ID,
} from '../pci/edu-regs.ts';

export type EduInterruptMode = 'msi' | 'intx';

export interface EduOpenOptions {
  /** How completion is signalled (default 'msi'; spec/edu.md D.3). */
  interrupts?: EduInterruptMode;
  /** How long one completion interrupt may take, in ms (default 10 s; Infinity: no limit). A call's own `timeoutMs` wins. */
  timeoutMs?: number;
}

export type { WaitOptions } from './wait.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
const COMPLETION_IRQ = { fact: 'FACT_IRQ (0x1)', dma: 'DMA_IRQ (0x100)' } as const;

/** `(offset, options)` or `(options)`: the DMA calls take either after the data. */
function offsetAndOptions(where: string, offset: number | WaitOptions | undefined, options: WaitOptions | undefined): [number, WaitOptions] {
  if (typeof offset === 'object' && offset !== null) return [0, checkWaitOptions(where, offset)];
  return [offset ?? 0, checkWaitOptions(where, options)];
}

/** The PciDevice argument, or a TypeError naming it (not "Cannot read properties of null"). */
function checkDevice(where: string, device: unknown): PciDevice {
  if (device === null || typeof device !== 'object' || !('config' in device) || !('irq' in device)) {
    throw new TypeError(`${where}: device must be a PciDevice (from openVfioDevice or createEduDevice), got ${device === null ? 'null' : typeof device}`);
  }
  return device as PciDevice;
}

export class EduDriver {
  readonly device: PciDevice;
  readonly mode: EduInterruptMode;
  readonly #bar: PciRegion;
  readonly #line: IrqLine;
  readonly #timeoutMs: number;
  #factWaiter: Waiter<void> | null = null;
  #dmaWaiter: Waiter<void> | null = null;
  #factQueue: Promise<unknown> = Promise.resolve();
  #dmaQueue: Promise<unknown> = Promise.resolve();
  #scratch: DmaBuffer | null = null;
  #closed = false;
  /** Interrupts handled (one per line delivery). */
  interrupts = 0;

  /**
   * Probes and opens `device`: checks vendor/device IDs (D.1), enables Memory Space and Bus Master
   * (D.6/D.7: vfio-pci sets neither BME nor, after some firmware, MSE), narrows the DMA mask to edu's
   * 28 bits (D.5), and routes the interrupt.
   */
  static open(device: PciDevice, options: EduOpenOptions = {}): EduDriver {
    checkDevice('EduDriver.open', device);
    if (options === null || typeof options !== 'object') throw new TypeError('EduDriver.open: options must be an object');
    const mode = options.interrupts ?? 'msi';
    if (mode !== 'msi' && mode !== 'intx') throw new RangeError(`EduDriver.open: interrupts must be 'msi' or 'intx', got ${String(mode)}`);
    checkWaitOptions('EduDriver.open', { timeoutMs: options.timeoutMs });
    const vendor = device.config.read16(PCI_VENDOR_ID);
    const deviceId = device.config.read16(PCI_DEVICE_ID);
    if (vendor !== EDU_VENDOR_ID || deviceId !== EDU_DEVICE_ID) {
      throw new DdkError('ENODEV', `${device.bdf} is ${vendor.toString(16)}:${deviceId.toString(16)}, not an edu (1234:11e8)`);
    }
    return new EduDriver(device, mode, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  private constructor(device: PciDevice, mode: EduInterruptMode, timeoutMs: number) {
    this.device = device;
    this.mode = mode;
    this.#timeoutMs = timeoutMs;
    let command = device.config.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    if (mode === 'intx') command &= ~PCI_COMMAND_INTX_DISABLE;
    device.config.write16(PCI_COMMAND, command);
    if (device.dma.mask > EDU_DEFAULT_DMA_MASK) device.dma.setMask(EDU_DEFAULT_DMA_MASK);
    this.#bar = device.bar(0);
    this.#line = new IrqLine(`edu ${device.bdf}`);
    this.#line.setConsumer({ fire: () => this.#onInterrupt(), detached: () => this.#failWaiters() });
    device.irq.attach(mode === 'msi' ? VFIO_PCI_MSI_IRQ_INDEX : VFIO_PCI_INTX_IRQ_INDEX, 0, this.#line);
  }

  /** D.2 identification 0xRRrr00ED: major RR, minor rr. */
  version(): { major: number; minor: number } {
    const id = this.#regs().read32(EDU_REG.ID);
    return { major: id >>> 24, minor: (id >>> 16) & 0xff };
  }

  /** D.2 liveness: the device stores the bitwise NOT of what is written. */
  checkLiveness(value = 0x12345678): boolean {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`checkLiveness: value must be a u32, got ${String(value)}`);
    const bar = this.#regs();
    bar.write32(EDU_REG.LIVENESS, value);
    return bar.read32(EDU_REG.LIVENESS) === (~value >>> 0);
  }

  /** D.4: n! mod 2^32, completion signalled by FACT_IRQ (status bit 0x80 set first). */
  factorial(n: number, options?: WaitOptions): Promise<number> {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return Promise.reject(new RangeError(`factorial: n must be a u32, got ${String(n)}`));
    let wait: WaitOptions;
    try {
      wait = checkWaitOptions('factorial', options);
    } catch (error) {
      return Promise.reject(error);
    }
    const what = `factorial(${n})`;
    const run = async (): Promise<number> => {
      const bar = this.#regs();
      // Aborted while queued behind another factorial: never start it.
      throwIfAborted(what, wait.signal);
      if ((bar.read32(EDU_REG.STATUS) & EDU_STATUS_COMPUTING) !== 0) throw new DdkError('EIO', 'edu is still computing a factorial this driver did not start (or one that timed out)');
      bar.write32(EDU_REG.STATUS, EDU_STATUS_IRQFACT);
      const done = this.#wait('fact', what, wait);
      bar.write32(EDU_REG.FACTORIAL, n);
      await done;
      return this.#regs().read32(EDU_REG.FACTORIAL);
    };
    const result = this.#factQueue.then(run, run);
    this.#factQueue = result.catch(() => {});
    return result;
  }

  /** D.5 RAM → device buffer at `windowOffset`; ≤ 4095 bytes in all (D.7). Options: `(data, offset, options)` or `(data, options)`. */
  writeToDevice(data: Uint8Array, windowOffset?: number | WaitOptions, options?: WaitOptions): Promise<void> {
    if (!(data instanceof Uint8Array)) return Promise.reject(new TypeError(`writeToDevice: data must be a Uint8Array, got ${data === null ? 'null' : typeof data}`));
    let offset: number;
    let wait: WaitOptions;
    try {
      [offset, wait] = offsetAndOptions('writeToDevice', windowOffset, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const bad = this.#checkTransfer(data.length, offset);
    if (bad) return Promise.reject(bad);
    return this.#queueDma(`DMA of ${data.length} bytes to the device`, wait, async (buffer, what) => {
      buffer.bytes.set(data);
      await this.#transfer(buffer.iova, BigInt(EDU_DMA_START + offset), data.length, 0, what, wait);
    });
  }

  /** D.5 device buffer at `windowOffset` → RAM; returns a copy of the bytes. */
  readFromDevice(length: number, windowOffset?: number | WaitOptions, options?: WaitOptions): Promise<Uint8Array> {
    let offset: number;
    let wait: WaitOptions;
    try {
      [offset, wait] = offsetAndOptions('readFromDevice', windowOffset, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const bad = this.#checkTransfer(length, offset);
    if (bad) return Promise.reject(bad);
    return this.#queueDma(`DMA of ${length} bytes from the device`, wait, async (buffer, what) => {
      buffer.bytes.fill(0, 0, length);
      await this.#transfer(BigInt(EDU_DMA_START + offset), buffer.iova, length, EDU_DMA_DIR, what, wait);
      return buffer.bytes.slice(0, length);
    });
  }

  /** Host → device → host through the 4 KiB window; resolves with what came back. The timeout applies to each transfer. */
  async dmaRoundTrip(data: Uint8Array, windowOffset?: number | WaitOptions, options?: WaitOptions): Promise<Uint8Array> {
    const [offset, wait] = offsetAndOptions('dmaRoundTrip', windowOffset, options);
    await this.writeToDevice(data, offset, wait);
    return this.readFromDevice(data.length, offset, wait);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Disables the interrupt, frees the DMA buffer; pending operations reject with 'ECLOSED'. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failWaiters();
    if (!this.device.closed) {
      this.device.irq.disable(this.mode === 'msi' ? VFIO_PCI_MSI_IRQ_INDEX : VFIO_PCI_INTX_IRQ_INDEX);
      this.#scratch?.free();
    }
    this.#scratch = null;
    this.#line.setConsumer(null);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #regs(): PciRegion {
    if (this.#closed) throw new DdkError('ECLOSED', 'the edu driver is closed: open it again');
    return this.#bar;
  }

  #checkTransfer(length: number | undefined, windowOffset: number): RangeError | null {
    if (!Number.isInteger(windowOffset) || windowOffset < 0) return new RangeError(`DMA window offset must be an integer ≥ 0, got ${String(windowOffset)}`);
    if (!Number.isInteger(length) || (length as number) < 1 || windowOffset + (length as number) > EDU_DMA_MAX_SAFE) {
      return new RangeError(`DMA: offset + length must be in [1, ${EDU_DMA_MAX_SAFE}] (spec/edu.md D.7), got ${windowOffset} + ${String(length)}`);
    }
    return null;
  }

  #queueDma<T>(what: string, wait: WaitOptions, step: (buffer: DmaBuffer, what: string) => Promise<T>): Promise<T> {
    const run = (): Promise<T> => {
      this.#regs();
      throwIfAborted(what, wait.signal);
      // One page, allocated below the 28-bit mask on first use and reused (D.5, D.6).
      this.#scratch ??= this.device.dma.alloc(EDU_DMA_MAX_SAFE + 1);
      return step(this.#scratch, what);
    };
    const result = this.#dmaQueue.then(run, run);
    this.#dmaQueue = result.catch(() => {});
    return result;
  }

  /** D.5: program src, dst, count with 8-byte writes, then the command with RUN and IRQ-on-done. */
  async #transfer(src: bigint, dst: bigint, count: number, direction: number, what: string, wait: WaitOptions): Promise<void> {
    const bar = this.#regs();
    if ((bar.read32(EDU_REG.DMA_CMD) & EDU_DMA_RUN) !== 0) throw new DdkError('EIO', 'edu DMA engine is busy with a transfer this driver did not start');
    bar.write64(EDU_REG.DMA_SRC, src);
    bar.write64(EDU_REG.DMA_DST, dst);
    bar.write64(EDU_REG.DMA_CNT, BigInt(count));
    const done = this.#wait('dma', what, wait);
    bar.write32(EDU_REG.DMA_CMD, EDU_DMA_RUN | direction | EDU_DMA_IRQ_ENABLE);
    await done;
  }

  /** A waiter for one completion interrupt, bounded by the call's (or the driver's) timeout and signal. */
  #wait(kind: 'fact' | 'dma', what: string, options: WaitOptions): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const waiter = createWaiter<void>(what, { ...options, timeoutMs }, (ms) => {
      const status = this.device.closed ? 'device closed' : `IRQ_STATUS 0x${this.#bar.read32(EDU_REG.IRQ_STATUS).toString(16)}`;
      return new DdkError('ETIMEDOUT', `${this.device.bdf}: ${what}: no ${COMPLETION_IRQ[kind]} interrupt within ${ms} ms (${status}, ${this.interrupts} interrupt(s) handled): `
        + `is ${this.mode === 'msi' ? 'MSI' : 'INTx'} routed to this driver (see \`vfio-ddk irqtop\`)?`);
    }, () => {
      if (kind === 'fact' && this.#factWaiter === waiter) this.#factWaiter = null;
      if (kind === 'dma' && this.#dmaWaiter === waiter) this.#dmaWaiter = null;
    });
    if (!waiter.settled) {
      if (kind === 'fact') this.#factWaiter = waiter;
      else this.#dmaWaiter = waiter;
    }
    return waiter.promise;
  }

  /** D.3: read the causes, acknowledge exactly those, then (INTx) unmask — D.6 ack-then-unmask order. */
  #onInterrupt(): void {
    if (this.#closed || this.device.closed) return;
    this.interrupts++;
    const status = this.#bar.read32(EDU_REG.IRQ_STATUS);
    if (status !== 0) this.#bar.write32(EDU_REG.IRQ_ACK, status);
    if (this.mode === 'intx') this.device.irq.unmaskIntx();
    if ((status & EDU_FACT_IRQ) !== 0) this.#factWaiter?.resolve();
    if ((status & EDU_DMA_IRQ) !== 0) this.#dmaWaiter?.resolve();
  }

  #failWaiters(): void {
    for (const waiter of [this.#factWaiter, this.#dmaWaiter]) {
      waiter?.reject(new DdkError('ECLOSED', 'the edu device or driver was closed while an operation was pending'));
    }
    this.#closed = true;
  }

  /** Completion waits in flight (0–2: one per engine); 0 after a timeout or abort — nothing is left behind. */
  get pendingWaits(): number {
    return (this.#factWaiter === null ? 0 : 1) + (this.#dmaWaiter === null ? 0 : 1);
  }
}
