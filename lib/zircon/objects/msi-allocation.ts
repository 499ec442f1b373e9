/**
 * MSI allocation object (spec/zircon.md A.10 "MsiAllocation"): a block of platform vectors and a
 * 32-bit in-use id mask. Reference counted (A.7 step 5): the vectors go back to the platform when
 * the handle is closed and every interrupt created from it has been freed.
 */
import { ZX_OBJ_TYPE_MSI } from '../constants/object-types.ts';
import { ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE, ZX_ERR_INVALID_ARGS, ZX_OK } from '../constants/status.ts';
import { KernelObject } from '../kernel/kernel-object.ts';
import type { MsiBlock } from '../platform/msi-vectors.ts';
import type { zx_info_msi_t } from '../types.ts';

export const MSI_ALLOCATION_COUNT_MAX = 32;

export class MsiAllocationObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_MSI;
  readonly block: MsiBlock;
  #idMask = 0;
  /** Handles (counted as one while any is open) + interrupts holding it. */
  #references = 1;

  constructor(block: MsiBlock) {
    super();
    this.block = block;
  }

  get numIrq(): number {
    return this.block.count;
  }

  reserveId(id: number): number {
    if (id >= this.block.count) return ZX_ERR_INVALID_ARGS;
    const bit = (1 << id) >>> 0;
    if ((this.#idMask & bit) !== 0) return ZX_ERR_ALREADY_BOUND;
    this.#idMask = (this.#idMask | bit) >>> 0;
    this.#references++;
    return ZX_OK;
  }

  releaseId(id: number): number {
    if (id >= this.block.count) return ZX_ERR_INVALID_ARGS;
    const bit = (1 << id) >>> 0;
    if ((this.#idMask & bit) === 0) return ZX_ERR_BAD_STATE;
    this.#idMask = (this.#idMask & ~bit) >>> 0;
    this.#dropReference();
    return ZX_OK;
  }

  get interruptCount(): number {
    let n = 0;
    for (let m = this.#idMask; m !== 0; m = (m & (m - 1)) >>> 0) n++;
    return n;
  }

  get released(): boolean {
    return this.#references === 0;
  }

  info(): zx_info_msi_t {
    return {
      target_addr: this.block.targetAddr,
      target_data: this.block.targetData,
      base_irq_id: this.block.baseIrqId,
      num_irq: this.block.count,
      interrupt_count: this.interruptCount,
    };
  }

  override onZeroHandles(): void {
    this.#dropReference();
  }

  #dropReference(): void {
    if (this.#references === 0) return;
    this.#references--;
    if (this.#references === 0) this.block.free();
  }
}
