/**
 * The C names of DDI return values, for messages and traces: sys/sunddi.h's DDI_* return codes, the
 * ddi_dma_*_bind_handle codes (sys/ddidmareq.h), and DDI_INTR_NOTFOUND (sys/ddi_intr.h), which shares
 * the value 1 with DDI_ENOMEM and is what ddi_intr_get_supported_types / _nintrs / _navail mean by it.
 */
import {
  DDI_EAGAIN, DDI_EALREADY, DDI_EBUSY, DDI_ECONTEXT, DDI_EINVAL, DDI_ENOMEM, DDI_ENOTSUP, DDI_EPENDING, DDI_ETRANSPORT,
  DDI_FAILURE, DDI_INTR_NOTFOUND, DDI_NOT_WELL_FORMED, DDI_SUCCESS,
} from './constants.ts';
import {
  DDI_DMA_INUSE, DDI_DMA_MAPPED, DDI_DMA_NOMAPPING, DDI_DMA_NORESOURCES, DDI_DMA_PARTIAL_MAP, DDI_DMA_TOOBIG,
} from './constants-services.ts';

const DDI_RETURN_NAMES: ReadonlyMap<number, string> = new Map([
  [DDI_SUCCESS, 'DDI_SUCCESS'], [DDI_FAILURE, 'DDI_FAILURE'], [DDI_NOT_WELL_FORMED, 'DDI_NOT_WELL_FORMED'],
  [DDI_EAGAIN, 'DDI_EAGAIN'], [DDI_EINVAL, 'DDI_EINVAL'], [DDI_ENOTSUP, 'DDI_ENOTSUP'],
  [DDI_EPENDING, 'DDI_EPENDING'], [DDI_EALREADY, 'DDI_EALREADY'], [DDI_ENOMEM, 'DDI_ENOMEM'],
  [DDI_EBUSY, 'DDI_EBUSY'], [DDI_ETRANSPORT, 'DDI_ETRANSPORT'], [DDI_ECONTEXT, 'DDI_ECONTEXT'],
]);

const DDI_DMA_BIND_NAMES: ReadonlyMap<number, string> = new Map([
  [DDI_DMA_MAPPED, 'DDI_DMA_MAPPED'], [DDI_DMA_PARTIAL_MAP, 'DDI_DMA_PARTIAL_MAP'], [DDI_DMA_NORESOURCES, 'DDI_DMA_NORESOURCES'],
  [DDI_DMA_NOMAPPING, 'DDI_DMA_NOMAPPING'], [DDI_DMA_TOOBIG, 'DDI_DMA_TOOBIG'], [DDI_DMA_INUSE, 'DDI_DMA_INUSE'],
]);

/** The C name of `status` as returned by the DDI function `call`; null for a value with no name. */
export function ddiStatusName(call: string, status: number): string | null {
  if (/^ddi_dma_(addr|buf)_bind_handle$/.test(call)) return DDI_DMA_BIND_NAMES.get(status) ?? null;
  if (status === DDI_INTR_NOTFOUND && /^ddi_intr_get_(supported_types|nintrs|navail)$/.test(call)) return 'DDI_INTR_NOTFOUND';
  return DDI_RETURN_NAMES.get(status) ?? null;
}
