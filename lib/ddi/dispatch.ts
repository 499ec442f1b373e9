/**
 * Running a handle's handler when its line fires — always on the event loop (IrqLine delivers there),
 * never inside the register write that raised the interrupt (API.md `vfio-ddk/ddi`).
 *
 * One delivery runs the handler once, whatever the coalesced count (an edge interrupt that fired
 * twice before the CPU took it is one interrupt, as at an APIC). The return value is honoured:
 * * MSI / MSI-X: DDI_INTR_CLAIMED / UNCLAIMED are counted; nothing to re-arm (edge).
 * * FIXED (INTx, level): the backend automasked the line when it fired (VFIO AUTOMASKED). CLAIMED →
 *   unmask (VFIO ACTION_UNMASK). UNCLAIMED → also unmask (the interrupt controller EOIs a level line
 *   whatever the handlers said), but after DDI_INTR_UNCLAIMED_LIMIT consecutive UNCLAIMED returns the
 *   line is left masked and a 'DDI_INTR_STUCK' warning is emitted: a stuck-interrupt guard.
 * A handler that throws is treated as UNCLAIMED; the first throw per handle emits a warning
 * ('DDI_INTR_HANDLER_THREW'), the process never crashes.
 *
 * No allocation per interrupt: one dispatch object per handle, handler and args read from the handle.
 */
import type { IrqConsumer } from '../irq/irq-line.ts';
import {
  DDI_IHDL_STATE_ENABLE, DDI_INTR_CLAIMED, DDI_INTR_TYPE_FIXED, DDI_INTR_UNCLAIMED, DDI_INTR_UNCLAIMED_LIMIT,
} from './constants.ts';
import type { IntrHandle } from './intr-handle.ts';

export class HandlerDispatch implements IrqConsumer {
  readonly #handle: IntrHandle;
  claimed = 0;
  unclaimed = 0;
  consecutiveUnclaimed = 0;
  /** Handler exceptions caught. */
  errors = 0;
  /** The stuck guard tripped: the INTx line is left masked until disable + enable. */
  stuck = false;

  constructor(handle: IntrHandle) {
    this.#handle = handle;
  }

  /** The backend unrouted the line (the device closed, e.g. on removal): fires it counted but has not
   *  delivered yet are dropped there, once, instead of a closed check on every interrupt. */
  detached(): void {
    this.#handle.line.clearPending();
  }

  /** Back to a fresh state (enable). */
  rearm(): void {
    this.consecutiveUnclaimed = 0;
    this.stuck = false;
  }

  fire(): void {
    const h = this.#handle;
    const handler = h.handler;
    // A delivery scheduled before disable/free lands after it: the vector is gone, drop it. (One
    // scheduled before the device closed never comes: `detached` drops it.)
    if (h.state !== DDI_IHDL_STATE_ENABLE || handler === null) return;
    let result: unknown = DDI_INTR_UNCLAIMED;
    try {
      result = handler(h.arg1, h.arg2);
    } catch (err) {
      this.errors++;
      if (this.errors === 1) {
        process.emitWarning(
          `ddi: the handler of ${describe(h)} threw (${err instanceof Error ? err.message : String(err)}); ` +
          'treated as DDI_INTR_UNCLAIMED. Catch errors inside interrupt handlers.',
          { type: 'DdiWarning', code: 'DDI_INTR_HANDLER_THREW' },
        );
      }
    }
    if (result === DDI_INTR_CLAIMED) {
      this.claimed++;
      this.consecutiveUnclaimed = 0;
    } else {
      this.unclaimed++;
      this.consecutiveUnclaimed++;
    }
    if (h.type === DDI_INTR_TYPE_FIXED) this.#rearmIntx(h);
  }

  #rearmIntx(h: IntrHandle): void {
    if (this.consecutiveUnclaimed >= DDI_INTR_UNCLAIMED_LIMIT) {
      this.stuck = true;
      process.emitWarning(
        `ddi: ${describe(h)} fired ${this.consecutiveUnclaimed} times in a row and no handler claimed it; ` +
        'the line is left disabled. Make the handler return DDI_INTR_CLAIMED after clearing the device\'s ' +
        'interrupt cause; ddi_intr_disable + ddi_intr_enable re-arm it.',
        { type: 'DdiWarning', code: 'DDI_INTR_STUCK' },
      );
      return;
    }
    try {
      h.dip.device.irq.unmaskIntx();
    } catch {
      // The device closed under us: nothing left to unmask.
    }
  }
}

function describe(h: IntrHandle): string {
  return `interrupt inum ${h.inum} (type ${h.type}) of ${h.dip.device.bdf}`;
}
