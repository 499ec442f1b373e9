/**
 * The edu's interrupt loop written as a Zircon IRQ thread (the way Fuchsia's qemu_edu sample services
 * its interrupt, but blocking): the device's MSI as a Zircon interrupt object — the bus driver's step
 * included (capability programmed from ZX_INFO_MSI) — then, per round, raise a cause (spec/edu.md D.3),
 * block in zx_interrupt_wait from `vfio-ddk/zircon/blocking`, acknowledge the cause and report.
 *
 * `runEduDdiInterruptThread` is the same loop with a ddi_intr handler on an interrupt thread.
 *
 * It blocks the calling thread: run it in a Worker (lib/cli/irq-thread.ts spawns one and relays its
 * reports). On the emulated edu the raise is synchronous, so the blocked thread still sees it; on a
 * real edu the MSI arrives through VFIO's eventfd, read natively while the thread is blocked.
 */
import type { PciDevice } from '../pci/device.ts';
import { findMsi } from '../pci/capabilities.ts';
import { EDU_REG } from '../pci/edu-regs.ts';
import {
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_INFO_MSI, ZX_OK, disableMsiCapability, get_root_resource, programMsiCapability,
  zx_handle_close, zx_msi_allocate, zx_msi_create, zx_object_get_info, zx_platform_attach,
  zx_status_get_string, zx_vmo_create_physical, zx_vmo_set_cache_policy, type zx_info_msi_t,
} from '../zircon/index.ts';
import { zx_interrupt_wait } from '../zircon/blocking/index.ts';
import { zx_clock_get_monotonic } from '../zircon/index.ts';
import {
  DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_FLAG_BLOCK, DDI_INTR_TYPE_MSI, DDI_INTR_UNCLAIMED, DDI_SUCCESS,
  ddi_dev_info, ddi_intr_add_handler, ddi_intr_alloc, ddi_intr_block_disable, ddi_intr_block_enable, ddi_intr_disable,
  ddi_intr_enable, ddi_intr_free, ddi_intr_get_cap, ddi_intr_remove_handler, ddi_intr_thread_run, type ddi_intr_handle_t,
} from '../ddi/index.ts';

/** One serviced interrupt: the status, the cause acknowledged, raise → the thread running again (ns, CLOCK_MONOTONIC). */
export interface EduIrqReport {
  round: number;
  status: string;
  cause: number;
  latencyNs: number;
}

function check(status: number, call: string): void {
  if (status !== ZX_OK) throw new Error(`${call} returned ${zx_status_get_string(status)}`);
}

/** Services `rounds` interrupts of `device` on this thread; `report` is called after each. */
export function runEduIrqThread(device: PciDevice, rounds: number, report: (r: EduIrqReport) => void): void {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${String(rounds)}`);
  const cap = findMsi(device.config);
  if (cap === null) throw new Error(`${device.bdf} has no MSI capability: is it an edu (spec/edu.md D.1)?`);
  const platform = zx_platform_attach(device);
  const root = get_root_resource();
  const vmo = { value: 0 };
  const msi = { value: 0 };
  const irq = { value: 0 };
  try {
    check(zx_vmo_create_physical(root, platform.ecam, 4096n, vmo), 'zx_vmo_create_physical');
    check(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE), 'zx_vmo_set_cache_policy');
    check(zx_msi_allocate(root, 1, msi), 'zx_msi_allocate');
    check(zx_msi_create(msi.value, 0, 0, vmo.value, cap.offset, irq), 'zx_msi_create');
    const info = { value: {} };
    check(zx_object_get_info(msi.value, ZX_INFO_MSI, info), 'zx_object_get_info');
    programMsiCapability(device, info.value as zx_info_msi_t, 1);
    const bar = device.bar(0);
    const timestamp = { value: 0n };
    for (let round = 0; round < rounds; round++) {
      const cause = 1 << (round % 16);
      const raisedAt = zx_clock_get_monotonic();
      bar.write32(EDU_REG.IRQ_RAISE, cause);
      const status = zx_interrupt_wait(irq.value, timestamp); // blocks this thread
      const wokenAt = zx_clock_get_monotonic();
      const acked = bar.read32(EDU_REG.IRQ_STATUS);
      if (acked !== 0) bar.write32(EDU_REG.IRQ_ACK, acked);
      report({ round, status: zx_status_get_string(status), cause: acked, latencyNs: Number(wokenAt - raisedAt) });
      if (status !== ZX_OK) break;
    }
  } finally {
    for (const h of [irq.value, msi.value, vmo.value]) if (h !== 0) zx_handle_close(h);
    if (!device.closed) disableMsiCapability(device);
  }
}

/**
 * The same loop the illumos way: the edu's MSI through ddi_intr_* with a handler, dispatched by an
 * interrupt thread (`ddi_intr_thread_run`) on this thread. The handler acknowledges the cause and
 * raises the next one, so the thread services `rounds` interrupts back to back; the timestamp of a
 * round is when its handler runs.
 */
export function runEduDdiInterruptThread(device: PciDevice, rounds: number, report: (r: EduIrqReport) => void): void {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${String(rounds)}`);
  const dip = ddi_dev_info(device);
  const handles: ddi_intr_handle_t[] = [];
  const actual = { value: 0 };
  if (ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSI, 0, 1, actual, DDI_INTR_ALLOC_STRICT) !== DDI_SUCCESS) {
    throw new Error(`ddi_intr_alloc(MSI) failed on ${device.bdf}`);
  }
  const h = handles[0] as ddi_intr_handle_t;
  const bar = device.bar(0);
  let round = 0;
  let raisedAt = 0n;
  const raise = (): void => {
    raisedAt = zx_clock_get_monotonic();
    bar.write32(EDU_REG.IRQ_RAISE, 1 << (round % 16));
  };
  ddi_intr_add_handler(h, () => {
    const now = zx_clock_get_monotonic();
    const cause = bar.read32(EDU_REG.IRQ_STATUS);
    if (cause === 0) return DDI_INTR_UNCLAIMED;
    bar.write32(EDU_REG.IRQ_ACK, cause);
    report({ round, status: 'DDI_INTR_CLAIMED', cause, latencyNs: Number(now - raisedAt) });
    round++;
    if (round < rounds) raise();
    return DDI_INTR_CLAIMED;
  }, null, null);
  const cap = { value: 0 };
  ddi_intr_get_cap(h, cap);
  const block = (cap.value & DDI_INTR_FLAG_BLOCK) !== 0;
  if ((block ? ddi_intr_block_enable([h], 1) : ddi_intr_enable(h)) !== DDI_SUCCESS) throw new Error('ddi_intr_enable failed');
  try {
    raise();
    const result = ddi_intr_thread_run({ maxEvents: rounds, deadline: zx_clock_get_monotonic() + 60_000_000_000n });
    if (round < rounds) throw new Error(`interrupt thread ended (${result.reason}) after ${round} of ${rounds} rounds`);
  } finally {
    if (block) ddi_intr_block_disable([h], 1);
    else ddi_intr_disable(h);
    ddi_intr_remove_handler(h);
    ddi_intr_free(h);
  }
}
