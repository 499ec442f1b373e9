/**
 * illumos DDI constants under their C names and values (spec/ddi.md B.1: sys/sunddi.h, sys/ddi_intr.h,
 * sys/ddi_intr_impl.h). Declared once here; every other file uses the names.
 */

/** Return codes (sys/sunddi.h). */
export const DDI_SUCCESS = 0;
export const DDI_FAILURE = -1;
export const DDI_NOT_WELL_FORMED = -2;
export const DDI_EAGAIN = -3;
export const DDI_EINVAL = -4;
export const DDI_ENOTSUP = -5;
export const DDI_EPENDING = -6;
export const DDI_EALREADY = -7;
export const DDI_ENOMEM = 1;
export const DDI_EBUSY = 2;
export const DDI_ETRANSPORT = 3;
export const DDI_ECONTEXT = 4;

/** Interrupt definitions (sys/ddi_intr.h). */
export const DDI_INTR_NOTFOUND = 1;
export const DDI_INTR_CLAIMED = 1;
export const DDI_INTR_UNCLAIMED = 0;

export const DDI_INTR_TYPE_FIXED = 0x1;
export const DDI_INTR_TYPE_MSI = 0x2;
export const DDI_INTR_TYPE_MSIX = 0x4;

export const DDI_INTR_PRI_MIN = 1;
export const DDI_INTR_PRI_MAX = 12;

export const DDI_INTR_SOFTPRI_MIN = 1;
export const DDI_INTR_SOFTPRI_MAX = 9;
export const DDI_INTR_SOFTPRI_DEFAULT = 1;

export const DDI_INTR_ALLOC_NORMAL = 0;
export const DDI_INTR_ALLOC_STRICT = 1;

export const DDI_INTR_FLAG_LEVEL = 0x0001;
export const DDI_INTR_FLAG_EDGE = 0x0002;
export const DDI_INTR_FLAG_MASKABLE = 0x0010;
export const DDI_INTR_FLAG_PENDING = 0x0020;
export const DDI_INTR_FLAG_BLOCK = 0x0100;
/** Internal: cached on the handle, never reported by ddi_intr_get_cap (B.1). */
export const DDI_INTR_FLAG_MSI64 = 0x0200;
export const DDI_INTR_FLAG_RETARGETABLE = 0x0400;

/** Legacy soft interrupt preferences. */
export const DDI_SOFTINT_FIXED = 0;
export const DDI_SOFTINT_LOW = 8;
export const DDI_SOFTINT_MED = 128;
export const DDI_SOFTINT_HIGH = 256;

/** Internal (sys/ddi_intr_impl.h): handle states and the dup flag. */
export const DDI_IHDL_STATE_ALLOC = 0x1;
export const DDI_IHDL_STATE_ADDED = 0x2;
export const DDI_IHDL_STATE_ENABLE = 0x4;
export const DDI_INTR_MSIX_DUP = 0x01;
export const DDI_INTR_VERSION = 1;

/** Allocation limits (B.1 internal constants). */
export const DDI_MAX_MSI_ALLOC = 2;
export const DDI_DEFAULT_MSIX_ALLOC = 2;
export const DDI_MIN_MSIX_ALLOC = 8;
export const DDI_MAX_MSIX_ALLOC = 2048;
export const PCI_MSI_MAX_INTRS = 32;
export const PCI_MSIX_MAX_INTRS = 2048;

/** x86: LOCK_LEVEL = 10; ddi_intr_get_hilevel_pri() = LOCK_LEVEL + 1 (B.1). */
export const LOCK_LEVEL = 10;

/** DDI_INTROP_* op codes (the nexus operations). */
export const DDI_INTROP_SUPPORTED_TYPES = 1;
export const DDI_INTROP_NINTRS = 2;
export const DDI_INTROP_ALLOC = 3;
export const DDI_INTROP_GETPRI = 4;
export const DDI_INTROP_SETPRI = 5;
export const DDI_INTROP_ADDISR = 6;
export const DDI_INTROP_DUPVEC = 7;
export const DDI_INTROP_ENABLE = 8;
export const DDI_INTROP_BLOCKENABLE = 9;
export const DDI_INTROP_BLOCKDISABLE = 10;
export const DDI_INTROP_DISABLE = 11;
export const DDI_INTROP_REMISR = 12;
export const DDI_INTROP_FREE = 13;
export const DDI_INTROP_GETCAP = 14;
export const DDI_INTROP_SETCAP = 15;
export const DDI_INTROP_SETMASK = 16;
export const DDI_INTROP_CLRMASK = 17;
export const DDI_INTROP_GETPENDING = 18;
export const DDI_INTROP_NAVAIL = 19;
export const DDI_INTROP_GETPOOL = 20;
export const DDI_INTROP_GETTARGET = 21;
export const DDI_INTROP_SETTARGET = 22;

/**
 * This project's stuck-interrupt guard (not an illumos constant): after this many consecutive
 * DDI_INTR_UNCLAIMED returns from a FIXED (INTx) handler the line is left masked and a warning is
 * emitted. A level interrupt nobody claims would otherwise refire forever (Linux uses a similar
 * "nobody cared" heuristic). ddi_intr_disable + ddi_intr_enable re-arms it.
 */
export const DDI_INTR_UNCLAIMED_LIMIT = 100;
