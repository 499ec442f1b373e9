/**
 * Interrupt routing of an emulated device, modelled on vfio-pci (spec/pci-vfio.md C.4): each vector of
 * the active index (INTx / MSI / MSI-X) signals one `IrqLine`; only one index is active at a time.
 *
 * Device side (what the models call): `raiseMsi`, `raiseMsix`, `setIntxLevel`. A message the device
 * sends (enabled, not masked — see msi.ts / msix.ts) is a memory write, so it needs Bus Master Enable:
 * with Command.BME clear it is lost, never latched (QEMU drops the write; spec/edu.md D.7) and counted in
 * `lostMessages`. A message for a vector with no line attached is counted in `unroutedMessages`.
 *
 * Messages of a vector with no line go to the message sink (`setMessageSink`) as the memory write
 * they are — the address and data the capability / table entry holds — so MSI that a bus driver enabled
 * in config space reaches the platform's decoder (Fuchsia's model); without a sink they are unrouted.
 *
 * INTx is a level (PCI 3.0 §6.2.2/§6.2.3): Status.Interrupt follows the device's level whatever the
 * other bits; the pin is asserted only while the level is high, Command.INTx Disable is clear and
 * neither MSI nor MSI-X is enabled. INTx is a wire, not a bus-master write: it does not need BME.
 * Routing automasks like vfio-pci: when the asserted pin fires the line, INTx is masked until
 * `unmaskIntx()`; if the pin is still asserted then, the line fires again (and masks again).
 *
 * Errors: RangeError for an index other than 0/1/2 or a vector ≥ count; DdkError 'EBUSY' (another index
 * active, or the line is attached elsewhere), 'EEXIST' (vector already routed), 'EINVAL' (not an
 * IrqLine; trigger of an unrouted vector), 'ECLOSED' after close.
 */
import { IrqLine } from '../irq/irq-line.ts';
import type { IrqInfo, MsiMessageSink, PciInterrupts } from '../pci/device.ts';
import type { IrqIndex } from '../pci/vfio-indices.ts';
import { IRQ_INDEX_NAMES, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../pci/vfio-indices.ts';
import {
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_STATUS, PCI_STATUS_INTERRUPT,
} from '../pci/regs.ts';
import { DdkError } from '../errors.ts';
import type { EmuConfigSpace } from './config-space.ts';
import type { EmuMsi } from './msi.ts';
import type { EmuMsix } from './msix.ts';

/** What the emulated "kernel" programs on enable: the x86 LAPIC window and a data base aligned for 32 vectors. */
export const EMU_MSI_ADDRESS = 0xfee0_0000n;
export const EMU_MSI_DATA_BASE = 0x20;

export class EmuInterrupts implements PciInterrupts {
  readonly #config: EmuConfigSpace;
  readonly #msi: EmuMsi | null;
  readonly #msix: EmuMsix | null;
  readonly #pin: number;
  readonly #gate: { readonly closed: boolean };
  readonly #intxLines: (IrqLine | null)[] = [null];
  readonly #msiLines: (IrqLine | null)[];
  readonly #msixLines: (IrqLine | null)[];
  #active: IrqIndex | null = null;
  #routed = 0;
  #intxLevel = false;
  #intxAsserted = false;
  #intxMasked = false;
  #sink: MsiMessageSink | null = null;
  /** Messages the device sent with Bus Master Enable clear (lost, as on QEMU). */
  lostMessages = 0;
  /** Messages sent for a vector with no line attached. */
  unroutedMessages = 0;

  constructor(config: EmuConfigSpace, msi: EmuMsi | null, msix: EmuMsix | null, pin: number, gate: { readonly closed: boolean }) {
    this.#config = config;
    this.#msi = msi;
    this.#msix = msix;
    this.#pin = pin;
    this.#gate = gate;
    this.#msiLines = new Array<IrqLine | null>(msi?.vectors ?? 0).fill(null);
    this.#msixLines = new Array<IrqLine | null>(msix?.vectors ?? 0).fill(null);
    // Bound once: the capabilities call these per message (no closure per interrupt).
    if (msi) msi.send = this.#sendMsi;
    if (msix) msix.send = this.#sendMsix;
  }

  get activeIndex(): IrqIndex | null {
    return this.#active;
  }

  info(index: IrqIndex): IrqInfo {
    this.#checkIndex(index);
    const count = this.#count(index);
    return {
      index,
      count,
      eventfd: true,
      maskable: index === VFIO_PCI_INTX_IRQ_INDEX,
      automasked: index === VFIO_PCI_INTX_IRQ_INDEX,
      // MSI cannot grow while enabled; MSI-X here can (like vfio-pci with dynamic MSI-X, Linux ≥ 6.5).
      noresize: index === VFIO_PCI_MSI_IRQ_INDEX,
    };
  }

  attach(index: IrqIndex, vector: number, line: IrqLine): void {
    this.#checkOpen();
    this.#checkVector(index, vector);
    if (!(line instanceof IrqLine)) throw new DdkError('EINVAL', 'attach: line must be an IrqLine');
    if (this.#active !== null && this.#active !== index) {
      throw new DdkError('EBUSY', `attach: ${IRQ_INDEX_NAMES[this.#active]} is active; disable it before using ${IRQ_INDEX_NAMES[index]}`);
    }
    if (this.#active !== index && this.#enabledThroughConfig(index)) {
      throw new DdkError('EBUSY', `attach: ${IRQ_INDEX_NAMES[index]} was enabled through config space (a bus driver owns it); clear its Enable bit first`);
    }
    const lines = this.#lines(index);
    if (lines[vector] !== null) throw new DdkError('EEXIST', `attach: ${IRQ_INDEX_NAMES[index]} vector ${vector} already has a line; detach it first`);
    if (line.attached) throw new DdkError('EBUSY', `attach: line '${line.name}' is already attached elsewhere`);
    lines[vector] = line;
    line.markAttached();
    this.#routed++;
    const first = this.#active === null;
    this.#active = index;
    if (index === VFIO_PCI_MSI_IRQ_INDEX) {
      const msi = this.#msi as EmuMsi;
      if (first) msi.enable(EMU_MSI_ADDRESS, EMU_MSI_DATA_BASE, Math.log2(msi.vectors));
      msi.setMask(vector, false);
    } else if (index === VFIO_PCI_MSIX_IRQ_INDEX) {
      (this.#msix as EmuMsix).enableVector(vector, EMU_MSI_ADDRESS, EMU_MSI_DATA_BASE + vector);
    } else {
      this.#intxMasked = false;
      if (this.#intxAsserted) this.#fireIntx();
    }
    if (index !== VFIO_PCI_INTX_IRQ_INDEX) this.updateIntx();
  }

  detach(index: IrqIndex, vector: number): void {
    this.#checkVector(index, vector);
    const lines = this.#lines(index);
    const line = lines[vector];
    if (line === null || line === undefined) return;
    lines[vector] = null;
    this.#routed--;
    if (index === VFIO_PCI_MSI_IRQ_INDEX) (this.#msi as EmuMsi).setMask(vector, true);
    else if (index === VFIO_PCI_MSIX_IRQ_INDEX) (this.#msix as EmuMsix).disableVector(vector);
    if (this.#routed === 0) this.#disableIndex(index);
    line.detach();
  }

  disable(index: IrqIndex): void {
    this.#checkIndex(index);
    const lines = this.#lines(index);
    for (let v = 0; v < lines.length; v++) if (lines[v] !== null) this.detach(index, v);
  }

  setMessageSink(sink: MsiMessageSink | null): void {
    this.#sink = sink;
  }

  /** MSI / MSI-X Enable set in the capability while no line is attached to it (a bus driver's enable). */
  #enabledThroughConfig(index: IrqIndex): boolean {
    if (index === VFIO_PCI_MSI_IRQ_INDEX) return this.#msi?.enabled ?? false;
    if (index === VFIO_PCI_MSIX_IRQ_INDEX) return this.#msix?.enabled ?? false;
    return false;
  }

  /** Detaches everything (device close). */
  disableAll(): void {
    if (this.#active !== null) this.disable(this.#active);
  }

  unmaskIntx(): void {
    this.#checkOpen();
    this.#intxMasked = false;
    if (this.#intxAsserted && this.#intxLines[0] !== null) this.#fireIntx();
  }

  maskIntx(): void {
    this.#checkOpen();
    this.#intxMasked = true;
  }

  /** True while routing holds INTx masked (automask or maskIntx). */
  get intxMasked(): boolean {
    return this.#intxMasked;
  }

  trigger(index: IrqIndex, vector: number): void {
    this.#checkOpen();
    this.#checkVector(index, vector);
    const line = this.#lines(index)[vector];
    if (line === null || line === undefined) {
      throw new DdkError('EINVAL', `trigger: ${IRQ_INDEX_NAMES[index]} vector ${vector} has no line attached`);
    }
    line.fire();
  }

  // ---- device side ----

  raiseMsi(vector: number): void {
    this.#msi?.raise(vector);
  }

  raiseMsix(vector: number): void {
    this.#msix?.raise(vector);
  }

  setIntxLevel(level: boolean): void {
    if (this.#pin === 0 || level === this.#intxLevel) return;
    this.#intxLevel = level;
    this.updateIntx();
  }

  get intxLevel(): boolean {
    return this.#intxLevel;
  }

  /** Re-evaluates the INTx pin (after a level change or a write to Command / MSI / MSI-X control). */
  updateIntx(): void {
    const config = this.#config;
    const status = config.get16(PCI_STATUS);
    config.set16(PCI_STATUS, this.#intxLevel ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT);
    const asserted = this.#intxLevel && (config.get16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) === 0
      && !(this.#msi?.enabled ?? false) && !(this.#msix?.enabled ?? false);
    const rising = asserted && !this.#intxAsserted;
    this.#intxAsserted = asserted;
    if (rising && !this.#intxMasked && this.#intxLines[0] !== null) this.#fireIntx();
  }

  /** Forgets the INTx level and the automask (device reset); routing stays. */
  resetIntx(): void {
    this.#intxLevel = false;
    this.updateIntx();
  }

  #fireIntx(): void {
    this.#intxMasked = true;
    (this.#intxLines[0] as IrqLine).fire();
  }

  readonly #sendMsi = (vector: number): void => {
    if (!this.#busMaster()) return;
    const line = this.#msiLines[vector];
    if (line != null) line.fire();
    else if (this.#sink !== null) {
      const msi = this.#msi as EmuMsi;
      this.#sink.message(msi.addressLo, msi.addressHi, msi.messageData(vector), 1, null);
    } else this.unroutedMessages++;
  };

  readonly #sendMsix = (vector: number): void => {
    if (!this.#busMaster()) return;
    const line = this.#msixLines[vector];
    if (line != null) line.fire();
    else if (this.#sink !== null) {
      const msix = this.#msix as EmuMsix;
      this.#sink.message(msix.entryAddressLo(vector), msix.entryAddressHi(vector), msix.entryData(vector), 1, null);
    } else this.unroutedMessages++;
  };

  /** A message is a memory write: lost (and counted) without Bus Master Enable, as on QEMU. */
  #busMaster(): boolean {
    if ((this.#config.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) !== 0) return true;
    this.lostMessages++;
    return false;
  }

  #disableIndex(index: IrqIndex): void {
    this.#active = null;
    if (index === VFIO_PCI_MSI_IRQ_INDEX) this.#msi?.disable();
    else if (index === VFIO_PCI_MSIX_IRQ_INDEX) this.#msix?.disable();
    else this.#intxMasked = false;
    this.updateIntx();
  }

  #count(index: IrqIndex): number {
    if (index === VFIO_PCI_INTX_IRQ_INDEX) return this.#pin !== 0 ? 1 : 0;
    if (index === VFIO_PCI_MSI_IRQ_INDEX) return this.#msi?.vectors ?? 0;
    return this.#msix?.vectors ?? 0;
  }

  #lines(index: IrqIndex): (IrqLine | null)[] {
    if (index === VFIO_PCI_INTX_IRQ_INDEX) return this.#intxLines;
    return index === VFIO_PCI_MSI_IRQ_INDEX ? this.#msiLines : this.#msixLines;
  }

  #checkIndex(index: number): void {
    if (index !== VFIO_PCI_INTX_IRQ_INDEX && index !== VFIO_PCI_MSI_IRQ_INDEX && index !== VFIO_PCI_MSIX_IRQ_INDEX) {
      throw new RangeError(`IRQ index must be 0 (INTx), 1 (MSI) or 2 (MSI-X), got ${String(index)}`);
    }
  }

  #checkVector(index: IrqIndex, vector: number): void {
    this.#checkIndex(index);
    const count = this.#count(index);
    if (!Number.isInteger(vector) || vector < 0 || vector >= count) {
      throw new RangeError(`${IRQ_INDEX_NAMES[index]} vector ${String(vector)} is outside [0, ${count})`);
    }
  }

  #checkOpen(): void {
    if (this.#gate.closed) throw new DdkError('ECLOSED', 'interrupt routing on a closed emulated device: open a new one');
  }
}
