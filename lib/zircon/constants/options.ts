/**
 * Option, flag, signal and time constants (zircon/types.h, zircon/syscalls/*.h; spec/zircon.md A.5).
 * Bit-31 values are written unsigned (API.md conventions).
 */

// zx_interrupt_create options (A.5).
export const ZX_INTERRUPT_REMAP_IRQ = 0x1;
export const ZX_INTERRUPT_MODE_DEFAULT = 0x0;
export const ZX_INTERRUPT_MODE_EDGE_LOW = 0x2;
export const ZX_INTERRUPT_MODE_EDGE_HIGH = 0x4;
export const ZX_INTERRUPT_MODE_LEVEL_LOW = 0x6;
export const ZX_INTERRUPT_MODE_LEVEL_HIGH = 0x8;
export const ZX_INTERRUPT_MODE_EDGE_BOTH = 0xa;
export const ZX_INTERRUPT_MODE_MASK = 0xe;
export const ZX_INTERRUPT_VIRTUAL = 0x10;
export const ZX_INTERRUPT_WAKE_VECTOR = 0x20;
export const ZX_INTERRUPT_TIMESTAMP_MONO = 0x40;
export const ZX_INTERRUPT_SLOT_USER = 62;
export const ZX_INTERRUPT_MAX_SLOTS = 62;

// zx_interrupt_bind options.
export const ZX_INTERRUPT_BIND = 0x0;
export const ZX_INTERRUPT_UNBIND = 0x1;

// zx_msi_create options.
export const ZX_MSI_MODE_MSI_X = 0x1;

// Ports and packets (A.5, A.6).
export const ZX_PORT_BIND_TO_INTERRUPT = 0x1;
export const ZX_PKT_TYPE_USER = 0;
export const ZX_PKT_TYPE_SIGNAL_ONE = 1;
export const ZX_PKT_TYPE_GUEST_BELL = 3;
export const ZX_PKT_TYPE_GUEST_MEM = 4;
export const ZX_PKT_TYPE_GUEST_IO = 5;
export const ZX_PKT_TYPE_GUEST_VCPU = 6;
export const ZX_PKT_TYPE_INTERRUPT = 7;
export const ZX_PKT_TYPE_PAGE_REQUEST = 9;

// zx_object_wait_async options.
export const ZX_WAIT_ASYNC_ONCE = 0x0;
export const ZX_WAIT_ASYNC_TIMESTAMP = 0x1;
export const ZX_WAIT_ASYNC_EDGE = 0x2;
export const ZX_WAIT_ASYNC_BOOT_TIMESTAMP = 0x4;

// Signals.
export const ZX_SIGNAL_NONE = 0;
export const ZX_VIRTUAL_INTERRUPT_UNTRIGGERED = 0x10; // __ZX_OBJECT_SIGNAL_4
export const ZX_CHANNEL_READABLE = 0x1; // __ZX_OBJECT_READABLE
export const ZX_CHANNEL_WRITABLE = 0x2; // __ZX_OBJECT_WRITABLE
export const ZX_CHANNEL_PEER_CLOSED = 0x4; // __ZX_OBJECT_PEER_CLOSED
export const ZX_SIGNAL_HANDLE_CLOSED = 0x800000; // 1 << 23
export const ZX_USER_SIGNAL_0 = 0x01000000;
export const ZX_USER_SIGNAL_1 = 0x02000000;
export const ZX_USER_SIGNAL_2 = 0x04000000;
export const ZX_USER_SIGNAL_3 = 0x08000000;
export const ZX_USER_SIGNAL_4 = 0x10000000;
export const ZX_USER_SIGNAL_5 = 0x20000000;
export const ZX_USER_SIGNAL_6 = 0x40000000;
export const ZX_USER_SIGNAL_7 = 0x80000000;
export const ZX_USER_SIGNAL_ALL = 0xff000000;

// Clocks and time.
export const ZX_CLOCK_MONOTONIC = 0;
export const ZX_CLOCK_BOOT = 1;
export const ZX_TIME_INFINITE = 0x7fffffffffffffffn;
export const ZX_TIME_INFINITE_PAST = -0x8000000000000000n;

// Cache policy (A.5).
export const ZX_CACHE_POLICY_CACHED = 0;
export const ZX_CACHE_POLICY_UNCACHED = 1;
export const ZX_CACHE_POLICY_UNCACHED_DEVICE = 2;
export const ZX_CACHE_POLICY_WRITE_COMBINING = 3;
export const ZX_CACHE_POLICY_MASK = 3;

// Resources (A.5).
export const ZX_RSRC_KIND_MMIO = 0;
export const ZX_RSRC_KIND_IRQ = 1;
export const ZX_RSRC_KIND_IOPORT = 2;
export const ZX_RSRC_KIND_ROOT = 3;
export const ZX_RSRC_KIND_SMC = 4;
export const ZX_RSRC_KIND_SYSTEM = 5;
export const ZX_RSRC_KIND_COUNT = 6;
export const ZX_RSRC_KIND_MASK = 0xffff;
export const ZX_RSRC_FLAG_EXCLUSIVE = 0x10000;
export const ZX_RSRC_FLAGS_MASK = ZX_RSRC_FLAG_EXCLUSIVE;
export const ZX_RSRC_SYSTEM_HYPERVISOR_BASE = 0;
export const ZX_RSRC_SYSTEM_VMEX_BASE = 1;
export const ZX_RSRC_SYSTEM_DEBUG_BASE = 2;
export const ZX_RSRC_SYSTEM_INFO_BASE = 3;
export const ZX_RSRC_SYSTEM_CPU_BASE = 4;
export const ZX_RSRC_SYSTEM_POWER_BASE = 5;
export const ZX_RSRC_SYSTEM_MEXEC_BASE = 6;
export const ZX_RSRC_SYSTEM_ENERGY_INFO_BASE = 7;
export const ZX_RSRC_SYSTEM_IOMMU_BASE = 8;
export const ZX_RSRC_SYSTEM_FRAMEBUFFER_BASE = 9;
export const ZX_RSRC_SYSTEM_PROFILE_BASE = 10;
export const ZX_RSRC_SYSTEM_MSI_BASE = 11;
export const ZX_RSRC_SYSTEM_DEBUGLOG_BASE = 12;
export const ZX_RSRC_SYSTEM_STALL_BASE = 13;
export const ZX_RSRC_SYSTEM_COUNT = 14;
export const ZX_MAX_NAME_LEN = 32;

// VMOs and VMARs.
export const ZX_VMO_RESIZABLE = 0x2;
export const ZX_VMO_DISCARDABLE = 0x4;
export const ZX_VM_PERM_READ = 0x1;
export const ZX_VM_PERM_WRITE = 0x2;
export const ZX_VM_PERM_EXECUTE = 0x4;
export const ZX_VM_COMPACT = 0x8;
export const ZX_VM_SPECIFIC = 0x10;
export const ZX_VM_SPECIFIC_OVERWRITE = 0x20;
export const ZX_VM_CAN_MAP_SPECIFIC = 0x40;
export const ZX_VM_CAN_MAP_READ = 0x80;
export const ZX_VM_CAN_MAP_WRITE = 0x100;
export const ZX_VM_CAN_MAP_EXECUTE = 0x200;
export const ZX_VM_MAP_RANGE = 0x400;
export const ZX_VM_REQUIRE_NON_RESIZABLE = 0x800;
export const ZX_VM_ALLOW_FAULTS = 0x1000;

// IOMMU / BTI.
export const ZX_IOMMU_TYPE_DUMMY = 0;
export const ZX_IOMMU_TYPE_INTEL = 1;
export const ZX_IOMMU_TYPE_ARM_SMMU = 2;
export const ZX_BTI_PERM_READ = 0x1;
export const ZX_BTI_PERM_WRITE = 0x2;
export const ZX_BTI_PERM_EXECUTE = 0x4;
export const ZX_BTI_COMPRESS = 0x8;
export const ZX_BTI_CONTIGUOUS = 0x10;

export const ZX_HANDLE_INVALID = 0;
export const ZX_HANDLE_FIXED_BITS_MASK = 0x3;
export const ZX_PAGE_SIZE = 4096;
