/**
 * vfio-ddk/ddi — the illumos DDI interrupt framework (ddi_intr_*) and the driver services around it
 * (pci_config_*, ddi_regs_* / ddi_get / ddi_put, ddi_dma_*, clocks, cmn_err) over PciDevice,
 * C-faithful (API.md `vfio-ddk/ddi`, spec/ddi.md B.1–B.4). Start at `ddi_dev_info(device)`.
 */
// The C functions go through the trace switch (lib/pci/trace-hook.ts: one null check per call while off).
import { kitCalls } from '../pci/trace-hook.ts';
import * as devInfo from './dev-info.ts';
import * as intrInfo from './intr-info.ts';
import * as intrAlloc from './intr-alloc.ts';
import * as intrCapPri from './intr-cap-pri.ts';
import * as intrHandlers from './intr-handlers.ts';
import * as intrEnable from './intr-enable.ts';
import * as intrMask from './intr-mask.ts';
import * as intrThread from './intr-thread.ts';
import * as softint from './softint.ts';
import * as regsMap from './regs/regs-map.ts';
import * as access from './regs/access.ts';
import * as rep from './regs/rep.ts';
import * as pciConfig from './config/pci-config.ts';
import * as dmaHandle from './dma/dma-handle.ts';
import * as dmaMem from './dma/dma-mem.ts';
import * as dmaBind from './dma/dma-bind.ts';
import * as dmaCookieApi from './dma/dma-cookie-api.ts';
import * as dmaSync from './dma/dma-sync.ts';
import * as instance from './services/instance.ts';
import * as time from './services/time.ts';
import * as log from './services/log.ts';
import * as events from './services/events.ts';

export * from './constants.ts';
export type { Out } from './args.ts';
export type { dev_info_t, DdiLimits, DevInfoOptions } from './dev-info.ts';
export const { ddi_dev_info } = kitCalls('ddi', devInfo);
export type { ddi_intr_handle_t, ddi_intr_handler_t } from './intr-handle.ts';
export type { ddi_softint_handle_t } from './softint.ts';
export const { ddi_intr_get_supported_types, ddi_intr_get_nintrs, ddi_intr_get_navail } = kitCalls('ddi', intrInfo);
export const { ddi_intr_alloc, ddi_intr_free } = kitCalls('ddi', intrAlloc);
export const {
  ddi_intr_get_cap, ddi_intr_set_cap, ddi_intr_get_pri, ddi_intr_set_pri, ddi_intr_get_hilevel_pri,
} = kitCalls('ddi', intrCapPri);
export const { ddi_intr_add_handler, ddi_intr_remove_handler, ddi_intr_dup_handler } = kitCalls('ddi', intrHandlers);
export const { ddi_intr_enable, ddi_intr_disable, ddi_intr_block_enable, ddi_intr_block_disable } = kitCalls('ddi', intrEnable);
export const { ddi_intr_set_mask, ddi_intr_clr_mask, ddi_intr_get_pending } = kitCalls('ddi', intrMask);
// Not a DDI call: handlers dispatched on a Worker that blocks natively (an interrupt thread).
export type { IntrThreadOptions, IntrThreadResult } from './intr-thread.ts';
export const { ddi_intr_thread_run } = kitCalls('ddi', intrThread);
export const {
  ddi_intr_add_softint, ddi_intr_trigger_softint, ddi_intr_remove_softint, ddi_intr_get_softint_pri,
  ddi_intr_set_softint_pri,
} = kitCalls('ddi', softint);

// Driver services around the interrupts (issue 12): config space, registers, DMA, small services.
export * from './constants-services.ts';
export type { ddi_acc_handle_t, ddi_device_acc_attr_t } from './regs/acc-handle.ts';
export const {
  ddi_regs_map_setup, ddi_regs_map_free, ddi_dev_nregs, ddi_dev_regsize, ddi_check_acc_handle,
} = kitCalls('ddi', regsMap);
export const { ddi_get8, ddi_get16, ddi_get32, ddi_get64, ddi_put8, ddi_put16, ddi_put32, ddi_put64 } = kitCalls('ddi', access);
export const {
  ddi_rep_get8, ddi_rep_get16, ddi_rep_get32, ddi_rep_get64, ddi_rep_put8, ddi_rep_put16, ddi_rep_put32, ddi_rep_put64,
} = kitCalls('ddi', rep);
export const {
  pci_config_setup, pci_config_teardown, pci_config_get8, pci_config_get16, pci_config_get32, pci_config_get64,
  pci_config_put8, pci_config_put16, pci_config_put32, pci_config_put64,
} = kitCalls('ddi', pciConfig);
export type { ddi_dma_attr_t } from './dma/attr.ts';
export type { ddi_dma_cookie_t } from './dma/cookies.ts';
export type { ddi_dma_handle_t, ddi_dma_waitfp } from './dma/dma-handle.ts';
export const { ddi_dma_alloc_handle, ddi_dma_free_handle } = kitCalls('ddi', dmaHandle);
export const { ddi_dma_mem_alloc, ddi_dma_mem_free } = kitCalls('ddi', dmaMem);
export type { buf_t } from './dma/dma-bind.ts';
export const { ddi_dma_addr_bind_handle, ddi_dma_buf_bind_handle, ddi_dma_unbind_handle } = kitCalls('ddi', dmaBind);
export const {
  ddi_dma_nextcookie, ddi_dma_ncookies, ddi_dma_cookie_iter, ddi_dma_cookie_get, ddi_dma_cookie_one, ddi_dma_numwin,
  ddi_dma_getwin,
} = kitCalls('ddi', dmaCookieApi);
export const { ddi_dma_sync } = kitCalls('ddi', dmaSync);
export const { ddi_get_instance, ddi_driver_name } = kitCalls('ddi', instance);
export { DRV_USECWAIT_MAX } from './services/time.ts';
export const { drv_usectohz, drv_hztousec, ddi_get_lbolt, ddi_get_lbolt64, delay, drv_usecwait } = kitCalls('ddi', time);
export type { DdiLogRecord, DdiLogger } from './services/log.ts';
export const { cmn_err, dev_err, setDevErrLogger } = kitCalls('ddi', log);
export type { ddi_callback_id_t, ddi_event_handler_t, ddi_eventcookie_t } from './services/events.ts';
export const { ddi_get_eventcookie, ddi_add_event_handler, ddi_remove_event_handler } = kitCalls('ddi', events);
