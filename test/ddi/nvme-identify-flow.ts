/**
 * NVMe Identify Controller written the way illumos' nvme.c attach does it, through the DDI only:
 * BAR0 through ddi_regs_map_setup + ddi_get/ddi_put (CAP, CC, CSTS, AQA, ASQ, ACQ, doorbells),
 * the admin queues and the identify buffer through ddi_dma_alloc_handle / ddi_dma_mem_alloc /
 * ddi_dma_addr_bind_handle / ddi_dma_sync, the completion through an MSI-X vector 0 handler
 * (ddi_intr_alloc / add_handler / enable). NVMe 1.4 §7.6.1 (initialization), §4.2/§4.6 (queue
 * entries), §5.15 (Identify). Shared by test/ddi (emulated NVMe) and hw-tests (QEMU NVMe over VFIO);
 * imports the library only by package name.
 */
import {
  NVME_ADMIN_OPC, NVME_AQA_ACQS_SHIFT, NVME_CC_CSS_NVM, NVME_CC_CSS_SHIFT, NVME_CC_EN, NVME_CC_IOCQES_SHIFT,
  NVME_CC_IOSQES_SHIFT, NVME_CC_SHN_NORMAL, NVME_CC_SHN_SHIFT, NVME_CNS, NVME_CQE, NVME_CQE_PHASE, NVME_CQE_SIZE,
  NVME_CQE_STATUS_SHIFT, NVME_CQES, NVME_CSTS_CFS, NVME_CSTS_RDY, NVME_ID_CTRL, NVME_ID_CTRL_SN_LENGTH,
  NVME_IDENTIFY_DATA_SIZE, NVME_REG, NVME_SQE, NVME_SQE_CID_SHIFT, NVME_SQE_SIZE, NVME_SQES, nvmeCapField,
  nvmeCqHeadDoorbell, nvmeSqTailDoorbell, type PciDevice,
} from 'vfio-ddk';
import {
  DDI_DEVICE_ATTR_V1, DDI_DMA_CONSISTENT, DDI_DMA_MAPPED, DDI_DMA_RDWR, DDI_DMA_READ, DDI_DMA_SLEEP,
  DDI_DMA_SYNC_FORCPU, DDI_DMA_SYNC_FORDEV, DDI_DMA_WRITE, DDI_FLAGERR_ACC, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED,
  DDI_INTR_TYPE_MSIX, DDI_INTR_UNCLAIMED, DDI_STRICTORDER_ACC, DDI_STRUCTURE_LE_ACC, DDI_SUCCESS, DMA_ATTR_V0,
  ddi_check_acc_handle, ddi_dev_info, ddi_dma_addr_bind_handle, ddi_dma_alloc_handle, ddi_dma_free_handle,
  ddi_dma_mem_alloc, ddi_dma_mem_free, ddi_dma_sync, ddi_dma_unbind_handle, ddi_get32, ddi_get64, ddi_intr_add_handler,
  ddi_intr_alloc, ddi_intr_disable, ddi_intr_enable, ddi_intr_free, ddi_intr_remove_handler, ddi_put32, ddi_put64,
  ddi_regs_map_free, ddi_regs_map_setup, delay, drv_usectohz, type ddi_acc_handle_t, type ddi_device_acc_attr_t,
  type ddi_dma_attr_t, type ddi_dma_cookie_t, type ddi_dma_handle_t, type ddi_intr_handle_t, type dev_info_t,
} from 'vfio-ddk/ddi';

/** nvme.c's nvme_reg_acc_attr: little-endian registers, FMA access checking. */
const regAttr: ddi_device_acc_attr_t = {
  devacc_attr_version: DDI_DEVICE_ATTR_V1, devacc_attr_endian_flags: DDI_STRUCTURE_LE_ACC,
  devacc_attr_dataorder: DDI_STRICTORDER_ACC, devacc_attr_access: DDI_FLAGERR_ACC,
};

/** nvme.c's nvme_queue_dma_attr: 64-bit, page aligned, one cookie. */
const queueAttr: ddi_dma_attr_t = {
  dma_attr_version: DMA_ATTR_V0, dma_attr_addr_lo: 0n, dma_attr_addr_hi: 0xffff_ffff_ffff_ffffn,
  dma_attr_count_max: 0xffff_ffffn, dma_attr_align: 0x1000n, dma_attr_burstsizes: 0x7ff, dma_attr_minxfer: 0x1000,
  dma_attr_maxxfer: 0xffff_ffffn, dma_attr_seg: 0xffff_ffff_ffff_ffffn, dma_attr_sgllen: 1, dma_attr_granular: 1,
  dma_attr_flags: 0,
};

interface DmaArea {
  handle: ddi_dma_handle_t;
  acc: { value: ddi_acc_handle_t | null };
  kaddr: Uint8Array;
  cookie: ddi_dma_cookie_t;
}

export interface IdentifyResult {
  serial: string;
  /** Handler calls that claimed the completion. */
  claimed: number;
  /** Every DDI status seen along the way (all must be DDI_SUCCESS / DDI_DMA_MAPPED). */
  statuses: Record<string, number>;
  /** ddi_check_acc_handle on the register mapping at the end. */
  accCheck: number;
  /** IOVAs of the queues and the identify buffer. */
  iovas: bigint[];
}

function check(statuses: Record<string, number>, what: string, status: number, ok = DDI_SUCCESS): void {
  statuses[what] = status;
  if (status !== ok) throw new Error(`${what} returned ${status}`);
}

function area(dip: dev_info_t, size: number, flags: number, statuses: Record<string, number>, what: string): DmaArea {
  const h: { value: ddi_dma_handle_t | null } = { value: null };
  check(statuses, `ddi_dma_alloc_handle(${what})`, ddi_dma_alloc_handle(dip, queueAttr, DDI_DMA_SLEEP, null, h));
  const handle = h.value as ddi_dma_handle_t;
  const kaddr: { value: Uint8Array | null } = { value: null };
  const acc: { value: ddi_acc_handle_t | null } = { value: null };
  check(statuses, `ddi_dma_mem_alloc(${what})`, ddi_dma_mem_alloc(handle, size, regAttr, DDI_DMA_CONSISTENT, DDI_DMA_SLEEP, null, kaddr, { value: 0 }, acc));
  const cookie = {} as ddi_dma_cookie_t;
  const ccount = { value: 0 };
  check(statuses, `ddi_dma_addr_bind_handle(${what})`,
    ddi_dma_addr_bind_handle(handle, null, kaddr.value as Uint8Array, size, flags | DDI_DMA_CONSISTENT, DDI_DMA_SLEEP, null, cookie, ccount),
    DDI_DMA_MAPPED);
  return { handle, acc, kaddr: kaddr.value as Uint8Array, cookie };
}

function freeArea(a: DmaArea): void {
  ddi_dma_unbind_handle(a.handle);
  ddi_dma_mem_free(a.acc);
  ddi_dma_free_handle({ value: a.handle });
}

async function waitCsts(get: () => number, ready: boolean, ms: number): Promise<void> {
  const ticks = drv_usectohz(1000);
  for (let waited = 0; ; waited += 10) {
    const csts = get();
    if ((csts & NVME_CSTS_CFS) !== 0) throw new Error('CSTS.CFS: controller fatal status');
    if (((csts & NVME_CSTS_RDY) !== 0) === ready) return;
    if (waited > ms) throw new Error(`CSTS.RDY did not become ${ready ? 1 : 0} in ${ms} ms`);
    await delay(ticks);
  }
}

/** Runs Identify Controller on `device` through the DDI and tears everything down again. */
export async function identifyThroughDdi(device: PciDevice, entries = 8): Promise<IdentifyResult> {
  const statuses: Record<string, number> = {};
  const dip = ddi_dev_info(device);
  const regsAddr = { value: 0n };
  const regh: { value: ddi_acc_handle_t | null } = { value: null };
  check(statuses, 'ddi_regs_map_setup', ddi_regs_map_setup(dip, 1, regsAddr, 0, 0, regAttr, regh));
  const regs = regh.value as ddi_acc_handle_t;
  const r = (off: number): bigint => regsAddr.value + BigInt(off);
  const cap = ddi_get64(regs, r(NVME_REG.CAP));
  const dstrd = nvmeCapField(cap, 'DSTRD');
  const timeoutMs = Math.max(1, nvmeCapField(cap, 'TO')) * 500;
  const csts = (): number => ddi_get32(regs, r(NVME_REG.CSTS));

  // §7.6.1 step 1: disable, wait for RDY = 0.
  ddi_put32(regs, r(NVME_REG.CC), ddi_get32(regs, r(NVME_REG.CC)) & ~NVME_CC_EN);
  await waitCsts(csts, false, timeoutMs);

  const sq = area(dip, entries * NVME_SQE_SIZE, DDI_DMA_WRITE, statuses, 'admin SQ');
  const cq = area(dip, entries * NVME_CQE_SIZE, DDI_DMA_READ, statuses, 'admin CQ');
  const id = area(dip, NVME_IDENTIFY_DATA_SIZE, DDI_DMA_RDWR, statuses, 'identify');

  // Completion on MSI-X vector 0 (§7.5.1: the admin CQ's interrupt).
  const ih: { value: ddi_intr_handle_t | null } = { value: null };
  const actual = { value: 0 };
  check(statuses, 'ddi_intr_alloc', ddi_intr_alloc(dip, ih, DDI_INTR_TYPE_MSIX, 0, 1, actual, DDI_INTR_ALLOC_STRICT));
  const intr = ih.value as ddi_intr_handle_t;
  let claimed = 0;
  let done: (status: number) => void = () => {};
  const completion = new Promise<number>((resolve) => { done = resolve; });
  const cqView = new DataView(cq.kaddr.buffer, cq.kaddr.byteOffset, cq.kaddr.length);
  check(statuses, 'ddi_intr_add_handler', ddi_intr_add_handler(intr, () => {
    ddi_dma_sync(cq.handle, 0, NVME_CQE_SIZE, DDI_DMA_SYNC_FORCPU);
    const dw3 = cqView.getUint32(NVME_CQE.DW3, true);
    if ((dw3 & NVME_CQE_PHASE) === 0) return DDI_INTR_UNCLAIMED;
    ddi_put32(regs, r(nvmeCqHeadDoorbell(0, dstrd)), 1);
    claimed++;
    done(dw3 >>> NVME_CQE_STATUS_SHIFT);
    return DDI_INTR_CLAIMED;
  }, null, null));
  check(statuses, 'ddi_intr_enable', ddi_intr_enable(intr));

  // §7.6.1 steps 3–5: admin queue attributes and addresses, then enable.
  ddi_put32(regs, r(NVME_REG.AQA), ((entries - 1) << NVME_AQA_ACQS_SHIFT) | (entries - 1));
  ddi_put64(regs, r(NVME_REG.ASQ), sq.cookie.dmac_laddress);
  ddi_put64(regs, r(NVME_REG.ACQ), cq.cookie.dmac_laddress);
  ddi_put32(regs, r(NVME_REG.CC), NVME_CC_EN | (NVME_CC_CSS_NVM << NVME_CC_CSS_SHIFT)
    | (NVME_SQES << NVME_CC_IOSQES_SHIFT) | (NVME_CQES << NVME_CC_IOCQES_SHIFT));
  await waitCsts(csts, true, timeoutMs);

  // §5.15: Identify Controller (CNS 1) into the identify buffer, submitted at SQ slot 0.
  const sqe = new DataView(sq.kaddr.buffer, sq.kaddr.byteOffset, NVME_SQE_SIZE);
  sqe.setUint32(NVME_SQE.CDW0, NVME_ADMIN_OPC.IDENTIFY | (1 << NVME_SQE_CID_SHIFT), true);
  sqe.setUint32(NVME_SQE.NSID, 0, true);
  sqe.setBigUint64(NVME_SQE.PRP1, id.cookie.dmac_laddress, true);
  sqe.setUint32(NVME_SQE.CDW10, NVME_CNS.CONTROLLER, true);
  check(statuses, 'ddi_dma_sync(SQ, FORDEV)', ddi_dma_sync(sq.handle, 0, NVME_SQE_SIZE, DDI_DMA_SYNC_FORDEV));
  ddi_put32(regs, r(nvmeSqTailDoorbell(0, dstrd)), 1);
  const timer = new Promise<number>((resolve) => setTimeout(() => resolve(-1), 10_000));
  const status = await Promise.race([completion, timer]);
  if (status !== 0) throw new Error(status === -1 ? 'no Identify completion on MSI-X vector 0 within 10 s' : `Identify failed: status 0x${status.toString(16)}`);
  check(statuses, 'ddi_dma_sync(identify, FORCPU)', ddi_dma_sync(id.handle, 0, 0, DDI_DMA_SYNC_FORCPU));
  const sn = id.kaddr.subarray(NVME_ID_CTRL.SN, NVME_ID_CTRL.SN + NVME_ID_CTRL_SN_LENGTH);
  const serial = new TextDecoder('ascii').decode(sn).trimEnd();

  // Detach: normal shutdown (§7.6.2), interrupts, DMA, registers.
  ddi_put32(regs, r(NVME_REG.CC), (ddi_get32(regs, r(NVME_REG.CC)) & ~NVME_CC_EN) | (NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT));
  await waitCsts(csts, false, timeoutMs);
  const accCheck = ddi_check_acc_handle(regs);
  check(statuses, 'ddi_intr_disable', ddi_intr_disable(intr));
  check(statuses, 'ddi_intr_remove_handler', ddi_intr_remove_handler(intr));
  check(statuses, 'ddi_intr_free', ddi_intr_free(intr));
  const iovas = [sq.cookie.dmac_laddress, cq.cookie.dmac_laddress, id.cookie.dmac_laddress];
  for (const a of [sq, cq, id]) freeArea(a);
  ddi_regs_map_free(regh);
  return { serial, claimed, statuses, accCheck, iovas };
}
