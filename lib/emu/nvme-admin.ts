/**
 * Command execution of the emulated NVMe controller (nvme.ts owns registers, queues and interrupts).
 * Admin: Identify (CNS 0 namespace, 1 controller, 2 active namespace list), Get / Set Features
 * (Number of Queues; a few other FIDs stored as plain values), Create / Delete I/O CQ / SQ. NVM I/O
 * queues: Flush only. Anything else completes with Invalid Command Opcode + DNR, as QEMU does for an
 * opcode it does not support (Async Event Request and Abort are not modelled).
 *
 * Identify data goes to host memory through PRP1 / PRP2 (§4.3, ≤ 2 pages for 4 KiB) and the device's
 * IOMMU: a blocked transfer completes the command with Data Transfer Error (QEMU's nvme_tx status).
 * Identify data reproduce QEMU 7.2's nvme_init_ctrl / nvme_ns_init fields that a driver reads.
 */
import {
  NVME_ADMIN_OPC, NVME_CNS, NVME_CQES, NVME_CREATE_CQ_IEN, NVME_CREATE_CQ_IV_SHIFT, NVME_CREATE_PC,
  NVME_CREATE_SQ_CQID_SHIFT, NVME_FID, NVME_ID_CTRL, NVME_ID_CTRL_FR_LENGTH, NVME_ID_CTRL_MN_LENGTH,
  NVME_ID_CTRL_SN_LENGTH, NVME_ID_CTRL_SUBNQN_LENGTH, NVME_ID_NS, NVME_IDENTIFY_DATA_SIZE, NVME_LBAF_LBADS_SHIFT,
  NVME_NVM_OPC, NVME_QEMU_MAX_IOQPAIRS, NVME_QEMU_MSIX_VECTORS, NVME_QEMU_NN, NVME_SC, NVME_SQE, NVME_SQES,
  NVME_STATUS_DNR, NVME_VS_1_4,
} from '../pci/nvme-regs.ts';

export interface EmuNvmeSq { id: number; base: number; size: number; head: number; tail: number; cqid: number }
export interface EmuNvmeCq { id: number; base: number; size: number; head: number; tail: number; phase: number; vector: number; ien: boolean }

/** What command execution needs from the controller. */
export interface NvmeAdminContext {
  readonly sqs: (EmuNvmeSq | null)[];
  readonly cqs: (EmuNvmeCq | null)[];
  readonly features: Map<number, number>;
  readonly identifyController: Uint8Array;
  readonly identifyNamespace: Uint8Array;
  readonly mqes: number;
  pageSize: number;
  ioQueuesCreated: boolean;
  /** Completion DW0 of the command just executed. */
  result: number;
  /** Device DMA write through the IOMMU; false when blocked. */
  dmaWrite(iova: number, bytes: Uint8Array): boolean;
}

const TWO_32 = 2 ** 32;
const LBA_DATA_SHIFT = 9;
/** QEMU 7.2 Identify Controller values (hw/nvme/ctrl.c nvme_init_ctrl). */
const QEMU_RAB = 6;
const QEMU_IEEE_OUI = [0x00, 0x54, 0x52] as const;
const QEMU_MDTS = 7;
const QEMU_OACS = 0x010a;
const QEMU_ACL = 3;
const QEMU_AERL = 3;
const QEMU_CNTRLTYPE_IO = 1;
const QEMU_MAXCMD = 0;
const FEATURE_DEFAULTS: readonly (readonly [number, number])[] = [
  [NVME_FID.ARBITRATION, 0], [NVME_FID.POWER_MANAGEMENT, 0], [NVME_FID.TEMPERATURE_THRESHOLD, 0x157],
  [NVME_FID.VOLATILE_WRITE_CACHE, 0], [NVME_FID.INTERRUPT_COALESCING, 0], [NVME_FID.ASYNC_EVENT_CONFIG, 0],
];
const INVALID = NVME_SC.INVALID_FIELD | NVME_STATUS_DNR;

/** The one namespace is NSID 1. */
export const EMU_NVME_NSID = 1;

export function defaultFeatures(target: Map<number, number>): void {
  target.clear();
  for (const [fid, value] of FEATURE_DEFAULTS) target.set(fid, value);
}

function putString(data: Uint8Array, at: number, length: number, text: string): void {
  data.fill(0x20, at, at + length);
  for (let i = 0; i < text.length && i < length; i++) data[at + i] = text.charCodeAt(i);
}

/** §5.15.2.2 Identify Controller as QEMU 7.2 fills it (SN/MN/FR space padded, ASCII). */
export function buildIdentifyController(ids: { vendorId: number; subsystemVendorId: number }, serial: string, model: string, firmware: string): Uint8Array {
  const data = new Uint8Array(NVME_IDENTIFY_DATA_SIZE);
  const view = new DataView(data.buffer);
  view.setUint16(NVME_ID_CTRL.VID, ids.vendorId, true);
  view.setUint16(NVME_ID_CTRL.SSVID, ids.subsystemVendorId, true);
  putString(data, NVME_ID_CTRL.SN, NVME_ID_CTRL_SN_LENGTH, serial);
  putString(data, NVME_ID_CTRL.MN, NVME_ID_CTRL_MN_LENGTH, model);
  putString(data, NVME_ID_CTRL.FR, NVME_ID_CTRL_FR_LENGTH, firmware);
  data[NVME_ID_CTRL.RAB] = QEMU_RAB;
  data.set(QEMU_IEEE_OUI, NVME_ID_CTRL.IEEE);
  data[NVME_ID_CTRL.MDTS] = QEMU_MDTS;
  view.setUint32(NVME_ID_CTRL.VER, NVME_VS_1_4, true);
  data[NVME_ID_CTRL.CNTRLTYPE] = QEMU_CNTRLTYPE_IO;
  view.setUint16(NVME_ID_CTRL.OACS, QEMU_OACS, true);
  data[NVME_ID_CTRL.ACL] = QEMU_ACL;
  data[NVME_ID_CTRL.AERL] = QEMU_AERL;
  data[NVME_ID_CTRL.SQES] = (NVME_SQES << 4) | NVME_SQES;
  data[NVME_ID_CTRL.CQES] = (NVME_CQES << 4) | NVME_CQES;
  view.setUint16(NVME_ID_CTRL.MAXCMD, QEMU_MAXCMD, true);
  view.setUint32(NVME_ID_CTRL.NN, NVME_QEMU_NN, true);
  const nqn = `nqn.2019-08.org.qemu:${serial}`;
  for (let i = 0; i < nqn.length && i < NVME_ID_CTRL_SUBNQN_LENGTH - 1; i++) data[NVME_ID_CTRL.SUBNQN + i] = nqn.charCodeAt(i);
  return data;
}

/** §5.15.2.1 Identify Namespace: one LBA format of 512 bytes, fully allocated. */
export function buildIdentifyNamespace(namespaceBytes: number): Uint8Array {
  const data = new Uint8Array(NVME_IDENTIFY_DATA_SIZE);
  const view = new DataView(data.buffer);
  const blocks = BigInt(namespaceBytes / (1 << LBA_DATA_SHIFT));
  for (const at of [NVME_ID_NS.NSZE, NVME_ID_NS.NCAP, NVME_ID_NS.NUSE]) view.setBigUint64(at, blocks, true);
  view.setUint32(NVME_ID_NS.LBAF, LBA_DATA_SHIFT << NVME_LBAF_LBADS_SHIFT, true);
  return data;
}

function u64(cmd: DataView, at: number): number {
  return cmd.getUint32(at + 4, true) * TWO_32 + cmd.getUint32(at, true);
}

/** §4.3 PRP: PRP1 may start inside a page; the rest continues at PRP2 (enough for ≤ 2 pages). */
function transferToHost(ctx: NvmeAdminContext, cmd: DataView, data: Uint8Array): number {
  const prp1 = u64(cmd, NVME_SQE.PRP1);
  const first = Math.min(data.length, ctx.pageSize - (prp1 % ctx.pageSize));
  if (!ctx.dmaWrite(prp1, data.subarray(0, first))) return NVME_SC.DATA_TRANSFER_ERROR | NVME_STATUS_DNR;
  if (first < data.length && !ctx.dmaWrite(u64(cmd, NVME_SQE.PRP2), data.subarray(first))) return NVME_SC.DATA_TRANSFER_ERROR | NVME_STATUS_DNR;
  return NVME_SC.SUCCESS;
}

/** §5.15 Identify. */
function identify(ctx: NvmeAdminContext, cmd: DataView): number {
  const cns = cmd.getUint32(NVME_SQE.CDW10, true) & 0xff;
  const nsid = cmd.getUint32(NVME_SQE.NSID, true);
  if (cns === NVME_CNS.CONTROLLER) return transferToHost(ctx, cmd, ctx.identifyController);
  if (cns === NVME_CNS.NAMESPACE) {
    if (nsid === 0 || nsid > NVME_QEMU_NN) return NVME_SC.INVALID_NSID | NVME_STATUS_DNR;
    // An inactive but valid NSID returns a zero-filled structure (§5.15.2.1).
    return transferToHost(ctx, cmd, nsid === EMU_NVME_NSID ? ctx.identifyNamespace : new Uint8Array(NVME_IDENTIFY_DATA_SIZE));
  }
  if (cns === NVME_CNS.ACTIVE_NS_LIST) {
    if (nsid >= 0xffff_fffe) return NVME_SC.INVALID_NSID | NVME_STATUS_DNR;
    const list = new Uint8Array(NVME_IDENTIFY_DATA_SIZE);
    if (nsid < EMU_NVME_NSID) new DataView(list.buffer).setUint32(0, EMU_NVME_NSID, true);
    return transferToHost(ctx, cmd, list);
  }
  return INVALID;
}

/** §5.9 / §5.21 Get / Set Features. Number of Queues reports what QEMU allocates: max_ioqpairs − 1, 0's based. */
function features(ctx: NvmeAdminContext, cmd: DataView, set: boolean): number {
  const fid = cmd.getUint32(NVME_SQE.CDW10, true) & 0xff;
  const cdw11 = cmd.getUint32(NVME_SQE.CDW11, true);
  if (fid === NVME_FID.NUMBER_OF_QUEUES) {
    if (set) {
      if (ctx.ioQueuesCreated) return NVME_SC.COMMAND_SEQUENCE_ERROR | NVME_STATUS_DNR;
      if ((cdw11 & 0xffff) === 0xffff || cdw11 >>> 16 === 0xffff) return INVALID;
    }
    ctx.result = (((NVME_QEMU_MAX_IOQPAIRS - 1) << 16) | (NVME_QEMU_MAX_IOQPAIRS - 1)) >>> 0;
    return NVME_SC.SUCCESS;
  }
  const value = ctx.features.get(fid);
  if (value === undefined) return INVALID;
  if (set) ctx.features.set(fid, cdw11);
  ctx.result = set ? cdw11 : value;
  return NVME_SC.SUCCESS;
}

/** §5.3 / §5.4 Create I/O CQ / SQ; §5.6 / §5.7 Delete I/O CQ / SQ. */
function queues(ctx: NvmeAdminContext, cmd: DataView, opcode: number): number {
  const cdw10 = cmd.getUint32(NVME_SQE.CDW10, true);
  const cdw11 = cmd.getUint32(NVME_SQE.CDW11, true);
  const qid = cdw10 & 0xffff;
  const valid = qid !== 0 && qid <= NVME_QEMU_MAX_IOQPAIRS;
  if (opcode === NVME_ADMIN_OPC.DELETE_IO_SQ || opcode === NVME_ADMIN_OPC.DELETE_IO_CQ) {
    const table = opcode === NVME_ADMIN_OPC.DELETE_IO_SQ ? ctx.sqs : ctx.cqs;
    if (!valid || table[qid] === null) return NVME_SC.INVALID_QID | NVME_STATUS_DNR;
    if (opcode === NVME_ADMIN_OPC.DELETE_IO_CQ && ctx.sqs.some((sq) => sq !== null && sq.cqid === qid)) {
      return NVME_SC.INVALID_QUEUE_DELETION | NVME_STATUS_DNR;
    }
    table[qid] = null;
    return NVME_SC.SUCCESS;
  }
  const size = (cdw10 >>> 16) + 1;
  const base = u64(cmd, NVME_SQE.PRP1);
  const isCq = opcode === NVME_ADMIN_OPC.CREATE_IO_CQ;
  if (!isCq) {
    const cqid = cdw11 >>> NVME_CREATE_SQ_CQID_SHIFT;
    if (cqid === 0 || cqid > NVME_QEMU_MAX_IOQPAIRS || ctx.cqs[cqid] === null) return NVME_SC.CQ_INVALID | NVME_STATUS_DNR;
  }
  if (!valid || (isCq ? ctx.cqs : ctx.sqs)[qid] !== null) return NVME_SC.INVALID_QID | NVME_STATUS_DNR;
  if (size < 2 || size > ctx.mqes + 1) return NVME_SC.INVALID_QSIZE | NVME_STATUS_DNR;
  if ((cdw11 & NVME_CREATE_PC) === 0 || base === 0 || base % ctx.pageSize !== 0) return INVALID;
  if (isCq) {
    const vector = cdw11 >>> NVME_CREATE_CQ_IV_SHIFT;
    if (vector >= NVME_QEMU_MSIX_VECTORS) return NVME_SC.INVALID_VECTOR | NVME_STATUS_DNR;
    ctx.cqs[qid] = { id: qid, base, size, head: 0, tail: 0, phase: 1, vector, ien: (cdw11 & NVME_CREATE_CQ_IEN) !== 0 };
  } else {
    ctx.sqs[qid] = { id: qid, base, size, head: 0, tail: 0, cqid: cdw11 >>> NVME_CREATE_SQ_CQID_SHIFT };
  }
  ctx.ioQueuesCreated = true;
  return NVME_SC.SUCCESS;
}

/** Executes one command fetched from SQ `sqid`; returns the Status Field, DW0 in `ctx.result`. */
export function executeCommand(ctx: NvmeAdminContext, sqid: number, cmd: DataView): number {
  ctx.result = 0;
  const opcode = cmd.getUint8(NVME_SQE.CDW0);
  if (sqid !== 0) return opcode === NVME_NVM_OPC.FLUSH ? NVME_SC.SUCCESS : NVME_SC.INVALID_OPCODE | NVME_STATUS_DNR;
  switch (opcode) {
    case NVME_ADMIN_OPC.IDENTIFY: return identify(ctx, cmd);
    case NVME_ADMIN_OPC.GET_FEATURES: return features(ctx, cmd, false);
    case NVME_ADMIN_OPC.SET_FEATURES: return features(ctx, cmd, true);
    case NVME_ADMIN_OPC.CREATE_IO_CQ:
    case NVME_ADMIN_OPC.CREATE_IO_SQ:
    case NVME_ADMIN_OPC.DELETE_IO_CQ:
    case NVME_ADMIN_OPC.DELETE_IO_SQ: return queues(ctx, cmd, opcode);
    default: return NVME_SC.INVALID_OPCODE | NVME_STATUS_DNR;
  }
}
