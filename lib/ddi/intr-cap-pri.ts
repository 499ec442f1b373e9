/**
 * Capabilities and priorities of a handle (spec/ddi.md B.3, B.4): ddi_intr_get_cap, ddi_intr_set_cap,
 * ddi_intr_get_pri, ddi_intr_set_pri, ddi_intr_get_hilevel_pri.
 *
 * As B.3 says, get_cap and get_pri zero `*flags` / `*pri` *before* checking the handle (the one place
 * where an out-pointer is written on failure, exactly as illumos does).
 *
 * Priorities are recorded and validated; handlers all run on the event loop, so a priority does not
 * reorder them. set_pri above LOCK_LEVEL (10) → DDI_FAILURE, as the x86 PCI nexus refuses high-level
 * priorities. set_cap can only restate the trigger the bus imposes (PCI INTx is level, MSI/MSI-X are
 * edge): the same trigger → DDI_SUCCESS, the other one → DDI_FAILURE, as the x86 PSM refuses SETCAP.
 */
import {
  DDI_EINVAL, DDI_ENOTSUP, DDI_FAILURE, DDI_IHDL_STATE_ALLOC, DDI_INTR_FLAG_EDGE, DDI_INTR_FLAG_LEVEL,
  DDI_INTR_FLAG_MSI64, DDI_INTR_PRI_MAX, DDI_INTR_PRI_MIN, DDI_SUCCESS, LOCK_LEVEL,
} from './constants.ts';
import { isInt, isOut, type Out } from './args.ts';
import { lookupHandle, type ddi_intr_handle_t } from './intr-handle.ts';

const TRIGGER_FLAGS = DDI_INTR_FLAG_LEVEL | DDI_INTR_FLAG_EDGE;

export function ddi_intr_get_cap(h: ddi_intr_handle_t | null, flags: Out<number> | null): number {
  if (!isOut(flags)) return DDI_EINVAL;
  flags.value = 0;
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  flags.value = handle.cap & ~DDI_INTR_FLAG_MSI64;
  return DDI_SUCCESS;
}

export function ddi_intr_set_cap(h: ddi_intr_handle_t | null, flags: number): number {
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  if (handle.state !== DDI_IHDL_STATE_ALLOC) return DDI_EINVAL;
  if (!isInt(flags) || (flags & TRIGGER_FLAGS) === 0) return DDI_EINVAL;
  if ((handle.cap & TRIGGER_FLAGS) === 0) return DDI_ENOTSUP;
  // Nexus SETCAP: the trigger mode is fixed by the bus.
  return (flags & TRIGGER_FLAGS) === (handle.cap & TRIGGER_FLAGS) ? DDI_SUCCESS : DDI_FAILURE;
}

export function ddi_intr_get_pri(h: ddi_intr_handle_t | null, pri: Out<number> | null): number {
  if (!isOut(pri)) return DDI_EINVAL;
  pri.value = 0;
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  pri.value = handle.pri;
  return DDI_SUCCESS;
}

export function ddi_intr_set_pri(h: ddi_intr_handle_t | null, pri: number): number {
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  if (!isInt(pri) || pri < DDI_INTR_PRI_MIN || pri > DDI_INTR_PRI_MAX) return DDI_EINVAL;
  if (handle.state !== DDI_IHDL_STATE_ALLOC) return DDI_EINVAL;
  if (pri === handle.pri) return DDI_SUCCESS;
  // Nexus SETPRI (x86 pci_common): high-level priorities are refused.
  if (pri > LOCK_LEVEL) return DDI_FAILURE;
  handle.pri = pri;
  return DDI_SUCCESS;
}

/** LOCK_LEVEL + 1 = 11: priorities ≥ 11 are high-level (B.1). */
export function ddi_intr_get_hilevel_pri(): number {
  return LOCK_LEVEL + 1;
}
