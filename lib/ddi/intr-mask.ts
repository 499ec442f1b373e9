/**
 * ddi_intr_set_mask, ddi_intr_clr_mask, ddi_intr_get_pending (spec/ddi.md B.3). The registers and
 * the line latch are nexus-mask.ts. get_pending has no state requirement (B.3) and reports 1 when
 * vector inum is pending, else 0 (API.md; not illumos' `& ~(1 >> inum)` slip).
 */
import {
  DDI_EINVAL, DDI_FAILURE, DDI_IHDL_STATE_ENABLE, DDI_INTR_FLAG_MASKABLE, DDI_INTR_FLAG_PENDING, DDI_SUCCESS,
} from './constants.ts';
import { isOut, type Out } from './args.ts';
import { lookupHandle, type ddi_intr_handle_t } from './intr-handle.ts';
import { isPending, setMask } from './nexus-mask.ts';

function changeMask(h: ddi_intr_handle_t | null, masked: boolean): number {
  const handle = lookupHandle(h);
  if (handle === null) return DDI_EINVAL;
  if (handle.state !== DDI_IHDL_STATE_ENABLE || (handle.cap & DDI_INTR_FLAG_MASKABLE) === 0) return DDI_EINVAL;
  if (handle.dip.closed) return DDI_FAILURE;
  try {
    setMask(handle, masked);
  } catch {
    return DDI_FAILURE;
  }
  return DDI_SUCCESS;
}

export function ddi_intr_set_mask(h: ddi_intr_handle_t | null): number {
  return changeMask(h, true);
}

export function ddi_intr_clr_mask(h: ddi_intr_handle_t | null): number {
  return changeMask(h, false);
}

export function ddi_intr_get_pending(h: ddi_intr_handle_t | null, pending: Out<number> | null): number {
  const handle = lookupHandle(h);
  if (handle === null || !isOut(pending)) return DDI_EINVAL;
  if ((handle.cap & DDI_INTR_FLAG_PENDING) === 0) return DDI_EINVAL;
  if (handle.dip.closed) return DDI_FAILURE;
  let result: boolean;
  try {
    result = isPending(handle);
  } catch {
    return DDI_FAILURE;
  }
  pending.value = result ? 1 : 0;
  return DDI_SUCCESS;
}
