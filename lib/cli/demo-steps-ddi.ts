/**
 * The demo's illumos DDI step (vfio-ddk/ddi, spec/ddi.md B.3): the edu as an illumos driver's
 * attach(9E) brings it up — pci_config_setup to check the IDs, ddi_regs_map_setup of reg entry 1
 * (BAR0) with little-endian access attributes, then the MSI as a DDI interrupt: ddi_intr_alloc →
 * ddi_intr_add_handler → enable, the handler reading and acknowledging the causes with ddi_get32 /
 * ddi_put32 — and detach(9E) tears it down: disable → remove_handler → free → regs_map_free.
 * edu's MSI has one vector and no per-vector masking, so the nexus reports DDI_INTR_FLAG_BLOCK and
 * the vector is enabled with ddi_intr_block_enable (B.4).
 */
import {
  DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_FLAG_BLOCK,
  DDI_INTR_TYPE_MSI, DDI_SUCCESS, ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_disable,
  ddi_intr_block_enable, ddi_intr_free, ddi_intr_get_cap, ddi_intr_get_pri, ddi_intr_remove_handler,
} from '../ddi/index.ts';
import { ddiStatusName } from '../ddi/status-names.ts';
import {
  DDI_DEVICE_ATTR_V0, DDI_STRICTORDER_ACC, DDI_STRUCTURE_LE_ACC, ddi_check_acc_handle, ddi_get32, ddi_put32,
  ddi_regs_map_free, ddi_regs_map_setup, pci_config_get16, pci_config_setup, pci_config_teardown,
} from '../ddi/index.ts';
import type { ddi_acc_handle_t, ddi_intr_handle_t } from '../ddi/index.ts';
import { EDU_DEVICE_ID, EDU_REG, EDU_VENDOR_ID } from '../pci/edu-regs.ts';
import { PCI_DEVICE_ID, PCI_VENDOR_ID } from '../pci/regs.ts';
import { check, deviceOf, hex32 } from './demo-session.ts';
import type { DemoSession, DemoStep } from './demo-session.ts';
import type { Timeline } from './demo-timeline.ts';
import { DEMO_IRQ_CAUSE } from './demo-steps-zircon.ts';

/** The status by its C name; the call decides what a 1 means (DDI_INTR_NOTFOUND or DDI_ENOMEM). */
function ddiName(call: string, status: number): string {
  return ddiStatusName(call.replace(/\(.*$/, ''), status) ?? String(status);
}

function ddiCheck(timeline: Timeline, status: number, call: string): void {
  timeline.log('ddi', `${call} → ${ddiName(call, status)}`);
  check(status === DDI_SUCCESS, `${call} returned ${ddiName(call, status)}`);
}

/** The registers as ddi_regs_map_setup handed them out: the access handle and BAR0's base address. */
interface EduRegs {
  readonly handle: ddi_acc_handle_t;
  readonly base: bigint;
}

/** arg2 of the handler: where it reports what it saw (a driver would pass its soft state). */
class HandlerReport {
  /** The registers the handler must be given as arg1. */
  readonly regs: EduRegs;
  runs = 0;
  status = 0;
  arg1Ok = false;
  readonly ran: Promise<void>;
  #resolve: () => void = () => {};
  constructor(regs: EduRegs) {
    this.regs = regs;
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
  const regs = arg1 as EduRegs;
  const report = arg2 as HandlerReport;
  report.arg1Ok = regs === report.regs;
  report.status = ddi_get32(regs.handle, regs.base + BigInt(EDU_REG.IRQ_STATUS));
  if (report.status !== 0) ddi_put32(regs.handle, regs.base + BigInt(EDU_REG.IRQ_ACK), report.status);
  report.runs++;
  report.done();
  return DDI_INTR_CLAIMED;
}

/** attach(9E)'s first steps: the IDs through a config handle, BAR0 (reg entry 1) mapped little-endian. */
function attachRegisters(timeline: Timeline, dip: ReturnType<typeof ddi_dev_info>): EduRegs {
  const cfg = { value: null as ddi_acc_handle_t | null };
  ddiCheck(timeline, pci_config_setup(dip, cfg), 'pci_config_setup');
  const vendor = pci_config_get16(cfg.value, PCI_VENDOR_ID);
  const deviceId = pci_config_get16(cfg.value, PCI_DEVICE_ID);
  pci_config_teardown(cfg);
  timeline.log('ddi', `pci_config_get16: vendor 0x${vendor.toString(16)}, device 0x${deviceId.toString(16)}`);
  check(vendor === EDU_VENDOR_ID && deviceId === EDU_DEVICE_ID, 'not an edu (spec/edu.md D.1)');
  const acc = { devacc_attr_version: DDI_DEVICE_ATTR_V0, devacc_attr_endian_flags: DDI_STRUCTURE_LE_ACC, devacc_attr_dataorder: DDI_STRICTORDER_ACC };
  const base = { value: 0n };
  const handle = { value: null as ddi_acc_handle_t | null };
  ddiCheck(timeline, ddi_regs_map_setup(dip, 1, base, 0, 0, acc, handle), 'ddi_regs_map_setup(rnumber 1 = BAR0, LE access)');
  return { handle: handle.value as ddi_acc_handle_t, base: base.value };
}

async function ddiInterruptHandler(session: DemoSession): Promise<void> {
  const device = deviceOf(session);
  const { timeline } = session;
  const dip = ddi_dev_info(device);
  const regs = attachRegisters(timeline, dip);
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
    const report = new HandlerReport(regs);
    ddiCheck(timeline, ddi_intr_add_handler(handle, eduInterruptHandler, regs, report), 'ddi_intr_add_handler(handler, arg1 = BAR0 regs, arg2 = report)');
    added = true;
    ddiCheck(timeline, ddi_intr_block_enable(handles, 1), 'ddi_intr_block_enable');
    enabled = true;
    ddi_put32(regs.handle, regs.base + BigInt(EDU_REG.IRQ_RAISE), DEMO_IRQ_CAUSE);
    timeline.log('edu', `ddi_put32 ${hex32(DEMO_IRQ_CAUSE)} to IRQ_RAISE`);
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
    teardown.push(['ddi_check_acc_handle', ddi_check_acc_handle(regs.handle)]);
    const mapped = { value: regs.handle as ddi_acc_handle_t | null };
    ddi_regs_map_free(mapped);
    for (const [call, status] of teardown) timeline.log('ddi', `${call} → ${ddiName(call, status)}`);
  }
  for (const [call, status] of teardown) check(status === DDI_SUCCESS, `${call} returned ${ddiName(call, status)}`);
  const active = device.irq.activeIndex;
  timeline.log('ddi', `MSI ${active === null ? 'disabled' : `still active (index ${active})`}`);
  check(active === null, 'freeing the DDI interrupt left the MSI index enabled');
}

export const DDI_STEPS: readonly DemoStep[] = [
  { id: 'ddi-handler', title: 'the edu MSI through a ddi_intr handler', hint: 'run the DDI kit tests (`npx tap test/ddi`)', run: ddiInterruptHandler },
];
