/**
 * The admin commands the NVMe drivers here issue, as the fields they set in a submission entry
 * (NvmeQueuePair.submit fills the rest), and the Status Field as text. Shared by NvmeDriver (nvme.ts)
 * and the blocking IRQ thread (nvme-irq-thread/).
 */
import { NVME_SQE, NVME_STATUS_SC_MASK, NVME_STATUS_SCT_MASK, NVME_STATUS_SCT_SHIFT } from '../pci/nvme-regs.ts';

const TWO_32 = 2 ** 32;

/** PRP Entry 1 (§4.3): the data page's IOVA, as two little-endian dwords. */
function setPrp1(sqe: DataView, iova: bigint): void {
  sqe.setUint32(NVME_SQE.PRP1, Number(iova & 0xffff_ffffn), true);
  sqe.setUint32(NVME_SQE.PRP1 + 4, Math.floor(Number(iova) / TWO_32), true);
}

/** §5.15 Identify: CNS in CDW10 7:0, NSID, the 4 KiB data structure into the page at `dataIova`. */
export function fillIdentify(sqe: DataView, cns: number, nsid: number, dataIova: bigint): void {
  sqe.setUint32(NVME_SQE.NSID, nsid, true);
  setPrp1(sqe, dataIova);
  sqe.setUint32(NVME_SQE.CDW10, cns, true);
}

/** §5.14 Get Features, current value (SEL 000b): the Feature Identifier in CDW10 7:0; the value comes back in DW0. */
export function fillGetFeatures(sqe: DataView, fid: number): void {
  sqe.setUint32(NVME_SQE.CDW10, fid, true);
}

/** §5.15.2.3 Active Namespace ID list (CNS 2): NSIDs until the first 0. */
export function parseActiveNamespaces(data: Uint8Array): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ids: number[] = [];
  for (let at = 0; at + 4 <= data.length; at += 4) {
    const nsid = view.getUint32(at, true);
    if (nsid === 0) break;
    ids.push(nsid);
  }
  return ids;
}

/** "SCT 0x0 SC 0xb" for a Status Field (§4.6.1.2). */
export function describeNvmeStatus(status: number): string {
  const sct = (status >>> NVME_STATUS_SCT_SHIFT) & NVME_STATUS_SCT_MASK;
  const sc = status & NVME_STATUS_SC_MASK;
  return `SCT 0x${sct.toString(16)} SC 0x${sc.toString(16)}`;
}
