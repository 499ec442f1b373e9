/**
 * vfio-ddk/ddi — the illumos DDI interrupt framework (ddi_intr_*) and the driver services around it
 * (pci_config_*, ddi_regs_* / ddi_get / ddi_put, ddi_dma_*, clocks, cmn_err) over PciDevice,
 * C-faithful (API.md `vfio-ddk/ddi`, spec/ddi.md B.1–B.4). Start at `ddi_dev_info(device)`.
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
// Not a DDI call: handlers dispatched on a Worker that blocks natively (an interrupt thread).
export { ddi_intr_thread_run, type IntrThreadOptions, type IntrThreadResult } from './intr-thread.ts';
export {
  ddi_intr_add_softint, ddi_intr_trigger_softint, ddi_intr_remove_softint, ddi_intr_get_softint_pri,
  ddi_intr_set_softint_pri,
} from './softint.ts';

// Driver services around the interrupts (issue 12): config space, registers, DMA, small services.
export * from './constants-services.ts';
export type { ddi_acc_handle_t, ddi_device_acc_attr_t } from './regs/acc-handle.ts';
export {
  ddi_regs_map_setup, ddi_regs_map_free, ddi_dev_nregs, ddi_dev_regsize, ddi_check_acc_handle,
} from './regs/regs-map.ts';
export {
  ddi_get8, ddi_get16, ddi_get32, ddi_get64, ddi_put8, ddi_put16, ddi_put32, ddi_put64,
} from './regs/access.ts';
export {
  ddi_rep_get8, ddi_rep_get16, ddi_rep_get32, ddi_rep_get64, ddi_rep_put8, ddi_rep_put16, ddi_rep_put32, ddi_rep_put64,
} from './regs/rep.ts';
export {
  pci_config_setup, pci_config_teardown, pci_config_get8, pci_config_get16, pci_config_get32, pci_config_get64,
  pci_config_put8, pci_config_put16, pci_config_put32, pci_config_put64,
} from './config/pci-config.ts';
export type { ddi_dma_attr_t } from './dma/attr.ts';
export type { ddi_dma_cookie_t } from './dma/cookies.ts';
export { ddi_dma_alloc_handle, ddi_dma_free_handle, type ddi_dma_handle_t, type ddi_dma_waitfp } from './dma/dma-handle.ts';
export { ddi_dma_mem_alloc, ddi_dma_mem_free } from './dma/dma-mem.ts';
export { ddi_dma_addr_bind_handle, ddi_dma_buf_bind_handle, ddi_dma_unbind_handle, type buf_t } from './dma/dma-bind.ts';
export {
  ddi_dma_nextcookie, ddi_dma_ncookies, ddi_dma_cookie_iter, ddi_dma_cookie_get, ddi_dma_cookie_one, ddi_dma_numwin,
  ddi_dma_getwin,
} from './dma/dma-cookie-api.ts';
export { ddi_dma_sync } from './dma/dma-sync.ts';
export { ddi_get_instance, ddi_driver_name } from './services/instance.ts';
export {
  drv_usectohz, drv_hztousec, ddi_get_lbolt, ddi_get_lbolt64, delay, drv_usecwait, DRV_USECWAIT_MAX,
} from './services/time.ts';
export { cmn_err, dev_err, setDevErrLogger, type DdiLogRecord, type DdiLogger } from './services/log.ts';
