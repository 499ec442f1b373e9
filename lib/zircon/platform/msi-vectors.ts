/**
 * An x86-like MSI vector allocator: every MSI targets the local APIC doorbell 0xFEE00000 and carries
 * its vector number as data; blocks are power-of-two sized and aligned (multiple-message MSI puts the
 * vector index in the low data bits, PCI 3.0 §6.8.1.6), taken from the device vector range
 * 0x30–0xEF. No free aligned block → ZX_ERR_NO_RESOURCES.
 */
import { ZX_ERR_INVALID_ARGS, ZX_ERR_NO_RESOURCES } from '../constants/status.ts';

export const MSI_TARGET_ADDR = 0xfee00000n;
export const MSI_VECTOR_FIRST = 0x30;
export const MSI_VECTOR_LAST = 0xef;

export interface MsiBlock {
  readonly targetAddr: bigint;
  readonly targetData: number;
  readonly baseIrqId: number;
  readonly count: number;
  free(): void;
}

const inUse = new Uint8Array(MSI_VECTOR_LAST + 1);

/** Allocates `count` (a power of two ≤ 32) aligned vectors; returns the block or a status. */
export function allocateMsiBlock(count: number): MsiBlock | number {
  if (count < 1 || count > 32 || (count & (count - 1)) !== 0) return ZX_ERR_INVALID_ARGS;
  const first = Math.ceil(MSI_VECTOR_FIRST / count) * count;
  for (let base = first; base + count - 1 <= MSI_VECTOR_LAST; base += count) {
    let free = true;
    for (let v = base; v < base + count; v++) if (inUse[v] !== 0) { free = false; break; }
    if (!free) continue;
    inUse.fill(1, base, base + count);
    let freed = false;
    return {
      targetAddr: MSI_TARGET_ADDR,
      targetData: base,
      baseIrqId: base,
      count,
      free() {
        if (freed) return;
        freed = true;
        inUse.fill(0, base, base + count);
      },
    };
  }
  return ZX_ERR_NO_RESOURCES;
}

/** Vectors currently allocated (diagnostics and tests). */
export function msiVectorsInUse(): number {
  let n = 0;
  for (let v = MSI_VECTOR_FIRST; v <= MSI_VECTOR_LAST; v++) n += inUse[v] as number;
  return n;
}
