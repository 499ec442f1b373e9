/**
 * Resource object: a kind and, for ranged kinds, an address/number range (spec/zircon.md A.5, A.7).
 * The ROOT resource covers everything; children must lie inside their parent.
 */
import { ZX_OBJ_TYPE_RESOURCE } from '../constants/object-types.ts';
import { ZX_RSRC_KIND_ROOT } from '../constants/options.ts';
import { ZX_ERR_OUT_OF_RANGE, ZX_ERR_WRONG_TYPE, ZX_OK } from '../constants/status.ts';
import { KernelObject } from '../kernel/kernel-object.ts';

export class ResourceObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_RESOURCE;
  constructor(
    readonly kind: number,
    readonly base: bigint,
    readonly size: bigint,
    readonly flags: number,
    readonly name: string,
  ) {
    super();
  }

  /** Whether [base, base+size) lies inside this resource's range. */
  covers(base: bigint, size: bigint): boolean {
    return base >= this.base && base + size <= this.base + this.size;
  }

  /**
   * `validate_ranged_resource`: ROOT passes; another kind → WRONG_TYPE; range outside → OUT_OF_RANGE.
   */
  validateRange(kind: number, base: bigint, size: bigint): number {
    if (this.kind === ZX_RSRC_KIND_ROOT) return ZX_OK;
    if (this.kind !== kind) return ZX_ERR_WRONG_TYPE;
    return this.covers(base, size) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
  }
}

let root: ResourceObject | null = null;

/** The process's ROOT resource object (one per process). */
export function rootResource(): ResourceObject {
  root ??= new ResourceObject(ZX_RSRC_KIND_ROOT, 0n, 0n, 0, 'root');
  return root;
}
