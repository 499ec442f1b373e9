/**
 * DDI_INTROP_SETMASK / CLRMASK / GETPENDING through the real capability registers (spec/ddi.md B.3;
 * pci_intr_lib.c pci_msi_set_mask, pci_msi_clr_mask, pci_msi_get_pending, pci_intx_*), **plus** the
 * vector's IrqLine latch: over VFIO the capability writes do not reach the device's interrupt path
 * (vfio-pci virtualizes them, and cannot mask MSI/MSI-X: spec/pci-vfio.md C.4), so a masked line
 * latches fires and delivers them once on unmask. Either route alone suffices; together they give
 * exactly one delivery after clr_mask (the register is cleared first, so a message the device held
 * pending meets a still-masked line and coalesces with anything latched there).
 *
 * MSI-X nuance (B.3): while the Function Mask bit is set, set_mask and clr_mask succeed and do nothing
 * at all — the vector control dword and the line are left as they are, as illumos does.
 *
 * Every function may throw (device closed); callers turn that into DDI_FAILURE.
 */
import {
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_MASKALL, PCI_STATUS, PCI_STATUS_INTERRUPT,
} from '../pci/regs.ts';
import { DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI } from './constants.ts';
import type { IntrHandle } from './intr-handle.ts';
import { requireMsi, requireMsix, writeMsiMask, writeMsixMask } from './nexus-program.ts';

/** Bytes per PBA qword and vectors per qword (PCI 3.0 §6.8.2.10). */
const PBA_QWORD_BYTES = 8;
const PBA_QWORD_BITS = 64;

export function setMask(h: IntrHandle, masked: boolean): void {
  const device = h.dip.device;
  if (h.type === DDI_INTR_TYPE_FIXED) {
    const command = device.config.read16(PCI_COMMAND);
    device.config.write16(PCI_COMMAND,
      masked ? command | PCI_COMMAND_INTX_DISABLE : command & ~PCI_COMMAND_INTX_DISABLE);
  } else if (h.type === DDI_INTR_TYPE_MSI) {
    writeMsiMask(device, requireMsi(device), h.inum, masked);
  } else {
    const msix = requireMsix(device);
    if ((device.config.read16(msix.offset + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_MASKALL) !== 0) return;
    writeMsixMask(device, msix, h.inum, masked);
  }
  if (masked) h.line.mask();
  else h.line.unmask();
}

/**
 * True when vector `inum` is pending: its bit in the device's pending register (MSI pending bits,
 * MSI-X PBA, INTx Status bit 3) or fires latched in its line. Reports bit `inum` — the intent — not
 * illumos' `pending & ~(1 >> inum)` slip (B.3 get_pending quirk).
 */
export function isPending(h: IntrHandle): boolean {
  if (h.line.pending > 0) return true;
  const device = h.dip.device;
  if (h.type === DDI_INTR_TYPE_FIXED) return (device.config.read16(PCI_STATUS) & PCI_STATUS_INTERRUPT) !== 0;
  if (h.type === DDI_INTR_TYPE_MSI) {
    const msi = requireMsi(device);
    return msi.pending !== null && ((device.config.read32(msi.pending) >>> h.inum) & 1) !== 0;
  }
  const msix = requireMsix(device);
  const word = Math.floor(h.inum / PBA_QWORD_BITS);
  const qword = device.bar(msix.pbaBar).read64(msix.pbaOffset + word * PBA_QWORD_BYTES);
  return ((qword >> BigInt(h.inum % PBA_QWORD_BITS)) & 1n) !== 0n;
}
