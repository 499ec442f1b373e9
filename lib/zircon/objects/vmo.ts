/**
 * VMO object (spec/zircon.md A.7): paged (`zx_vmo_create`, host memory from allocHostMemory),
 * contiguous (`zx_vmo_create_contiguous`: paged *and* contiguous — zx_msi_create rejects it), or
 * physical (`zx_vmo_create_physical`: a physical range — RAM, an ECAM window or a BAR; not paged,
 * contiguous, not readable with zx_vmo_read/write).
 */
import type { HostMemory } from '../../pci/device.ts';
import { ZX_OBJ_TYPE_VMO } from '../constants/object-types.ts';
import { ZX_CACHE_POLICY_CACHED } from '../constants/options.ts';
import { KernelObject } from '../kernel/kernel-object.ts';

export type VmoKind = 'paged' | 'contiguous' | 'physical';

export class VmoObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_VMO;
  cachePolicy = ZX_CACHE_POLICY_CACHED;
  /** Live zx_vmar_map mappings (cache policy changes need none, A.7). */
  mappings = 0;
  /** Live pins (zx_bti_pin). */
  pins = 0;

  constructor(
    readonly kind: VmoKind,
    readonly size: bigint,
    /** Backing store of paged / contiguous VMOs (null for size 0 or physical). */
    readonly memory: HostMemory | null,
    /** Base physical address of a physical VMO (0n otherwise). */
    readonly paddr: bigint,
  ) {
    super();
  }

  get paged(): boolean {
    return this.kind !== 'physical';
  }

  get contiguous(): boolean {
    return this.kind !== 'paged';
  }

  override onZeroHandles(): void {
    // Memory stays while mappings or pins use it (the kernel's references); freed with the last.
    this.maybeFree();
  }

  maybeFree(): void {
    if (this.handleCount === 0 && this.mappings === 0 && this.pins === 0) this.memory?.free();
  }
}
