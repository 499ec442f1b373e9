/**
 * The demo's illumos DDI step (vfio-ddk/ddi, spec/ddi.md B.3): the edu MSI as a DDI interrupt with a
 * handler, the way an illumos driver's attach(9E) sets it up and detach(9E) tears it down —
 * ddi_intr_alloc → ddi_intr_add_handler → enable; and back: disable → remove_handler → free.
 * edu's MSI has one vector and no per-vector masking, so the nexus reports DDI_INTR_FLAG_BLOCK and
 * the vector is enabled with ddi_intr_block_enable (B.4).
 */
import {
  DDI_EAGAIN, DDI_EINVAL, DDI_FAILURE, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_FLAG_BLOCK, DDI_INTR_NOTFOUND,
  DDI_INTR_TYPE_MSI, DDI_SUCCESS, ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_disable,
  ddi_intr_block_enable, ddi_intr_free, ddi_intr_get_cap, ddi_intr_get_pri, ddi_intr_remove_handler,
} from '../ddi/index.ts';
import type { ddi_intr_handle_t } from '../ddi/index.ts';
import type { PciRegion } from '../pci/device.ts';
import { EDU_REG } from '../pci/edu-regs.ts';
import { check, deviceOf, hex32, raiseEduInterrupt } from './demo-session.ts';
import type { DemoSession, DemoStep } from './demo-session.ts';
import type { Timeline } from './demo-timeline.ts';
import { DEMO_IRQ_CAUSE } from './demo-steps-zircon.ts';

const DDI_STATUS_NAMES: Readonly<Record<number, string>> = {
  [DDI_SUCCESS]: 'DDI_SUCCESS', [DDI_FAILURE]: 'DDI_FAILURE', [DDI_EINVAL]: 'DDI_EINVAL', [DDI_EAGAIN]: 'DDI_EAGAIN',
  [DDI_INTR_NOTFOUND]: 'DDI_INTR_NOTFOUND',
};

function ddiName(status: number): string {
  return DDI_STATUS_NAMES[status] ?? String(status);
}

function ddiCheck(timeline: Timeline, status: number, call: string): void {
  timeline.log('ddi', `${call} → ${ddiName(status)}`);
  check(status === DDI_SUCCESS, `${call} returned ${ddiName(status)}`);
}

/** arg2 of the handler: where it reports what it saw (a driver would pass its soft state). */
class HandlerReport {
  /** The BAR the handler must be given as arg1. */
  readonly bar: PciRegion;
  runs = 0;
  status = 0;
  arg1Ok = false;
  readonly ran: Promise<void>;
  #resolve: () => void = () => {};
  constructor(bar: PciRegion) {
    this.bar = bar;
    this.ran = new Promise<void>((resolve) => { this.#resolve = resolve; });
  }
  done(): void {
    this.#resolve();
  }
}

/**
 * The interrupt handler, as an illumos driver writes it (ddi_intr_add_handler(9F)): arg1 is the
 * device's registers, arg2 the driver's state. It reads the causes, acknowledges exactly those (D.3)
 * and claims the interrupt.
 */
function eduInterruptHandler(arg1: unknown, arg2: unknown): number {
  const bar = arg1 as PciRegion;
  const report = arg2 as HandlerReport;
  report.arg1Ok = bar === report.bar;
  report.status = bar.read32(EDU_REG.IRQ_STATUS);
  if (report.status !== 0) bar.write32(EDU_REG.IRQ_ACK, report.status);
  report.runs++;
  report.done();
  return DDI_INTR_CLAIMED;
}

async function ddiInterruptHandler(session: DemoSession): Promise<void> {
  const device = deviceOf(session);
  const { timeline } = session;
  const dip = ddi_dev_info(device);
  const handles: (ddi_intr_handle_t | null)[] = [];
  const actual = { value: 0 };
  let added = false;
  let enabled = false;
  const teardown: [string, number][] = [];
  ddiCheck(timeline, ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSI, 0, 1, actual, DDI_INTR_ALLOC_STRICT), 'ddi_intr_alloc(MSI, inum 0, count 1, STRICT)');
  const handle = handles[0] ?? null;
  try {
    const cap = { value: 0 };
    const pri = { value: 0 };
    ddi_intr_get_cap(handle, cap);
    ddi_intr_get_pri(handle, pri);
    const block = (cap.value & DDI_INTR_FLAG_BLOCK) !== 0;
    timeline.log('ddi', `cap 0x${cap.value.toString(16)}${block ? ' (DDI_INTR_FLAG_BLOCK: no per-vector mask)' : ''}, priority ${pri.value}`);
    check(block, 'edu MSI without per-vector masking must report DDI_INTR_FLAG_BLOCK (spec/ddi.md B.4)');
    const report = new HandlerReport(device.bar(0));
    ddiCheck(timeline, ddi_intr_add_handler(handle, eduInterruptHandler, device.bar(0), report), 'ddi_intr_add_handler(handler, arg1 = BAR0, arg2 = report)');
    added = true;
    ddiCheck(timeline, ddi_intr_block_enable(handles, 1), 'ddi_intr_block_enable');
    enabled = true;
    raiseEduInterrupt(device, DEMO_IRQ_CAUSE);
    timeline.log('edu', `write ${hex32(DEMO_IRQ_CAUSE)} to IRQ_RAISE`);
    await report.ran;
    timeline.log('ddi', `handler ran (${report.runs}×) with arg1 = BAR0: ${report.arg1Ok ? 'yes' : 'NO'}, arg2 = report; IRQ_STATUS ${hex32(report.status)} acknowledged, returned DDI_INTR_CLAIMED`);
    check(report.arg1Ok, 'the handler did not receive the arg1 it was added with');
    check(report.status === DEMO_IRQ_CAUSE, `the handler saw IRQ_STATUS ${hex32(report.status)}, expected ${hex32(DEMO_IRQ_CAUSE)}`);
  } finally {
    // detach(9E) order: disable, remove the handler, free — each only if the matching step was done.
    // Logged here, checked below, so a teardown status never hides the error that got us here.
    if (enabled) teardown.push(['ddi_intr_block_disable', ddi_intr_block_disable(handles, 1)]);
    if (added) teardown.push(['ddi_intr_remove_handler', ddi_intr_remove_handler(handle)]);
    teardown.push(['ddi_intr_free', ddi_intr_free(handle)]);
    for (const [call, status] of teardown) timeline.log('ddi', `${call} → ${ddiName(status)}`);
  }
  for (const [call, status] of teardown) check(status === DDI_SUCCESS, `${call} returned ${ddiName(status)}`);
  const active = device.irq.activeIndex;
  timeline.log('ddi', `MSI ${active === null ? 'disabled' : `still active (index ${active})`}`);
  check(active === null, 'freeing the DDI interrupt left the MSI index enabled');
}

export const DDI_STEPS: readonly DemoStep[] = [
  { id: 'ddi-handler', title: 'the edu MSI through a ddi_intr handler', hint: 'run the DDI kit tests (`npx tap test/ddi`)', run: ddiInterruptHandler },
];
