/**
 * One NVMe submission / completion queue pair in DMA memory, the ring arithmetic every NVMe driver
 * here shares (NvmeDriver in nvme.ts on the event loop, the blocking IRQ thread in nvme-irq-thread/):
 * §4.1 circular queues (tail / head, full when tail + 1 = head), §4.2 submission entries with the CID
 * in CDW0, §4.6 completion entries consumed while their Phase Tag matches the expected phase (which
 * flips at every wrap), and §3.1 doorbells — one SQ tail write per submission, one CQ head write per
 * batch reaped.
 *
 * It touches only memory and two doorbells: which command a CID belongs to, timeouts and errors are
 * the caller's. Nothing is allocated per command or per completion (one DataView per slot, made once).
 * `free()` releases the DMA buffers; the pair is unusable afterwards.
 */
import type { DmaBuffer, PciDevice, PciRegion } from '../pci/device.ts';
import {
  NVME_CQE, NVME_CQE_PHASE, NVME_CQE_SIZE, NVME_CQE_STATUS_SHIFT, NVME_SQE, NVME_SQE_CID_SHIFT, NVME_SQE_SIZE,
  nvmeCqHeadDoorbell, nvmeSqTailDoorbell,
} from '../pci/nvme-regs.ts';

/** Called once per completion entry reaped: its CID, Status Field (0 = success, §4.6.1) and DW0. */
export type NvmeCompletionHandler = (cid: number, status: number, dw0: number) => void;

const CID_MASK = 0xffff;
const SQHD_MASK = 0xffff;

export class NvmeQueuePair {
  readonly qid: number;
  /** Entries of each queue (the SQ holds at most entries − 1 commands, §4.1.1). */
  readonly entries: number;
  readonly #bar: PciRegion;
  readonly #sqDoorbell: number;
  readonly #cqDoorbell: number;
  readonly #sq: DmaBuffer;
  readonly #cq: DmaBuffer;
  readonly #sqSlots: DataView[];
  readonly #cqView: DataView;
  #sqTail = 0;
  #sqHead = 0;
  #cqHead = 0;
  #phase = 1;

  /** Allocates both rings from `device.dma` (zeroed); doorbells of queue `qid` at stride 4 << `dstrd` in `bar`. */
  constructor(device: PciDevice, bar: PciRegion, qid: number, entries: number, dstrd: number) {
    this.qid = qid;
    this.entries = entries;
    this.#bar = bar;
    this.#sqDoorbell = nvmeSqTailDoorbell(qid, dstrd);
    this.#cqDoorbell = nvmeCqHeadDoorbell(qid, dstrd);
    this.#sq = device.dma.alloc(entries * NVME_SQE_SIZE);
    try {
      this.#cq = device.dma.alloc(entries * NVME_CQE_SIZE);
    } catch (error) {
      this.#sq.free();
      throw error;
    }
    const sq = this.#sq.bytes;
    this.#sqSlots = Array.from({ length: entries }, (_, i) => new DataView(sq.buffer, sq.byteOffset + i * NVME_SQE_SIZE, NVME_SQE_SIZE));
    this.#cqView = new DataView(this.#cq.bytes.buffer, this.#cq.bytes.byteOffset, this.#cq.bytes.byteLength);
  }

  get sqIova(): bigint {
    return this.#sq.iova;
  }

  get cqIova(): bigint {
    return this.#cq.iova;
  }

  /** The Phase Tag the next new completion entry will carry (§4.6). */
  get phase(): number {
    return this.#phase;
  }

  get cqHead(): number {
    return this.#cqHead;
  }

  /** How far the controller has fetched, as the last completion's SQHD reported it (§4.6 DW2). */
  get sqHead(): number {
    return this.#sqHead;
  }

  /** §4.1.1: no room for another command until the controller reports fetching one. */
  get full(): boolean {
    return (this.#sqTail + 1) % this.entries === this.#sqHead;
  }

  /**
   * Back to the state of a freshly created queue (after a controller reset, §7.3.2): rings zeroed —
   * so no stale entry carries the expected phase — indices 0, expected phase 1.
   */
  reset(): void {
    this.#sq.bytes.fill(0);
    this.#cq.bytes.fill(0);
    this.#sqTail = this.#sqHead = this.#cqHead = 0;
    this.#phase = 1;
  }

  /**
   * §7.2 steps 1–2: writes the command at the SQ tail — zeroed, `fill` sets its fields, then CDW0 =
   * opcode | CID — advances the tail and rings the SQ tail doorbell. The caller checks `full` first:
   * submitting to a full queue throws RangeError (it would overwrite a command not yet fetched).
   */
  submit(opcode: number, cid: number, fill: (sqe: DataView) => void): void {
    if (this.full) throw new RangeError(`NVMe SQ ${this.qid} is full (tail ${this.#sqTail}, head ${this.#sqHead}): check full before submit`);
    const at = this.#sqTail * NVME_SQE_SIZE;
    this.#sq.bytes.fill(0, at, at + NVME_SQE_SIZE);
    const sqe = this.#sqSlots[this.#sqTail] as DataView;
    fill(sqe);
    sqe.setUint32(NVME_SQE.CDW0, (opcode | (cid & CID_MASK) << NVME_SQE_CID_SHIFT) >>> 0, true);
    this.#sqTail = (this.#sqTail + 1) % this.entries;
    this.#bar.write32(this.#sqDoorbell, this.#sqTail);
  }

  /**
   * §7.2 steps 5–8 (§4.6): consumes every entry whose Phase Tag matches the expected phase, calling
   * `onEntry` for each in queue order, then tells the controller with one CQ head doorbell write.
   * Returns the number of entries reaped (0: nothing new, and no doorbell written).
   */
  reap(onEntry: NvmeCompletionHandler): number {
    const cq = this.#cqView;
    let reaped = 0;
    for (;;) {
      const at = this.#cqHead * NVME_CQE_SIZE;
      const dw3 = cq.getUint32(at + NVME_CQE.DW3, true);
      if (((dw3 & NVME_CQE_PHASE) !== 0 ? 1 : 0) !== this.#phase) break;
      this.#cqHead++;
      if (this.#cqHead === this.entries) {
        this.#cqHead = 0;
        this.#phase ^= 1;
      }
      reaped++;
      this.#sqHead = cq.getUint32(at + NVME_CQE.DW2, true) & SQHD_MASK;
      onEntry(dw3 & CID_MASK, dw3 >>> NVME_CQE_STATUS_SHIFT, cq.getUint32(at + NVME_CQE.DW0, true));
    }
    if (reaped > 0) this.#bar.write32(this.#cqDoorbell, this.#cqHead);
    return reaped;
  }

  free(): void {
    this.#sq.free();
    this.#cq.free();
  }
}
