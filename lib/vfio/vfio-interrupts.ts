/**
 * `PciInterrupts` over VFIO_DEVICE_SET_IRQS (spec/pci-vfio.md C.4). Each vector of the active index
 * gets one eventfd and one native watcher on this thread's loop; the watcher writes the read's count
 * and timestamps into this thread's wake record (lib/irq/stamps.ts) and its callback (count) goes
 * straight into the routed `IrqLine.deliver` — no allocation per interrupt.
 *
 * MSI / MSI-X: on the first attach every vector of the index is enabled in one SET_IRQS (vfio-pci
 * reports NORESIZE: the vector count cannot change while enabled), and routing per vector happens
 * here in JS; a vector with no line drops its fires. MSI-X without NORESIZE (Linux ≥ 6.5) gets its
 * vectors one SET_IRQS at a time as lines come and go (vfio-msix-dynamic.ts). VFIO cannot mask MSI/MSI-X (ACTION_MASK →
 * ENOTTY), so masking is the IrqLine latch (lib/irq/irq-line.ts). INTx is automasked by the kernel at
 * each interrupt; `unmaskIntx` is ACTION_UNMASK.
 *
 * MSI / MSI-X enabled through config space (a bus driver's write of the Enable bit, caught by
 * vfio-msi-enable.ts) is what QEMU's vfio-pci does for a guest: the enable becomes SET_IRQS of 2^MME
 * (MSI) or every table entry's (MSI-X) eventfds, and each fire is handed to the message sink with the
 * address/data the capability / shadowed entry holds (`configEnable`). vfio-pci runs one index at a
 * time (vfio_pci_set_irqs_ioctl refuses MSI while INTx is set up), so an INTx line attached meanwhile
 * stays attached in JS with its kernel trigger torn down — quiet, as a function with MSI enabled does
 * not assert its pin (PCI 3.0 §6.8.1.3) — and is set up again when MSI is disabled.
 *
 * An enabled index keeps the event loop alive (its watchers are ref'd, like a listening socket):
 * disable it or close the device when done.
 *
 * Errors match lib/emu/interrupts.ts: RangeError for a bad index / vector, DdkError 'EBUSY' (another
 * index active, line attached elsewhere), 'EEXIST' (vector already routed), 'EINVAL', 'ECLOSED'.
 */
import type { IrqInfo, MsiMessageSink, PciInterrupts } from '../pci/device.ts';
import { IrqLine } from '../irq/irq-line.ts';
import { addNativeSource, removeNativeSource, type NativeIrqSource } from '../irq/blocking.ts';
import type { NativeAddon, RecordWatcherCallback } from '../native/addon-types.ts';
import { wakeStamps } from '../irq/stamps.ts';
import { Eventfd } from '../native/eventfd.ts';
import {
  VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_NORESIZE, VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
} from '../native/vfio-uapi.ts';
import { IRQ_INDEX_NAMES, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import type { IrqIndex } from '../pci/vfio-indices.ts';
import { DdkError } from '../errors.ts';
import type { DeviceGate } from './vfio-gate.ts';
import { vectorSetupFor, type VectorSetup } from './vfio-msix-dynamic.ts';

const sourcesOf = new WeakMap<Eventfd, NativeIrqSource>();

/** Closes eventfds (their watchers first) and takes them out of the blocking-wait registry. */
function closeEventfds(eventfds: readonly (Eventfd | undefined)[]): void {
  for (const e of eventfds) {
    if (e === undefined) continue; // a vector a dynamic MSI-X index has not set up
    const source = sourcesOf.get(e);
    if (source !== undefined) removeNativeSource(source);
    e.close();
  }
}

/** The message each vector of a config-enabled index carries (its capability / table entry now). */
export interface MessageSource {
  addressLo(vector: number): number;
  addressHi(vector: number): number;
  data(vector: number): number;
}

/** An index enabled through config space: its eventfds (watched), handed to the sink. */
interface ConfigEnabled {
  readonly index: IrqIndex;
  readonly eventfds: Eventfd[];
}

export class VfioInterrupts implements PciInterrupts {
  readonly #addon: NativeAddon;
  readonly #fd: number;
  readonly #gate: DeviceGate;
  readonly #info: IrqInfo[];
  #active: IrqIndex | null = null;
  /** Per vector of the active index: its line (or null), eventfd (undefined: not set up, dynamic MSI-X). */
  #lines: (IrqLine | null)[] = [];
  #eventfds: (Eventfd | undefined)[] = [];
  /** How the active index's vectors reach the kernel (whole index or dynamic MSI-X). */
  #setup: VectorSetup | null = null;
  #routed = 0;
  /** Set by the device while it tears down (the gate is already closed, the fd still open). */
  #fdOpenForClose = false;
  #sink: MsiMessageSink | null = null;
  #configEnabled: ConfigEnabled | null = null;

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
    if (this.#configEnabled !== null && index !== VFIO_PCI_INTX_IRQ_INDEX) {
      throw new DdkError('EBUSY', `attach: ${IRQ_INDEX_NAMES[this.#configEnabled.index]} was enabled through config space (a bus driver owns it); clear its Enable bit first`);
    }
    if (line.attached) throw new DdkError('EBUSY', `attach: line '${line.name}' is already attached elsewhere`);
    if (this.#active === null) this.#enable(index, vector);
    else if (this.#eventfds[vector] === undefined) this.#addVector(vector);
    this.#lines[vector] = line;
    this.#routed++;
    line.markAttached();
  }

  /**
   * One eventfd + watcher per vector the setup starts with — every vector, or `first` alone for
   * dynamic MSI-X — set up in SET_IRQS (DATA_EVENTFD | ACTION_TRIGGER).
   */
  #enable(index: IrqIndex, first: number): void {
    const info = this.#info[index] as IrqInfo;
    const setup = vectorSetupFor(this.#addon, this.#fd, info);
    const lines: (IrqLine | null)[] = new Array<IrqLine | null>(info.count).fill(null);
    const eventfds = new Array<Eventfd | undefined>(info.count).fill(undefined);
    try {
      for (const v of setup.initialVectors(first)) this.#openVector(eventfds, lines, v);
      // INTx while MSI is config-enabled: routed in JS now, set up in the kernel when MSI goes.
      if (this.#configEnabled === null) setup.enable(eventfds.map((e) => e?.fd));
    } catch (error) {
      closeEventfds(eventfds);
      throw error;
    }
    this.#active = index;
    this.#setup = setup;
    this.#lines = lines;
    this.#eventfds = eventfds;
    this.#routed = 0;
  }

  /** Vector `v`'s eventfd (into `eventfds[v]`) and its watcher. */
  #openVector(eventfds: (Eventfd | undefined)[], lines: readonly (IrqLine | null)[], v: number): Eventfd {
    const efd = new Eventfd(this.#addon);
    // Created once per vector when it is set up; reads the routing table on each delivery.
    const callback: RecordWatcherCallback = (n) => {
      const line = lines[v];
      if (line != null) line.deliver(n, wakeStamps);
    };
    try {
      this.#watch(efd, callback);
    } catch (error) {
      closeEventfds([efd]);
      throw error;
    }
    eventfds[v] = efd; // only once it is watched: a failed setup leaves the slot free for the next attach
    return efd;
  }

  /** Dynamic MSI-X: `vector` joins the enabled index; the other vectors are not touched. */
  #addVector(vector: number): void {
    const efd = this.#openVector(this.#eventfds, this.#lines, vector);
    try {
      (this.#setup as VectorSetup).add(vector, efd.fd);
    } catch (error) {
      this.#eventfds[vector] = undefined;
      closeEventfds([efd]);
      throw error;
    }
  }

  /** Dynamic MSI-X: `vector`'s trigger goes (the kernel keeps its interrupt allocated), then its eventfd. */
  #releaseVector(vector: number): void {
    const efd = this.#eventfds[vector];
    this.#eventfds[vector] = undefined;
    try {
      if (this.#kernelReachable) (this.#setup as VectorSetup).release(vector);
    } finally {
      closeEventfds([efd]);
    }
  }

  detach(index: IrqIndex, vector: number): void {
    this.#checkVector(index, vector);
    if (this.#active !== index) return;
    const line = this.#lines[vector];
    if (line === null || line === undefined) return;
    this.#lines[vector] = null;
    this.#routed--;
    try {
      if (this.#routed === 0) this.#disableIndex();
      else if (this.#setup?.dynamic === true) this.#releaseVector(vector);
    } finally {
      line.detach(); // unrouted here whatever the kernel said: the line can be attached again
    }
  }

  disable(index: IrqIndex): void {
    this.#checkIndex(index);
    if (this.#active !== index) return;
    const lines = this.#lines;
    this.#disableIndex();
    for (const line of lines) line?.detach();
  }

  /** The loop's watcher, and the same callback for a blocking wait on this thread (lib/irq/blocking.ts). */
  #watch(efd: Eventfd, callback: RecordWatcherCallback): void {
    efd.watch(callback, wakeStamps.words);
    const source: NativeIrqSource = { fd: efd.fd, deliver: callback };
    addNativeSource(source, this.#addon);
    sourcesOf.set(efd, source);
  }

  #setEventfds(index: IrqIndex, eventfds: readonly (Eventfd | undefined)[]): void {
    this.#addon.vfioDeviceSetIrqs(this.#fd, {
      index, flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: eventfds.length, fds: eventfds.map((e) => (e as Eventfd).fd),
    });
  }

  /** Whether the device fd may still be used (open, or being closed by closeAll). */
  get #kernelReachable(): boolean {
    return !this.#gate.closed || this.#fdOpenForClose;
  }

  /** DATA_NONE | ACTION_TRIGGER, count 0: the kernel tears the index down. */
  #kernelDisable(index: IrqIndex): void {
    if (this.#kernelReachable) {
      this.#addon.vfioDeviceSetIrqs(this.#fd, { index, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 0 });
    }
  }

  /** DATA_NONE | ACTION_TRIGGER, count 0: the kernel disables the index; then watchers and fds go. */
  #disableIndex(): void {
    const index = this.#active;
    if (index === null) return;
    this.#active = null;
    try {
      // An INTx parked behind config-enabled MSI has no kernel trigger to tear down.
      if (!(index === VFIO_PCI_INTX_IRQ_INDEX && this.#configEnabled !== null)) this.#kernelDisable(index);
    } finally {
      closeEventfds(this.#eventfds);
      this.#eventfds = [];
      this.#setup = null;
      this.#lines = [];
      this.#routed = 0;
    }
  }

  /** Device close: disable the active index and detach every line (pending waits resolve). */
  closeAll(): void {
    this.#fdOpenForClose = true;
    try {
      if (this.#configEnabled !== null) this.#closeConfigEnabled();
      if (this.#active !== null) this.disable(this.#active);
    } finally {
      this.#fdOpenForClose = false;
    }
  }

  setMessageSink(sink: MsiMessageSink | null): void {
    this.#sink = sink;
  }

  /** The index currently enabled through config space, or null. */
  get configEnabledIndex(): IrqIndex | null {
    return this.#configEnabled?.index ?? null;
  }

  /**
   * A config write set MSI Enable / MSI-X Enable. Returns false when `attach` already enabled that
   * index (the kernel-style owner programs the capability after attaching: nothing to do). An INTx
   * trigger is torn down first and comes back at `configDisable`. DdkError 'EBUSY' when the other
   * message index is active.
   */
  configEnable(index: IrqIndex, count: number, source: MessageSource): boolean {
    this.#gate.check();
    if (this.#active === index) return false;
    if (this.#configEnabled !== null) {
      if (this.#configEnabled.index === index) return false;
      throw new DdkError('EBUSY', `${IRQ_INDEX_NAMES[this.#configEnabled.index]} is enabled: disable it before enabling ${IRQ_INDEX_NAMES[index]} (PCI 3.0 §6.8.2: never both)`);
    }
    if (this.#active !== null && this.#active !== VFIO_PCI_INTX_IRQ_INDEX) {
      throw new DdkError('EBUSY', `${IRQ_INDEX_NAMES[this.#active]} is active; disable it before enabling ${IRQ_INDEX_NAMES[index]}`);
    }
    const eventfds: Eventfd[] = [];
    try {
      for (let v = 0; v < count; v++) {
        const efd = new Eventfd(this.#addon);
        eventfds.push(efd);
        // One closure per vector at enable time; each fire reads the message the vector carries now.
        this.#watch(efd, (n) => {
          this.#sink?.message(source.addressLo(v), source.addressHi(v), source.data(v), n, wakeStamps);
        });
      }
      if (this.#active === VFIO_PCI_INTX_IRQ_INDEX) this.#kernelDisable(VFIO_PCI_INTX_IRQ_INDEX);
      this.#configEnabled = { index, eventfds };
      this.#setEventfds(index, eventfds);
    } catch (error) {
      this.#configEnabled = null;
      closeEventfds(eventfds);
      if (this.#active === VFIO_PCI_INTX_IRQ_INDEX) this.#setEventfds(VFIO_PCI_INTX_IRQ_INDEX, this.#eventfds);
      throw error;
    }
    return true;
  }

  /** A config write cleared the Enable bit: the index goes; a parked INTx line is set up again. */
  configDisable(index: IrqIndex): void {
    if (this.#configEnabled?.index !== index) return;
    this.#closeConfigEnabled();
    if (this.#active === VFIO_PCI_INTX_IRQ_INDEX && !this.#gate.closed) this.#setEventfds(VFIO_PCI_INTX_IRQ_INDEX, this.#eventfds);
  }

  #closeConfigEnabled(): void {
    const enabled = this.#configEnabled as ConfigEnabled;
    try {
      this.#kernelDisable(enabled.index);
    } finally {
      this.#configEnabled = null;
      closeEventfds(enabled.eventfds);
    }
  }

  #setIrqs(index: IrqIndex, flags: number, start: number, count: number): void {
    this.#addon.vfioDeviceSetIrqs(this.#fd, { index, flags, start, count });
  }

  unmaskIntx(): void {
    this.#gate.check();
    if (this.#active !== VFIO_PCI_INTX_IRQ_INDEX) throw new DdkError('EINVAL', 'unmaskIntx: INTx is not enabled (attach a line to index 0 first)');
    if (this.#configEnabled !== null) return; // parked: set up unmasked when MSI goes
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1);
  }

  maskIntx(): void {
    this.#gate.check();
    if (this.#active !== VFIO_PCI_INTX_IRQ_INDEX) throw new DdkError('EINVAL', 'maskIntx: INTx is not enabled (attach a line to index 0 first)');
    if (this.#configEnabled !== null) return; // parked: the function does not assert its pin
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
