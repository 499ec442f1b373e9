/**
 * `VfioInterrupts` for a device with MSI-X: tells the table shadow (vfio-msix-shadow.ts) which line
 * each MSI-X vector is routed to, so the virtualized Mask bits and PBA act on the right line, and
 * models the kernel's own table writes (enable: entry unmasked; free: entry masked).
 */
import type { IrqLine } from '../irq/irq-line.ts';
import type { NativeAddon } from '../native/addon-types.ts';
import { VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import type { IrqIndex } from '../pci/vfio-indices.ts';
import type { DeviceGate } from './vfio-gate.ts';
import { VfioInterrupts } from './vfio-interrupts.ts';
import type { VfioMsixShadow } from './vfio-msix-shadow.ts';

export class VfioMsixInterrupts extends VfioInterrupts {
  readonly #shadow: VfioMsixShadow;

  constructor(addon: NativeAddon, deviceFd: number, gate: DeviceGate, shadow: VfioMsixShadow) {
    super(addon, deviceFd, gate);
    this.#shadow = shadow;
  }

  override attach(index: IrqIndex, vector: number, line: IrqLine): void {
    super.attach(index, vector, line);
    if (index === VFIO_PCI_MSIX_IRQ_INDEX) this.#shadow.routed(vector, line);
  }

  override detach(index: IrqIndex, vector: number): void {
    if (index === VFIO_PCI_MSIX_IRQ_INDEX && this.activeIndex === index) this.#shadow.unrouted(vector);
    super.detach(index, vector);
  }

  override disable(index: IrqIndex): void {
    if (index === VFIO_PCI_MSIX_IRQ_INDEX && this.activeIndex === index) this.#shadow.unroutedAll();
    super.disable(index);
  }
}
