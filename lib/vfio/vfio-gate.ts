/**
 * The one "is the device still open" flag every part of a `VfioDevice` (config, BARs, interrupts,
 * DMA) checks before touching an fd or a mapping, so accesses after `close()` throw 'ECLOSED' instead
 * of reaching a closed (possibly reused) fd or an unmapped BAR.
 */
import { DdkError } from '../errors.ts';

export class DeviceGate {
  readonly bdf: string;
  closed = false;

  constructor(bdf: string) {
    this.bdf = bdf;
  }

  check(): void {
    if (this.closed) throw new DdkError('ECLOSED', `VFIO device ${this.bdf} is closed: open it again with openVfioDevice`);
  }
}
