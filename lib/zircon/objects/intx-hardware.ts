/**
 * A physical interrupt over a device's INTx (spec/zircon.md A.7 step 3, A.9). The line is level:
 * the backend automasks INTx when it fires (VFIO AUTOMASKED); MASK_POSTWAIT latches the IrqLine too,
 * and UNMASK_PREWAIT (next wait/ack) is VFIO ACTION_UNMASK + the line's unmask. Edge modes are never
 * masked by the dispatcher, so INTx is re-enabled right after each delivery.
 */
import type { PciDevice } from '../../pci/device.ts';
import { VFIO_PCI_INTX_IRQ_INDEX } from '../../pci/vfio-indices.ts';
import { IrqLine, type IrqConsumer } from '../../irq/irq-line.ts';
import type { IrqStamps } from '../../irq/stamps.ts';
import { releaseIrq } from '../platform/platform.ts';
import type { InterruptHardware } from './interrupt-state.ts';
import type { InterruptObject } from './interrupt.ts';

export class IntxHardware implements InterruptHardware, IrqConsumer {
  readonly line: IrqLine;
  readonly #interrupt: InterruptObject;
  readonly #device: PciDevice;
  readonly #irq: number;
  readonly #level: boolean;
  #live = true;
  #unregisterClose: (() => void) | null = null;

  constructor(interrupt: InterruptObject, device: PciDevice, irq: number, level: boolean) {
    this.#interrupt = interrupt;
    this.#device = device;
    this.#irq = irq;
    this.#level = level;
    this.line = new IrqLine(`zircon irq ${irq} (${device.bdf} INTx)`);
  }

  /** Routes INTx to the line; throws what `PciInterrupts.attach` throws. */
  connect(): void {
    this.line.setConsumer(this);
    this.#device.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, this.line);
    this.#unregisterClose = this.#device.onClose(() => this.detached());
  }

  fire(_count: number, stamps: IrqStamps): void {
    this.#interrupt.hardwareInterrupt(stamps);
    if (!this.#level && this.#live) this.#device.irq.unmaskIntx();
  }

  detached(): void {
    this.#interrupt.hardwareGone();
  }

  mask(): void {
    this.line.mask();
  }

  unmask(): void {
    if (!this.#live) return;
    if (!this.#device.closed) this.#device.irq.unmaskIntx();
    this.line.unmask();
  }

  teardown(): void {
    if (!this.#live) return;
    this.#live = false;
    this.line.setConsumer(null);
    this.line.mask();
    this.line.clearPending();
    this.#unregisterClose?.();
    if (!this.#device.closed) {
      try {
        this.#device.irq.detach(VFIO_PCI_INTX_IRQ_INDEX, 0);
      } catch { /* device closing concurrently: nothing left to unroute */ }
    }
    releaseIrq(this.#irq);
  }

  release(): void {}
}
