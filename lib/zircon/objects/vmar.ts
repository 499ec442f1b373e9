/** The root VMAR of the current process (zx_vmar_root_self): the one address space mappings go in. */
import { ZX_OBJ_TYPE_VMAR } from '../constants/object-types.ts';
import { KernelObject } from '../kernel/kernel-object.ts';

export class VmarObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_VMAR;
}
