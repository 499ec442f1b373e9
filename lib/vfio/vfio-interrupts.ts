/**
 * `PciInterrupts` over VFIO_DEVICE_SET_IRQS (spec/pci-vfio.md C.4). Each vector of the active index
 * gets one eventfd and one native watcher on this thread's loop; the watcher's callback (count,
 * bootNs, monoNs) goes straight into the routed `IrqLine.deliver` — no allocation per interrupt.
 *
 * MSI / MSI-X: on the first attach every vector of the index is enabled in one SET_IRQS (vfio-pci
 * reports NORESIZE: the vector count cannot change while enabled), and routing per vector happens
 * here in JS; a vector with no line drops its fires. VFIO cannot mask MSI/MSI-X (ACTION_MASK →
 * ENOTTY), so masking is the IrqLine latch (lib/irq/irq-line.ts). INTx is automasked by the kernel at
 * each interrupt; `unmaskIntx` is ACTION_UNMASK.
 *
 * An enabled index keeps the event loop alive (its watchers are ref'd, like a listening socket):
 * disable it or close the device when done.
 *
 * Errors match lib/emu/interrupts.ts: RangeError for a bad index / vector, DdkError 'EBUSY' (another
 * index active, line attached elsewhere), 'EEXIST' (vector already routed), 'EINVAL', 'ECLOSED'.
 */
import type { IrqInfo, PciInterrupts } from '../pci/device.ts';
import { IrqLine } from '../irq/irq-line.ts';
import type { NativeAddon, WatcherCallback } from '../native/addon-types.ts';
import { Eventfd } from '../native/eventfd.ts';
import {
  VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_NORESIZE, VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
} from '../native/vfio-uapi.ts';
import { IRQ_INDEX_NAMES, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import type { IrqIndex } from '../pci/vfio-indices.ts';
import { DdkError } from '../errors.ts';
import type { DeviceGate } from './vfio-gate.ts';

export class VfioInterrupts implements PciInterrupts {
  readonly #addon: NativeAddon;
  readonly #fd: number;
  readonly #gate: DeviceGate;
  readonly #info: IrqInfo[];
  #active: IrqIndex | null = null;
  /** Per vector of the active index: its line (or null), eventfd. */
  #lines: (IrqLine | null)[] = [];
  #eventfds: Eventfd[] = [];
  #routed = 0;
  /** Set by the device while it tears down (the gate is already closed, the fd still open). */
  #fdOpenForClose = false;

  constructor(addon: NativeAddon, deviceFd: number, gate: DeviceGate) {
    this.#addon = addon;
    this.#fd = deviceFd;
    this.#gate = gate;
    this.#info = [];
    for (let index = VFIO_PCI_INTX_IRQ_INDEX; index <= VFIO_PCI_MSIX_IRQ_INDEX; index++) {
      let flags = 0;
      let count = 0;
      try {
        const raw = addon.vfioDeviceGetIrqInfo(deviceFd, index);
        flags = raw.flags;
        count = raw.count;
      } catch {
        /* index not supported by this device: count 0 */
      }
      this.#info.push({
        index: index as IrqIndex,
        count,
        eventfd: (flags & VFIO_IRQ_INFO_EVENTFD) !== 0,
        maskable: (flags & VFIO_IRQ_INFO_MASKABLE) !== 0,
        automasked: (flags & VFIO_IRQ_INFO_AUTOMASKED) !== 0,
        noresize: (flags & VFIO_IRQ_INFO_NORESIZE) !== 0,
      });
    }
  }

  #checkIndex(index: IrqIndex): IrqInfo {
    if (index !== 0 && index !== 1 && index !== 2) {
      throw new RangeError(`IRQ index must be 0 (INTx), 1 (MSI) or 2 (MSI-X), got ${String(index)}`);
    }
    return this.#info[index] as IrqInfo;
  }

  #checkVector(index: IrqIndex, vector: number): void {
    const { count } = this.#checkIndex(index);
    if (!Number.isInteger(vector) || vector < 0 || vector >= count) {
      throw new RangeError(`${IRQ_INDEX_NAMES[index]} vector ${String(vector)} is outside [0, ${count})`);
    }
  }

  info(index: IrqIndex): IrqInfo {
    return this.#checkIndex(index);
  }

  get activeIndex(): IrqIndex | null {
    return this.#active;
  }

  attach(index: IrqIndex, vector: number, line: IrqLine): void {
    this.#gate.check();
    this.#checkVector(index, vector);
    if (!(line instanceof IrqLine)) throw new DdkError('EINVAL', 'attach: line must be an IrqLine');
    if (this.#active !== null && this.#active !== index) {
      throw new DdkError('EBUSY', `attach: ${IRQ_INDEX_NAMES[this.#active]} is active; disable it before using ${IRQ_INDEX_NAMES[index]}`);
    }
    if (this.#active === index && this.#lines[vector] !== null) {
      throw new DdkError('EEXIST', `attach: ${IRQ_INDEX_NAMES[index]} vector ${vector} already has a line; detach it first`);
    }
    if (line.attached) throw new DdkError('EBUSY', `attach: line '${line.name}' is already attached elsewhere`);
    if (this.#active === null) this.#enable(index);
    this.#lines[vector] = line;
    this.#routed++;
    line.markAttached();
  }

  /** One eventfd + watcher per vector, all vectors in one SET_IRQS (DATA_EVENTFD | ACTION_TRIGGER). */
  #enable(index: IrqIndex): void {
    const count = (this.#info[index] as IrqInfo).count;
    const lines: (IrqLine | null)[] = new Array<IrqLine | null>(count).fill(null);
    const eventfds: Eventfd[] = [];
    try {
      for (let v = 0; v < count; v++) {
        const efd = new Eventfd(this.#addon);
        eventfds.push(efd);
        // Created once per vector at enable time; reads the routing table on each delivery.
        const callback: WatcherCallback = (n, boot, mono) => {
          const line = lines[v];
          if (line != null) line.deliver(n, boot, mono);
        };
        efd.watch(callback);
      }
      this.#addon.vfioDeviceSetIrqs(this.#fd, {
        index, flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count, fds: eventfds.map((e) => e.fd),
      });
    } catch (error) {
      for (const e of eventfds) e.close();
      throw error;
    }
    this.#active = index;
    this.#lines = lines;
    this.#eventfds = eventfds;
    this.#routed = 0;
  }

  detach(index: IrqIndex, vector: number): void {
    this.#checkVector(index, vector);
    if (this.#active !== index) return;
    const line = this.#lines[vector];
    if (line === null || line === undefined) return;
    this.#lines[vector] = null;
    this.#routed--;
    if (this.#routed === 0) this.#disableIndex();
    line.detach();
  }

  disable(index: IrqIndex): void {
    this.#checkIndex(index);
    if (this.#active !== index) return;
    const lines = this.#lines;
    this.#disableIndex();
    for (const line of lines) line?.detach();
  }

  /** DATA_NONE | ACTION_TRIGGER, count 0: the kernel disables the index; then watchers and fds go. */
  #disableIndex(): void {
    const index = this.#active;
    if (index === null) return;
    this.#active = null;
    try {
      if (!this.#gate.closed || this.#fdOpenForClose) {
        this.#addon.vfioDeviceSetIrqs(this.#fd, { index, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 0 });
      }
    } finally {
      for (const e of this.#eventfds) e.close();
      this.#eventfds = [];
      this.#lines = [];
      this.#routed = 0;
    }
  }

  /** Device close: disable the active index and detach every line (pending waits resolve). */
  closeAll(): void {
    this.#fdOpenForClose = true;
    try {
      if (this.#active !== null) this.disable(this.#active);
    } finally {
      this.#fdOpenForClose = false;
    }
  }

  #setIrqs(index: IrqIndex, flags: number, start: number, count: number): void {
    this.#addon.vfioDeviceSetIrqs(this.#fd, { index, flags, start, count });
  }

  unmaskIntx(): void {
    this.#gate.check();
    if (this.#active !== VFIO_PCI_INTX_IRQ_INDEX) throw new DdkError('EINVAL', 'unmaskIntx: INTx is not enabled (attach a line to index 0 first)');
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1);
  }

  maskIntx(): void {
    this.#gate.check();
    if (this.#active !== VFIO_PCI_INTX_IRQ_INDEX) throw new DdkError('EINVAL', 'maskIntx: INTx is not enabled (attach a line to index 0 first)');
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 1);
  }

  /** Loopback through the kernel: it signals the vector's eventfd (C.4 "Loopback"). */
  trigger(index: IrqIndex, vector: number): void {
    this.#gate.check();
    this.#checkVector(index, vector);
    if (this.#active !== index || this.#lines[vector] == null) {
      throw new DdkError('EINVAL', `trigger: ${IRQ_INDEX_NAMES[index]} vector ${vector} has no line attached`);
    }
    this.#setIrqs(index, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, vector, 1);
  }
}
