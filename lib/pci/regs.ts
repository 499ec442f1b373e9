/**
 * PCI configuration-space constants, under their Linux `include/uapi/linux/pci_regs.h` names.
 * Declared once here; every other file uses the names (spec/pci-vfio.md C.1, C.2).
 */

/** Type 0 configuration header (PCI Local Bus Spec 3.0 §6.1). */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_5 = 0x24;
export const PCI_CARDBUS_CIS = 0x28;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_MIN_GNT = 0x3e;
export const PCI_MAX_LAT = 0x3f;

/** Size of conventional config space, and of the PCIe extended space. */
export const PCI_CFG_SPACE_SIZE = 256;
export const PCI_CFG_SPACE_EXP_SIZE = 4096;
export const PCI_STD_NUM_BARS = 6;

/** Command register bits. */
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_SPECIAL = 0x8;
export const PCI_COMMAND_INVALIDATE = 0x10;
export const PCI_COMMAND_VGA_PALETTE = 0x20;
export const PCI_COMMAND_PARITY = 0x40;
export const PCI_COMMAND_WAIT = 0x80;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_FAST_BACK = 0x200;
export const PCI_COMMAND_INTX_DISABLE = 0x400;

/** Status register bits. */
export const PCI_STATUS_IMM_READY = 0x01;
export const PCI_STATUS_INTERRUPT = 0x08;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_STATUS_66MHZ = 0x20;
export const PCI_STATUS_FAST_BACK = 0x80;
export const PCI_STATUS_PARITY = 0x100;
export const PCI_STATUS_DEVSEL_MASK = 0x600;
export const PCI_STATUS_SIG_TARGET_ABORT = 0x800;
export const PCI_STATUS_REC_TARGET_ABORT = 0x1000;
export const PCI_STATUS_REC_MASTER_ABORT = 0x2000;
export const PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
export const PCI_STATUS_DETECTED_PARITY = 0x8000;

/** Header type. */
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_NORMAL = 0;

/** Base address register bits. */
export const PCI_BASE_ADDRESS_SPACE = 0x01;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_SPACE_MEMORY = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x06;
export const PCI_BASE_ADDRESS_MEM_TYPE_32 = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0;
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc;

/** Capability list. */
export const PCI_CAP_LIST_ID = 0;
export const PCI_CAP_LIST_NEXT = 1;
export const PCI_CAP_FLAGS = 2;
export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;

/** Power Management capability (PCI PM 1.2 §3.2). */
export const PCI_PM_PMC = 2;
export const PCI_PM_CAP_VER_MASK = 0x0007;
/** PMC Version 011b: PCI PM 1.2 (QEMU's PCI_PM_CAP_VER_1_2). */
export const PCI_PM_CAP_VER_1_2 = 0x0003;
export const PCI_PM_CTRL = 4;
export const PCI_PM_CTRL_STATE_MASK = 0x0003;
export const PCI_PM_CTRL_NO_SOFT_RESET = 0x0008;
export const PCI_PM_SIZEOF = 8;

/** PCI Express capability (PCIe Base 3.0 §7.8), the fields an endpoint's driver reads. */
export const PCI_EXP_FLAGS = 2;
export const PCI_EXP_FLAGS_VERS = 0x000f;
export const PCI_EXP_FLAGS_TYPE = 0x00f0;
export const PCI_EXP_FLAGS_TYPE_SHIFT = 4;
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
/** Capability version 2 (the 0x3c-byte layout). */
export const PCI_EXP_FLAGS_VER2 = 0x0002;
export const PCI_EXP_DEVCAP = 4;
export const PCI_EXP_DEVCAP_RBER = 0x00008000;
export const PCI_EXP_DEVCAP_FLR = 0x10000000;
export const PCI_EXP_DEVCTL = 8;
export const PCI_EXP_DEVCTL_CERE = 0x0001;
export const PCI_EXP_DEVCTL_NFERE = 0x0002;
export const PCI_EXP_DEVCTL_FERE = 0x0004;
export const PCI_EXP_DEVCTL_URRE = 0x0008;
export const PCI_EXP_DEVCTL_RELAX_EN = 0x0010;
export const PCI_EXP_DEVCTL_PAYLOAD = 0x00e0;
export const PCI_EXP_DEVCTL_EXT_TAG = 0x0100;
export const PCI_EXP_DEVCTL_PHANTOM = 0x0200;
export const PCI_EXP_DEVCTL_AUX_PME = 0x0400;
export const PCI_EXP_DEVCTL_NOSNOOP_EN = 0x0800;
export const PCI_EXP_DEVCTL_READRQ = 0x7000;
export const PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
export const PCI_EXP_DEVSTA = 10;
export const PCI_EXP_LNKCAP = 12;
export const PCI_EXP_LNKCAP_ASPMS_0S = 0x00000400;
export const PCI_EXP_LNKCAP_MLW_SHIFT = 4;
export const PCI_EXP_LNKCTL = 16;
export const PCI_EXP_LNKSTA = 18;
export const PCI_EXP_LNKSTA_NLW_SHIFT = 4;
export const PCI_EXP_DEVCAP2 = 0x24;
export const PCI_EXP_DEVCAP2_EFF = 0x00100000;
export const PCI_EXP_DEVCAP2_EETLPP = 0x00200000;
export const PCI_EXP_DEVCTL2 = 0x28;
export const PCI_EXP_DEVCTL2_EETLPPB = 0x8000;
export const PCI_EXP_VER2_SIZEOF = 0x3c;
/** Link speed 2.5 GT/s and width x1 codes (QEMU_PCI_EXP_LNK_2_5GT, QEMU_PCI_EXP_LNK_X1). */
export const PCI_EXP_LNK_2_5GT = 1;
export const PCI_EXP_LNK_X1 = 1;

/** MSI capability (PCI 3.0 §6.8.1; spec/pci-vfio.md C.1). */
export const PCI_MSI_FLAGS = 2;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_RFU = 3;
export const PCI_MSI_ADDRESS_LO = 4;
export const PCI_MSI_ADDRESS_HI = 8;
export const PCI_MSI_DATA_32 = 8;
export const PCI_MSI_MASK_32 = 12;
export const PCI_MSI_PENDING_32 = 16;
export const PCI_MSI_DATA_64 = 12;
export const PCI_MSI_MASK_64 = 16;
export const PCI_MSI_PENDING_64 = 20;
/** Capability sizes by layout (C.1 table, last row). */
export const PCI_MSI_CAP_SIZE_32 = 0x0a;
export const PCI_MSI_CAP_SIZE_32_PVM = 0x14;
export const PCI_MSI_CAP_SIZE_64 = 0x0e;
export const PCI_MSI_CAP_SIZE_64_PVM = 0x18;
/** Largest MSI block: 32 vectors (MMC = 5). */
export const PCI_MSI_MAX_VECTORS = 32;

/** MSI-X capability (PCI 3.0 §6.8.2; spec/pci-vfio.md C.2). */
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_TABLE_BIR = 0x00000007;
export const PCI_MSIX_TABLE_OFFSET = 0xfffffff8;
export const PCI_MSIX_PBA = 8;
export const PCI_MSIX_PBA_BIR = 0x00000007;
export const PCI_MSIX_PBA_OFFSET = 0xfffffff8;
export const PCI_CAP_MSIX_SIZEOF = 12;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0x0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 0x4;
export const PCI_MSIX_ENTRY_DATA = 0x8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;
/** Largest MSI-X table: 2048 entries. */
export const PCI_MSIX_MAX_VECTORS = 2048;

/** Interrupt pin values (0 = none, 1..4 = INTA#..INTD#). */
export const PCI_INTERRUPT_PIN_NONE = 0;
export const PCI_INTERRUPT_PIN_INTA = 1;
