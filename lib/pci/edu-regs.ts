/**
 * QEMU `edu` device constants (hw/misc/edu.c, docs/specs/edu.rst; spec/edu.md D.1–D.5), declared once
 * for both the emulated model (lib/emu/edu.ts) and the driver (lib/drivers/edu.ts). Names follow
 * edu.c where it has them.
 */

/** D.1 identity. */
export const EDU_VENDOR_ID = 0x1234;
export const EDU_DEVICE_ID = 0x11e8;
export const EDU_REVISION = 0x10;
/** QEMU sets class_id = PCI_CLASS_OTHERS (0x00ff, a 16-bit class/subclass): base class 0x00, subclass
 *  0xff, prog-if 0 — 0x00ff00, as the real edu reads in the guest (spec/edu.md D.1 says "base class 0xFF";
 *  the hardware says otherwise and wins). */
export const EDU_CLASS_CODE = 0x00ff00;
export const EDU_BAR0_SIZE = 1 << 20;
/** Default `dma_mask` property: (1 << 28) − 1. */
export const EDU_DEFAULT_DMA_MASK = (1n << 28n) - 1n;

/** D.2 BAR0 register offsets. */
export const EDU_REG = {
  ID: 0x00,
  LIVENESS: 0x04,
  FACTORIAL: 0x08,
  STATUS: 0x20,
  IRQ_STATUS: 0x24,
  IRQ_RAISE: 0x60,
  IRQ_ACK: 0x64,
  DMA_SRC: 0x80,
  DMA_DST: 0x88,
  DMA_CNT: 0x90,
  DMA_CMD: 0x98,
} as const;

/** Offsets below this accept 4-byte accesses only; from here 4 or 8 (D.2). */
export const EDU_REG_64BIT_START = 0x80;

/** D.2 identification value 0xRRrr00ED: major 1, minor 0. */
export const EDU_ID_VALUE = 0x010000ed;

/** D.2 / D.4 status register bits. */
export const EDU_STATUS_COMPUTING = 0x01;
export const EDU_STATUS_IRQFACT = 0x80;

/** D.2 IRQ causes. */
export const EDU_FACT_IRQ = 0x00000001;
export const EDU_DMA_IRQ = 0x00000100;

/** D.2 / D.5 DMA command bits. */
export const EDU_DMA_RUN = 0x1;
export const EDU_DMA_DIR = 0x2;
export const EDU_DMA_FROM_PCI = 0;
export const EDU_DMA_TO_PCI = 1;
export const EDU_DMA_IRQ_ENABLE = 0x4;

/** D.5 device buffer window. */
export const EDU_DMA_START = 0x40000;
export const EDU_DMA_SIZE = 4096;
/** D.7: QEMU 7.2 aborts on a transfer ending exactly at the window end; keep transfers ≤ 4095 bytes. */
export const EDU_DMA_MAX_SAFE = EDU_DMA_SIZE - 1;
