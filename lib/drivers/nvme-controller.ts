/**
 * Controller-level steps every NVMe driver here shares (NvmeDriver in nvme.ts, the blocking IRQ
 * thread in nvme-irq-thread/): the probe (class 01:08:02, CAP.CSS / CAP.MPSMIN, §3.1.1), the
 * initialization of §7.6.1 steps 1–5 with the admin queue pair, the normal shutdown of §7.6.2, and
 * the CSTS polling between them. They run on the event loop (the waits poll with timers): a driver
 * brings the controller up before its thread blocks, and shuts it down after.
 *
 * Registers are reached through `regs()`, so a driver that was closed meanwhile stops the wait with
 * its own error. Errors: DdkError 'ENODEV' (not NVMe), 'ENOTSUP' (no NVM command set or no 4 KiB
 * pages), 'EIO' (Controller Fatal Status), 'ETIMEDOUT' (a CSTS transition did not come; the message
 * says which), 'ABORT_ERR' (the signal).
 */
import type { PciDevice, PciRegion } from '../pci/device.ts';
import { DdkError } from '../errors.ts';
import { throwIfAborted } from './wait.ts';
import type { NvmeQueuePair } from './nvme-queue.ts';
import { PCI_CLASS_REVISION } from '../pci/regs.ts';
import {
  NVME_AQA_ACQS_SHIFT, NVME_CAP_CSS_NVM, NVME_CAP_TO_UNIT_MS, NVME_CC_CSS_NVM, NVME_CC_CSS_SHIFT, NVME_CC_EN,
  NVME_CC_IOCQES_SHIFT, NVME_CC_IOSQES_SHIFT, NVME_CC_MPS_SHIFT, NVME_CC_SHN_NORMAL, NVME_CC_SHN_SHIFT, NVME_CQES,
  NVME_CSTS_CFS, NVME_CSTS_RDY, NVME_CSTS_SHST_COMPLETE, NVME_CSTS_SHST_MASK, NVME_REG, NVME_SQES,
  PCI_CLASS_STORAGE_EXPRESS, nvmeCapField,
} from '../pci/nvme-regs.ts';

/** CC.MPS 0: 4 KiB memory pages (§3.1.5). */
export const NVME_PAGE_SIZE_4K_MPS = 0;

/** What the probe learnt from CAP (§3.1.1). */
export interface NvmeCapabilities {
  readonly cap: bigint;
  readonly dstrd: number;
  /** CAP.MQES + 1: the most entries a queue may have. */
  readonly maxQueueEntries: number;
  /** CAP.TO in ms (at least one 500 ms unit): how long CSTS.RDY may take. */
  readonly readyTimeoutMs: number;
}

/** Throws DdkError 'ENODEV' unless `device` is an NVM Express controller (class 0x010802). */
export function checkNvmeClass(device: PciDevice): void {
  const classCode = device.config.read32(PCI_CLASS_REVISION) >>> 8;
  if (classCode !== PCI_CLASS_STORAGE_EXPRESS) {
    throw new DdkError('ENODEV', `${device.bdf} has class 0x${classCode.toString(16).padStart(6, '0')}, not an NVM Express controller (0x010802)`);
  }
}

/** Reads CAP (§3.1: two 32-bit halves, low first) and refuses what these drivers cannot drive. */
export function readNvmeCapabilities(device: PciDevice, bar: PciRegion): NvmeCapabilities {
  const cap = (BigInt(bar.read32(NVME_REG.CAP + 4)) << 32n) | BigInt(bar.read32(NVME_REG.CAP));
  if ((nvmeCapField(cap, 'CSS') & NVME_CAP_CSS_NVM) === 0) throw new DdkError('ENOTSUP', `${device.bdf}: CAP.CSS does not offer the NVM command set`);
  if (nvmeCapField(cap, 'MPSMIN') > NVME_PAGE_SIZE_4K_MPS) throw new DdkError('ENOTSUP', `${device.bdf}: CAP.MPSMIN > 0, the controller does not take 4 KiB pages`);
  return {
    cap,
    dstrd: nvmeCapField(cap, 'DSTRD'),
    maxQueueEntries: nvmeCapField(cap, 'MQES') + 1,
    readyTimeoutMs: Math.max(1, nvmeCapField(cap, 'TO')) * NVME_CAP_TO_UNIT_MS,
  };
}

/** The controller's registers as a driver reaches them (it throws when the driver was closed). */
export interface NvmeRegisterAccess {
  readonly bdf: string;
  regs(): PciRegion;
  readonly readyTimeoutMs: number;
}

function pause(polls: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(polls, 10)));
}

/** Polls CSTS until `(CSTS & mask) === want`; CFS → 'EIO'; past the ready timeout → 'ETIMEDOUT'. */
export async function waitControllerStatus(ctrl: NvmeRegisterAccess, mask: number, want: number, what: string, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + ctrl.readyTimeoutMs;
  for (let polls = 0; ; polls++) {
    throwIfAborted(`${ctrl.bdf}: waiting until ${what.replace(/ did not .*/, '')}`, signal);
    const csts = ctrl.regs().read32(NVME_REG.CSTS);
    if ((csts & mask) === want) return;
    if ((csts & NVME_CSTS_CFS) !== 0 && want !== 0) throw new DdkError('EIO', `${ctrl.bdf}: Controller Fatal Status (CSTS 0x${csts.toString(16)}) while waiting: ${what}`);
    if (performance.now() > deadline) throw new DdkError('ETIMEDOUT', `${ctrl.bdf}: ${what} within ${ctrl.readyTimeoutMs} ms (CSTS 0x${csts.toString(16)})`);
    await pause(polls);
  }
}

/** §7.6.1 steps 1–5: reset, the admin queues from `admin` (reset to empty), enable, wait for CSTS.RDY. */
export async function enableController(ctrl: NvmeRegisterAccess, admin: NvmeQueuePair, signal?: AbortSignal): Promise<void> {
  const bar = ctrl.regs();
  // Step 1: reset the controller and wait until it reports not ready (§7.3.2).
  const cc = bar.read32(NVME_REG.CC);
  if ((cc & NVME_CC_EN) !== 0) bar.write32(NVME_REG.CC, cc & ~NVME_CC_EN);
  await waitControllerStatus(ctrl, NVME_CSTS_RDY, 0, 'CSTS.RDY did not clear after CC.EN = 0 (controller reset)', signal);
  // Step 2: the admin queues. The CQ's phase tags start at 0 (§4.6), the host's expected phase at 1.
  admin.reset();
  bar.write32(NVME_REG.AQA, ((admin.entries - 1) << NVME_AQA_ACQS_SHIFT | (admin.entries - 1)) >>> 0);
  for (const [reg, iova] of [[NVME_REG.ASQ, admin.sqIova], [NVME_REG.ACQ, admin.cqIova]] as const) {
    bar.write32(reg, Number(iova & 0xffff_ffffn));
    bar.write32(reg + 4, Number(iova >> 32n));
  }
  // Steps 3–4: NVM command set, 4 KiB pages, round robin, 64/16-byte entries, then enable.
  const config = (NVME_CC_CSS_NVM << NVME_CC_CSS_SHIFT) | (NVME_PAGE_SIZE_4K_MPS << NVME_CC_MPS_SHIFT)
    | (NVME_SQES << NVME_CC_IOSQES_SHIFT) | (NVME_CQES << NVME_CC_IOCQES_SHIFT);
  bar.write32(NVME_REG.CC, config);
  bar.write32(NVME_REG.CC, config | NVME_CC_EN);
  // Step 5: wait for CSTS.RDY = 1 (CAP.TO bounds it).
  await waitControllerStatus(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, 'CSTS.RDY did not become 1 after CC.EN = 1 (controller enable)', signal);
}

/** §7.6.2 normal shutdown (CC.SHN = 01b, wait CSTS.SHST = 10b) when the controller is ready and not failed. */
export async function shutdownController(ctrl: NvmeRegisterAccess): Promise<void> {
  const bar = ctrl.regs();
  const csts = bar.read32(NVME_REG.CSTS);
  if ((csts & NVME_CSTS_RDY) === 0 || (csts & NVME_CSTS_CFS) !== 0) return;
  bar.write32(NVME_REG.CC, bar.read32(NVME_REG.CC) | (NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT));
  await waitControllerStatus(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, 'CSTS.SHST did not report shutdown complete (10b) after CC.SHN = 01b');
}
