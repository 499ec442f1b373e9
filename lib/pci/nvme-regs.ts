/**
 * NVM Express constants (NVMe 1.4, June 2019), declared once for the emulated controller
 * (lib/emu/nvme*.ts) and the driver (lib/drivers/nvme.ts). Names are the spec's field names; tables
 * are `as const`. Values QEMU 7.2 reports (hw/nvme/ctrl.c, nvme_init_pci / nvme_init_ctrl) are under
 * `NVME_QEMU_*`.
 */

/** §3.1 Controller registers (BAR0 offsets). CAP, ASQ and ACQ are 64-bit. */
export const NVME_REG = {
  CAP: 0x00,
  VS: 0x08,
  INTMS: 0x0c,
  INTMC: 0x10,
  CC: 0x14,
  CSTS: 0x1c,
  NSSR: 0x20,
  AQA: 0x24,
  ASQ: 0x28,
  ACQ: 0x30,
  CMBLOC: 0x38,
  CMBSZ: 0x3c,
} as const;

/** §3.1 the doorbells start here; stride 4 << CAP.DSTRD bytes. */
export const NVME_DOORBELL_BASE = 0x1000;

/** §3.1.y SQ y Tail Doorbell: 0x1000 + (2y) × (4 << DSTRD). */
export function nvmeSqTailDoorbell(qid: number, dstrd: number): number {
  return NVME_DOORBELL_BASE + 2 * qid * (4 << dstrd);
}

/** §3.1.y CQ y Head Doorbell: 0x1000 + (2y + 1) × (4 << DSTRD). */
export function nvmeCqHeadDoorbell(qid: number, dstrd: number): number {
  return NVME_DOORBELL_BASE + (2 * qid + 1) * (4 << dstrd);
}

/** §3.1.1 CAP fields as [shift, width] of the 64-bit register (read through `nvmeCapField`). */
export const NVME_CAP = {
  MQES: [0, 16],
  CQR: [16, 1],
  AMS: [17, 2],
  TO: [24, 8],
  DSTRD: [32, 4],
  NSSRS: [36, 1],
  CSS: [37, 8],
  BPS: [45, 1],
  MPSMIN: [48, 4],
  MPSMAX: [52, 4],
  PMRS: [56, 1],
  CMBS: [57, 1],
} as const;

/** §3.1.1 CAP.CSS bits: NVM command set; bit 7 "no I/O command set" (admin only). */
export const NVME_CAP_CSS_NVM = 0x01;
export const NVME_CAP_CSS_ADMIN_ONLY = 0x80;
/** NVMe 2.0 CAP.CSS bit 6 (I/O command sets via CSI), which QEMU 7.2 sets too. */
export const NVME_CAP_CSS_CSI_SUPP = 0x40;
/** §3.1.1 CAP.TO unit: 500 ms. */
export const NVME_CAP_TO_UNIT_MS = 500;

/** Extracts a CAP field from the 64-bit value. */
export function nvmeCapField(cap: bigint, field: keyof typeof NVME_CAP): number {
  const [shift, width] = NVME_CAP[field];
  return Number((cap >> BigInt(shift)) & ((1n << BigInt(width)) - 1n));
}

/** §3.1.2 VS: major << 16 | minor << 8 | tertiary. */
export const NVME_VS_1_4 = 0x0001_0400;

/** §3.1.5 CC (Controller Configuration) fields. */
export const NVME_CC_EN = 0x1;
export const NVME_CC_CSS_SHIFT = 4;
export const NVME_CC_CSS_MASK = 0x7;
export const NVME_CC_CSS_NVM = 0x0;
export const NVME_CC_MPS_SHIFT = 7;
export const NVME_CC_MPS_MASK = 0xf;
export const NVME_CC_AMS_SHIFT = 11;
export const NVME_CC_SHN_SHIFT = 14;
export const NVME_CC_SHN_MASK = 0x3;
export const NVME_CC_SHN_NONE = 0x0;
export const NVME_CC_SHN_NORMAL = 0x1;
export const NVME_CC_SHN_ABRUPT = 0x2;
export const NVME_CC_IOSQES_SHIFT = 16;
export const NVME_CC_IOCQES_SHIFT = 20;
export const NVME_CC_IOES_MASK = 0xf;

/** §3.1.6 CSTS (Controller Status) fields. */
export const NVME_CSTS_RDY = 0x1;
export const NVME_CSTS_CFS = 0x2;
export const NVME_CSTS_SHST_SHIFT = 2;
export const NVME_CSTS_SHST_MASK = 0x3 << 2;
export const NVME_CSTS_SHST_NORMAL = 0x0 << 2;
export const NVME_CSTS_SHST_OCCURRING = 0x1 << 2;
export const NVME_CSTS_SHST_COMPLETE = 0x2 << 2;
export const NVME_CSTS_NSSRO = 0x10;
export const NVME_CSTS_PP = 0x20;

/** §3.1.7 NSSR: writing "NVMe" starts an NVM Subsystem Reset (only when CAP.NSSRS is set). */
export const NVME_NSSR_VALUE = 0x4e56_4d65;

/** §3.1.8 AQA fields (0's based sizes). */
export const NVME_AQA_ASQS_MASK = 0xfff;
export const NVME_AQA_ACQS_SHIFT = 16;
export const NVME_AQA_ACQS_MASK = 0xfff;

/** §4.2 / §4.6 entry sizes as log2 (CC.IOSQES / IOCQES and Identify SQES / CQES). */
export const NVME_SQES = 6;
export const NVME_CQES = 4;
export const NVME_SQE_SIZE = 1 << NVME_SQES;
export const NVME_CQE_SIZE = 1 << NVME_CQES;

/** §4.2 Submission Queue Entry byte offsets. CDW0 = OPC 7:0 | FUSE 9:8 | PSDT 15:14 | CID 31:16. */
export const NVME_SQE = {
  CDW0: 0,
  NSID: 4,
  MPTR: 16,
  PRP1: 24,
  PRP2: 32,
  CDW10: 40,
  CDW11: 44,
  CDW12: 48,
  CDW13: 52,
  CDW14: 56,
  CDW15: 60,
} as const;
export const NVME_SQE_CID_SHIFT = 16;

/** §4.6 Completion Queue Entry byte offsets. DW2 = SQHD 15:0 | SQID 31:16; DW3 = CID 15:0 | P 16 | SF 31:17. */
export const NVME_CQE = {
  DW0: 0,
  DW1: 4,
  DW2: 8,
  DW3: 12,
} as const;
export const NVME_CQE_SQID_SHIFT = 16;
export const NVME_CQE_PHASE = 1 << 16;
export const NVME_CQE_STATUS_SHIFT = 17;

/** §4.6.1 Status Field (15 bits, above the phase tag): SC 7:0, SCT 10:8, CRD 12:11, M 13, DNR 14. */
export const NVME_STATUS_SCT_SHIFT = 8;
export const NVME_STATUS_SCT_MASK = 0x7;
export const NVME_STATUS_SC_MASK = 0xff;
export const NVME_STATUS_MORE = 1 << 13;
export const NVME_STATUS_DNR = 1 << 14;

/** §4.6.1.1 Status Code Types. */
export const NVME_SCT = {
  GENERIC: 0x0,
  COMMAND_SPECIFIC: 0x1,
  MEDIA: 0x2,
  PATH: 0x3,
  VENDOR: 0x7,
} as const;

/** Status Field values (SCT << 8 | SC) used here: §4.6.1.2.1 generic, §4.6.1.2.2 command specific. */
export const NVME_SC = {
  SUCCESS: 0x000,
  INVALID_OPCODE: 0x001,
  INVALID_FIELD: 0x002,
  CID_CONFLICT: 0x003,
  DATA_TRANSFER_ERROR: 0x004,
  INTERNAL_ERROR: 0x006,
  INVALID_NSID: 0x00b,
  COMMAND_SEQUENCE_ERROR: 0x00c,
  CQ_INVALID: 0x100,
  INVALID_QID: 0x101,
  INVALID_QSIZE: 0x102,
  INVALID_VECTOR: 0x108,
  INVALID_QUEUE_DELETION: 0x10c,
} as const;

/** §5 Admin command opcodes (Figure 139). */
export const NVME_ADMIN_OPC = {
  DELETE_IO_SQ: 0x00,
  CREATE_IO_SQ: 0x01,
  GET_LOG_PAGE: 0x02,
  DELETE_IO_CQ: 0x04,
  CREATE_IO_CQ: 0x05,
  IDENTIFY: 0x06,
  ABORT: 0x08,
  SET_FEATURES: 0x09,
  GET_FEATURES: 0x0a,
  ASYNC_EVENT_REQUEST: 0x0c,
  NS_MANAGEMENT: 0x0d,
  FIRMWARE_COMMIT: 0x10,
  FIRMWARE_IMAGE_DOWNLOAD: 0x11,
  DEVICE_SELF_TEST: 0x14,
  NS_ATTACHMENT: 0x15,
  KEEP_ALIVE: 0x18,
  DIRECTIVE_SEND: 0x19,
  DIRECTIVE_RECEIVE: 0x1a,
  VIRTUALIZATION_MANAGEMENT: 0x1c,
  DOORBELL_BUFFER_CONFIG: 0x7c,
  FORMAT_NVM: 0x80,
  SECURITY_SEND: 0x81,
  SECURITY_RECEIVE: 0x82,
  SANITIZE: 0x84,
  GET_LBA_STATUS: 0x86,
} as const;

/** §6 NVM command set opcodes (I/O queues). */
export const NVME_NVM_OPC = {
  FLUSH: 0x00,
  WRITE: 0x01,
  READ: 0x02,
} as const;

/** §5.15.1 Identify CNS values (CDW10 7:0). */
export const NVME_CNS = {
  NAMESPACE: 0x00,
  CONTROLLER: 0x01,
  ACTIVE_NS_LIST: 0x02,
  NS_DESCRIPTOR_LIST: 0x03,
  NVM_SET_LIST: 0x04,
  ALLOCATED_NS_LIST: 0x10,
  ALLOCATED_NAMESPACE: 0x11,
  NS_CONTROLLER_LIST: 0x12,
  CONTROLLER_LIST: 0x13,
} as const;

/** Identify data structures are 4096 bytes (§5.15.2). */
export const NVME_IDENTIFY_DATA_SIZE = 4096;

/** §5.15.2.2 Identify Controller data structure (Figure 247) byte offsets and string lengths. */
export const NVME_ID_CTRL = {
  VID: 0,
  SSVID: 2,
  SN: 4,
  MN: 24,
  FR: 64,
  RAB: 72,
  IEEE: 73,
  CMIC: 76,
  MDTS: 77,
  CNTLID: 78,
  VER: 80,
  OAES: 92,
  CNTRLTYPE: 111,
  OACS: 256,
  ACL: 258,
  AERL: 259,
  FRMW: 260,
  LPA: 261,
  ELPE: 262,
  SQES: 512,
  CQES: 513,
  MAXCMD: 514,
  NN: 516,
  ONCS: 520,
  VWC: 525,
  SUBNQN: 768,
} as const;
export const NVME_ID_CTRL_SN_LENGTH = 20;
export const NVME_ID_CTRL_MN_LENGTH = 40;
export const NVME_ID_CTRL_FR_LENGTH = 8;
export const NVME_ID_CTRL_SUBNQN_LENGTH = 256;

/** §5.15.2.1 Identify Namespace data structure (Figure 245) byte offsets; LBA Format n at LBAF + 4n. */
export const NVME_ID_NS = {
  NSZE: 0,
  NCAP: 8,
  NUSE: 16,
  NSFEAT: 24,
  NLBAF: 25,
  FLBAS: 26,
  LBAF: 128,
} as const;
/** LBA Format entry: MS 15:0, LBADS 23:16 (log2 of the LBA data size), RP 25:24. */
export const NVME_LBAF_LBADS_SHIFT = 16;

/** §5.21.1 Feature Identifiers (Get / Set Features CDW10 7:0). */
export const NVME_FID = {
  ARBITRATION: 0x01,
  POWER_MANAGEMENT: 0x02,
  TEMPERATURE_THRESHOLD: 0x04,
  ERROR_RECOVERY: 0x05,
  VOLATILE_WRITE_CACHE: 0x06,
  NUMBER_OF_QUEUES: 0x07,
  INTERRUPT_COALESCING: 0x08,
  INTERRUPT_VECTOR_CONFIG: 0x09,
  WRITE_ATOMICITY: 0x0a,
  ASYNC_EVENT_CONFIG: 0x0b,
  TIMESTAMP: 0x0e,
} as const;

/** §5.3 / §5.4 Create I/O CQ / SQ CDW11 bits. */
export const NVME_CREATE_PC = 0x1;
export const NVME_CREATE_CQ_IEN = 0x2;
export const NVME_CREATE_CQ_IV_SHIFT = 16;
export const NVME_CREATE_SQ_CQID_SHIFT = 16;

/** PCI identity of QEMU's NVMe controller (hw/nvme/ctrl.c: PCI_VENDOR_ID_REDHAT, PCI_DEVICE_ID_REDHAT_NVME). */
export const NVME_QEMU_VENDOR_ID = 0x1b36;
export const NVME_QEMU_DEVICE_ID = 0x0010;
export const NVME_QEMU_REVISION = 0x02;
/** PCI class: mass storage (01), non-volatile memory (08), NVM Express (prog-if 02). */
export const PCI_CLASS_STORAGE_EXPRESS = 0x010802;
/** QEMU 7.2 BAR0: registers + doorbells (8 KiB) + MSI-X table (0x2000) + PBA (0x3000), 64-bit memory. */
export const NVME_QEMU_BAR0_SIZE = 0x4000;
export const NVME_QEMU_MSIX_TABLE_OFFSET = 0x2000;
export const NVME_QEMU_MSIX_PBA_OFFSET = 0x3000;
/** Where nvme_init_pci places the PM and PCI Express capabilities (MSI-X lands at 0x40, the first free space). */
export const NVME_QEMU_PM_CAP_OFFSET = 0x60;
export const NVME_QEMU_PCIE_CAP_OFFSET = 0x80;
export const NVME_QEMU_MSIX_CAP_OFFSET = 0x40;
/** Defaults: max_ioqpairs 64, msix_qsize 65 (one vector per queue pair + admin). */
export const NVME_QEMU_MAX_IOQPAIRS = 64;
export const NVME_QEMU_MSIX_VECTORS = 65;
/** CAP as QEMU 7.2 reports it: MQES 0x7ff, CQR, TO 15 (7.5 s), DSTRD 0, CSS NVM|CSI|admin-only, MPSMIN 0, MPSMAX 4. */
export const NVME_QEMU_CAP = 0x0040_1820_0f01_07ffn;
/** Identify Controller defaults of QEMU 7.2 (FR is QEMU_VERSION). */
export const NVME_QEMU_MODEL = 'QEMU NVMe Ctrl';
export const NVME_QEMU_FIRMWARE = '7.2.0';
/** NVME_MAX_NAMESPACES: Identify Controller NN. */
export const NVME_QEMU_NN = 256;
