/**
 * illumos DDI constants of the driver services (register and config-space access, DMA, small
 * services) under their C names and values: sys/sunddi.h, sys/ddidmareq.h, sys/ddimapreq.h,
 * sys/devops.h / sys/cmn_err.h, sys/param.h. Declared once here; every other file uses the names.
 */

/** ddi_regs_map_setup: error code (sys/sunddi.h) and mapping errors (sys/ddimapreq.h). */
export const DDI_REGS_ACC_CONFLICT = -10;
export const DDI_ME_GENERIC = -1;
export const DDI_ME_UNIMPLEMENTED = -2;
export const DDI_ME_NORESOURCES = -3;
export const DDI_ME_UNSUPPORTED = -4;
export const DDI_ME_REGSPEC_RANGE = -5;
export const DDI_ME_RNUMBER_RANGE = -6;
export const DDI_ME_INVAL = -7;

/** Device address advance flags for ddi_rep_get / ddi_rep_put (sys/sunddi.h). */
export const DDI_DEV_NO_AUTOINCR = 0x0000;
export const DDI_DEV_AUTOINCR = 0x0001;

/** ddi_device_acc_attr_t (sys/devops.h / ddi_device_acc_attr(9S)). */
export const DDI_DEVICE_ATTR_V0 = 0x0001;
export const DDI_DEVICE_ATTR_V1 = 0x0002;
export const DDI_NEVERSWAP_ACC = 0x00;
export const DDI_STRUCTURE_LE_ACC = 0x01;
export const DDI_STRUCTURE_BE_ACC = 0x02;
export const DDI_STRICTORDER_ACC = 0x00;
export const DDI_UNORDERED_OK_ACC = 0x01;
export const DDI_MERGING_OK_ACC = 0x02;
export const DDI_LOADCACHING_OK_ACC = 0x03;
export const DDI_STORECACHING_OK_ACC = 0x04;
/** devacc_attr_access (DDI_DEVICE_ATTR_V1 only). */
export const DDI_DEFAULT_ACC = 0x01;
export const DDI_FLAGERR_ACC = 0x02;
export const DDI_CAUTIOUS_ACC = 0x03;

/** ddi_dma_attr_t version and dma_attr_flags (sys/ddidmareq.h). */
export const DMA_ATTR_V0 = 0;
export const DMA_ATTR_VERSION = DMA_ATTR_V0;
export const DDI_DMA_FORCE_PHYSICAL = 0x0100;
export const DDI_DMA_FLAGERR = 0x200;
export const DDI_DMA_RELAXED_ORDERING = 0x400;
export const _DDI_DMA_BOUNCE_ON_SEG = 0x8000;

/** Callback sentinels for waitfp (sys/ddidmareq.h: `((int (*)())0)` / `((int (*)())1)`). */
export const DDI_DMA_DONTWAIT = 0;
export const DDI_DMA_SLEEP = 1;

/** Bind / mem-alloc flags (sys/ddidmareq.h). */
export const DDI_DMA_WRITE = 0x0001;
export const DDI_DMA_READ = 0x0002;
export const DDI_DMA_RDWR = DDI_DMA_READ | DDI_DMA_WRITE;
export const DDI_DMA_REDZONE = 0x0004;
export const DDI_DMA_PARTIAL = 0x0008;
export const DDI_DMA_CONSISTENT = 0x0010;
export const DDI_DMA_EXCLUSIVE = 0x0020;
export const DDI_DMA_STREAMING = 0x0040;

/** Mapping results (sys/ddidmareq.h). */
export const DDI_DMA_MAPPED = 0;
export const DDI_DMA_MAPOK = 0;
export const DDI_DMA_PARTIAL_MAP = 1;
export const DDI_DMA_DONE = 2;
export const DDI_DMA_NORESOURCES = -1;
export const DDI_DMA_NOMAPPING = -2;
export const DDI_DMA_TOOBIG = -3;
export const DDI_DMA_TOOSMALL = -4;
export const DDI_DMA_LOCKED = -5;
export const DDI_DMA_BADLIMITS = -6;
export const DDI_DMA_STALE = -7;
export const DDI_DMA_BADATTR = -8;
export const DDI_DMA_INUSE = -9;

/** ddi_dma_sync directions (sys/ddidmareq.h). */
export const DDI_DMA_SYNC_FORDEV = 0x0;
export const DDI_DMA_SYNC_FORCPU = 0x1;
export const DDI_DMA_SYNC_FORKERNEL = 0x2;

/** Cache attributes in ddi_dma_mem_alloc flags (sys/ddidmareq.h). */
export const IOMEM_DATA_CACHED = 0x10000;
export const IOMEM_DATA_UC_WR_COMBINE = 0x20000;
export const IOMEM_DATA_UNCACHED = 0x40000;
export const IOMEM_DATA_MASK = 0xf0000;

/** cmn_err(9F) levels (sys/cmn_err.h). */
export const CE_CONT = 0;
export const CE_NOTE = 1;
export const CE_WARN = 2;
export const CE_PANIC = 3;
export const CE_IGNORE = 4;

/** Clock ticks per second: illumos' default `hz` (uts/common/conf/param.c, hires_tick = 0). */
export const HZ = 100;

/** MMU page size of the x86 DDI (MMU_PAGESIZE / MMU_PAGEOFFSET). */
export const MMU_PAGESIZE = 4096;
export const MMU_PAGEOFFSET = MMU_PAGESIZE - 1;

/** PCI config space sizes (sys/pci.h PCI_CONF_HDR_SIZE, sys/pcie.h PCIE_CONF_HDR_SIZE). */
export const PCI_CONF_HDR_SIZE = 256;
export const PCIE_CONF_HDR_SIZE = 4096;

/**
 * NDI event names for ddi_get_eventcookie(9F) (sys/sunddi.h: "Event to post to when a devinfo node is
 * removed", and the reset events).
 */
export const DDI_DEVI_REMOVE_EVENT = 'DDI:DEVI_REMOVE';
export const DDI_DEVI_INSERT_EVENT = 'DDI:DEVI_INSERT';
export const DDI_DEVI_BUS_RESET_EVENT = 'DDI:DEVI_BUS_RESET';
export const DDI_DEVI_DEVICE_RESET_EVENT = 'DDI:DEVI_DEVICE_RESET';
