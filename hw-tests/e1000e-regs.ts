/**
 * The Intel 82574L (QEMU's e1000e) registers the hardware suites use to raise interrupts from
 * software: a cause written to ICS is set in ICR, and a cause also set in IMS interrupts — as INTx
 * without MSI/MSI-X, and with MSI-X on the vector IVAR routes it to (82574L datasheet §10.2.4
 * "Interrupt Registers"; QEMU hw/net/e1000e_core.c e1000e_set_ics → e1000e_update_interrupt_state →
 * e1000e_msix_notify_one). Names and offsets from Linux drivers/net/ethernet/intel/e1000e/{hw.h,
 * defines.h}; offsets in BAR0.
 */
import type { PciRegion } from 'vfio-ddk';

export const E1000_VENDOR_ID_INTEL = 0x8086;
export const E1000_DEV_ID_82574L = 0x10d3;
export const E1000_STATUS = 0x00008;
/** Extended Device Control. */
export const E1000_CTRL_EXT = 0x00018;
/** CTRL_EXT Interrupt Acknowledge Auto-mask enable: an auto-cleared cause keeps its IMS bit. */
export const E1000_CTRL_EXT_IAME = 0x08000000;
/** Interrupt Cause Read; writing 1s clears them. */
export const E1000_ICR = 0x000c0;
/** Interrupt Cause Set. */
export const E1000_ICS = 0x000c8;
/** Interrupt Mask Set/Read. */
export const E1000_IMS = 0x000d0;
/** Interrupt Mask Clear. */
export const E1000_IMC = 0x000d8;
/** Extended Interrupt Auto Clear (82574): causes cleared from ICR when their MSI-X message is sent. */
export const E1000_EIAC_82574 = 0x000dc;
/** Interrupt Vector Allocation (MSI-X): RxQ0 in bits 3:0. */
export const E1000_IVAR = 0x000e4;
/** Link status change. */
export const E1000_ICR_LSC = 1 << 2;
/** Receive queue 0 (routed by IVAR RxQ0 under MSI-X). */
export const E1000_ICR_RXQ0 = 1 << 20;
/** Transmit queue 0 (routed by IVAR TxQ0, bits 11:8). */
export const E1000_ICR_TXQ0 = 1 << 22;
/** An IVAR entry's valid bit; its low 3 bits name the MSI-X vector (E1000_IVAR_INT_ALLOC_VALID). */
export const E1000_IVAR_VALID = 0x8;
/** Where IVAR's TxQ0 entry starts (RxQ0 is bits 3:0, RxQ1 7:4, TxQ0 11:8). */
export const E1000_IVAR_TXQ0_SHIFT = 8;
/** QEMU hw/net/e1000e.c: E1000E_MMIO_SIZE, E1000E_MSIX_SIZE (BAR3), E1000E_MSIX_VEC_NUM. */
export const E1000E_MMIO_SIZE = 128 * 1024;
export const E1000E_MSIX_BAR = 3;
export const E1000E_MSIX_SIZE = 16 * 1024;
export const E1000E_MSIX_VEC_NUM = 5;
/** PCI class 02 (network) 00 (Ethernet). */
export const PCI_CLASS_NETWORK_ETHERNET = 0x020000;

/** Reads ICR and clears what it read (write-1-to-clear); returns the causes. */
export function ack(bar: PciRegion): number {
  const icr = bar.read32(E1000_ICR);
  if (icr !== 0) bar.write32(E1000_ICR, icr);
  return icr;
}

/** Every cause masked and cleared: the device raises nothing until IMS is written. */
export function quiet(bar: PciRegion): void {
  bar.write32(E1000_IMC, 0xffffffff);
  ack(bar);
}

/** RxQ0 → MSI-X vector `rx`, TxQ0 → vector `tx`, both causes unmasked: ICS of RXQ0 / TXQ0 raises them. */
export function routeQueues(bar: PciRegion, rx: number, tx: number): void {
  bar.write32(E1000_IVAR, (E1000_IVAR_VALID | rx) | ((E1000_IVAR_VALID | tx) << E1000_IVAR_TXQ0_SHIFT));
  bar.write32(E1000_IMS, E1000_ICR_RXQ0 | E1000_ICR_TXQ0);
}
