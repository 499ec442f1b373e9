/**
 * Parsing of the Identify data structures the NVMe driver (nvme.ts) reads. Strings in Identify
 * Controller are ASCII, space padded (§5.15.2.2 / §1.5 "ASCII string"): returned trimmed.
 */
import {
  NVME_ID_CTRL, NVME_ID_CTRL_FR_LENGTH, NVME_ID_CTRL_MN_LENGTH, NVME_ID_CTRL_SN_LENGTH, NVME_ID_CTRL_SUBNQN_LENGTH,
  NVME_ID_NS, NVME_IDENTIFY_DATA_SIZE, NVME_LBAF_LBADS_SHIFT,
} from '../pci/nvme-regs.ts';

export interface NvmeControllerInfo {
  readonly vendorId: number;
  readonly subsystemVendorId: number;
  readonly serial: string;
  readonly model: string;
  readonly firmware: string;
  /** IEEE OUI, bytes 73–75 as a number (byte 73 least significant). */
  readonly ieeeOui: number;
  /** Maximum Data Transfer Size as log2 of CAP.MPSMIN pages (0 = no limit). */
  readonly mdts: number;
  readonly controllerId: number;
  /** VER as major.minor.tertiary (0 when the controller leaves it zero, as before NVMe 1.2). */
  readonly version: { major: number; minor: number; tertiary: number };
  /** SQES / CQES: required and maximum entry sizes, log2. */
  readonly sqes: { required: number; maximum: number };
  readonly cqes: { required: number; maximum: number };
  /** NN: the highest namespace ID. */
  readonly namespaces: number;
  readonly subnqn: string;
}

export interface NvmeNamespaceInfo {
  readonly nsid: number;
  /** NSZE / NCAP / NUSE in logical blocks. */
  readonly sizeBlocks: bigint;
  readonly capacityBlocks: bigint;
  readonly utilizationBlocks: bigint;
  /** Data size of the formatted LBA format (FLBAS 3:0), bytes. */
  readonly blockBytes: number;
}

function text(data: Uint8Array, at: number, length: number): string {
  let end = at;
  while (end < at + length && data[end] !== 0) end++;
  return String.fromCharCode(...data.subarray(at, end)).trim();
}

function checkSize(data: Uint8Array): DataView {
  if (!(data instanceof Uint8Array) || data.length < NVME_IDENTIFY_DATA_SIZE) throw new RangeError(`Identify data must be a Uint8Array of ${NVME_IDENTIFY_DATA_SIZE} bytes`);
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

/** §5.15.2.2 Identify Controller data structure (Figure 247). */
export function parseIdentifyController(data: Uint8Array): NvmeControllerInfo {
  const view = checkSize(data);
  const ver = view.getUint32(NVME_ID_CTRL.VER, true);
  const sqes = data[NVME_ID_CTRL.SQES] as number;
  const cqes = data[NVME_ID_CTRL.CQES] as number;
  return {
    vendorId: view.getUint16(NVME_ID_CTRL.VID, true),
    subsystemVendorId: view.getUint16(NVME_ID_CTRL.SSVID, true),
    serial: text(data, NVME_ID_CTRL.SN, NVME_ID_CTRL_SN_LENGTH),
    model: text(data, NVME_ID_CTRL.MN, NVME_ID_CTRL_MN_LENGTH),
    firmware: text(data, NVME_ID_CTRL.FR, NVME_ID_CTRL_FR_LENGTH),
    ieeeOui: (data[NVME_ID_CTRL.IEEE] as number) | (data[NVME_ID_CTRL.IEEE + 1] as number) << 8 | (data[NVME_ID_CTRL.IEEE + 2] as number) << 16,
    mdts: data[NVME_ID_CTRL.MDTS] as number,
    controllerId: view.getUint16(NVME_ID_CTRL.CNTLID, true),
    version: { major: ver >>> 16, minor: (ver >>> 8) & 0xff, tertiary: ver & 0xff },
    sqes: { required: sqes & 0xf, maximum: sqes >>> 4 },
    cqes: { required: cqes & 0xf, maximum: cqes >>> 4 },
    namespaces: view.getUint32(NVME_ID_CTRL.NN, true),
    subnqn: text(data, NVME_ID_CTRL.SUBNQN, NVME_ID_CTRL_SUBNQN_LENGTH),
  };
}

/** §5.15.2.1 Identify Namespace data structure (Figure 245). */
export function parseIdentifyNamespace(nsid: number, data: Uint8Array): NvmeNamespaceInfo {
  const view = checkSize(data);
  const format = (data[NVME_ID_NS.FLBAS] as number) & 0xf;
  const lbads = (view.getUint32(NVME_ID_NS.LBAF + 4 * format, true) >>> NVME_LBAF_LBADS_SHIFT) & 0xff;
  return {
    nsid,
    sizeBlocks: view.getBigUint64(NVME_ID_NS.NSZE, true),
    capacityBlocks: view.getBigUint64(NVME_ID_NS.NCAP, true),
    utilizationBlocks: view.getBigUint64(NVME_ID_NS.NUSE, true),
    blockBytes: lbads === 0 ? 0 : 2 ** lbads,
  };
}
