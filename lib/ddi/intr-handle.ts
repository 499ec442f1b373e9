/**
 * `ddi_intr_handle_t`: one allocated interrupt vector (or a dup of one), with the fields of
 * ddi_intr_handle_impl_t that spec/ddi.md B.2 lists: state, type, inum, cached caps and priority,
 * handler and args, the MSIX_DUP flag, dup count and the main handle of a dup.
 *
 * Handles are opaque to callers. Only handles made by ddi_intr_alloc / ddi_intr_dup_handler and not
 * yet freed are "live"; anything else (null, a plain object, a freed handle) fails the lookup, so
 * every entry point can answer DDI_EINVAL instead of touching foreign state.
 */
import { IrqLine } from '../irq/irq-line.ts';
import { DDI_INTR_MSIX_DUP } from './constants.ts';
import type { DevInfo } from './dev-info.ts';
import { HandlerDispatch } from './dispatch.ts';

export type ddi_intr_handler_t = (arg1: unknown, arg2: unknown) => number;

export class IntrHandle {
  readonly dip: DevInfo;
  readonly type: number;
  inum: number;
  /** DDI_IHDL_STATE_*; 0 once freed. */
  state: number;
  /** Cached capability flags (MSI64 included; get_cap hides it). */
  cap: number;
  pri: number;
  handler: ddi_intr_handler_t | null = null;
  arg1: unknown = null;
  arg2: unknown = null;
  /** ih_flags: DDI_INTR_MSIX_DUP on dups. */
  flags = 0;
  dupCount = 0;
  /** For a dup: the handle it duplicates. */
  main: IntrHandle | null = null;
  /** The vector's line: the backend fires it, `dispatch` consumes it (one per handle, reused). */
  readonly line: IrqLine;
  readonly dispatch: HandlerDispatch;

  constructor(dip: DevInfo, type: number, inum: number, state: number, cap: number, pri: number) {
    this.dip = dip;
    this.type = type;
    this.inum = inum;
    this.state = state;
    this.cap = cap;
    this.pri = pri;
    this.line = new IrqLine(`ddi ${dip.device.bdf} type ${type} inum ${inum}`);
    this.dispatch = new HandlerDispatch(this);
    this.line.setConsumer(this.dispatch);
    liveHandles.add(this);
  }

  get isDup(): boolean {
    return (this.flags & DDI_INTR_MSIX_DUP) !== 0;
  }

  /** Ends the handle: later lookups fail. */
  release(): void {
    this.state = 0;
    this.handler = null;
    this.arg1 = null;
    this.arg2 = null;
    this.line.clearPending();
    liveHandles.delete(this);
  }
}

export type ddi_intr_handle_t = IntrHandle;

const liveHandles = new WeakSet<object>();

/** The live handle `h` stands for, or null (NULL, plain object, freed handle). */
export function lookupHandle(h: unknown): IntrHandle | null {
  return typeof h === 'object' && h !== null && liveHandles.has(h) ? (h as IntrHandle) : null;
}
