/**
 * vfio-ddk/ddi — the illumos DDI interrupt framework (ddi_intr_*) over PciDevice, C-faithful
 * (API.md `vfio-ddk/ddi`, spec/ddi.md B.1–B.4). Start at `ddi_dev_info(device)`.
 */
export * from './constants.ts';
export type { Out } from './args.ts';
export { ddi_dev_info, type dev_info_t, type DdiLimits, type DevInfoOptions } from './dev-info.ts';
export type { ddi_intr_handle_t, ddi_intr_handler_t } from './intr-handle.ts';
export type { ddi_softint_handle_t } from './softint.ts';
export { ddi_intr_get_supported_types, ddi_intr_get_nintrs, ddi_intr_get_navail } from './intr-info.ts';
export { ddi_intr_alloc, ddi_intr_free } from './intr-alloc.ts';
export {
  ddi_intr_get_cap, ddi_intr_set_cap, ddi_intr_get_pri, ddi_intr_set_pri, ddi_intr_get_hilevel_pri,
} from './intr-cap-pri.ts';
export { ddi_intr_add_handler, ddi_intr_remove_handler, ddi_intr_dup_handler } from './intr-handlers.ts';
export { ddi_intr_enable, ddi_intr_disable, ddi_intr_block_enable, ddi_intr_block_disable } from './intr-enable.ts';
export { ddi_intr_set_mask, ddi_intr_clr_mask, ddi_intr_get_pending } from './intr-mask.ts';
export {
  ddi_intr_add_softint, ddi_intr_trigger_softint, ddi_intr_remove_softint, ddi_intr_get_softint_pri,
  ddi_intr_set_softint_pri,
} from './softint.ts';
