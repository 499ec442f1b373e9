/**
 * The "nexus": programming a device's interrupt capability the way illumos' PCI nexus does
 * (pci_intr_lib.c pci_msi_configure / pci_msi_enable_mode / pci_msix_dup) and routing each enabled
 * vector through the backend (`device.irq.attach(index, inum, line)`, one IrqLine per vector).
 *
 * Order matters: a vector's line is attached *before* the nexus clears its mask bit, so a message the
 * device held pending while masked lands on a routed line instead of being lost; on disable the mask
 * bit is set before the line is detached ("the nexus driver's responsibility to set the mask bit before the
 * interrupt can be disabled", pci_msi_disable_mode).
 *
 * Every function may throw (device closed, backend refusal); callers turn that into DDI_FAILURE.
 */
import type { PciDevice } from '../pci/device.ts';
import { findMsi, findMsix, type MsiLayout, type MsixLayout } from '../pci/capabilities.ts';
import {
  PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
} from '../pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import { DDI_IHDL_STATE_ENABLE, DDI_INTR_TYPE_FIXED, DDI_INTR_TYPE_MSI, DDI_INTR_TYPE_MSIX } from './constants.ts';
import type { DevInfo } from './dev-info.ts';
import type { IntrHandle } from './intr-handle.ts';
import { msiMessage, msixMessage } from './msi-message.ts';

/** Multiple Message Enable field position (PCI 3.0 §6.8.1.3, bits 6:4). */
const PCI_MSI_MME_SHIFT = 4;

export function requireMsi(device: PciDevice): MsiLayout {
  const msi = findMsi(device.config);
  if (msi === null) throw new Error('device has no MSI capability');
  return msi;
}

export function requireMsix(device: PciDevice): MsixLayout {
  const msix = findMsix(device.config);
  if (msix === null) throw new Error('device has no MSI-X capability');
  return msix;
}

export function msixEntry(msix: MsixLayout, inum: number): number {
  return msix.tableOffset + inum * PCI_MSIX_ENTRY_SIZE;
}

/** pci_msi_configure for MSI: MME = log2(count), address (+ upper), 16-bit data; the block masked. */
function configureMsi(device: PciDevice, msi: MsiLayout, count: number): void {
  const cfg = device.config;
  const mme = 31 - Math.clz32(count);
  const control = cfg.read16(msi.offset + PCI_MSI_FLAGS) & ~PCI_MSI_FLAGS_QSIZE;
  cfg.write16(msi.offset + PCI_MSI_FLAGS, control | (mme << PCI_MSI_MME_SHIFT));
  const message = msiMessage();
  cfg.write32(msi.addressLo, message.address);
  if (msi.addressHi !== null) cfg.write32(msi.addressHi, 0);
  cfg.write16(msi.data, message.data);
  // Vectors of the block start masked; enabling one clears its bit (pci_msi_enable_mode's NOTE).
  if (msi.mask !== null) cfg.write32(msi.mask, count >= 32 ? 0xffffffff : (1 << count) - 1);
}

function setMsiEnable(device: PciDevice, msi: MsiLayout, on: boolean): void {
  const at = msi.offset + PCI_MSI_FLAGS;
  const control = device.config.read16(at);
  const next = on ? control | PCI_MSI_FLAGS_ENABLE : control & ~PCI_MSI_FLAGS_ENABLE;
  if (next !== control) device.config.write16(at, next);
}

function setMsixEnable(device: PciDevice, msix: MsixLayout, on: boolean): void {
  const at = msix.offset + PCI_MSIX_FLAGS;
  const control = device.config.read16(at);
  const next = on ? control | PCI_MSIX_FLAGS_ENABLE : control & ~PCI_MSIX_FLAGS_ENABLE;
  if (next !== control) device.config.write16(at, next);
}

/** MSI per-vector mask bit (only with PVM). */
export function writeMsiMask(device: PciDevice, msi: MsiLayout, inum: number, masked: boolean): void {
  if (msi.mask === null) return;
  const bits = device.config.read32(msi.mask);
  device.config.write32(msi.mask, masked ? (bits | (1 << inum)) >>> 0 : (bits & ~(1 << inum)) >>> 0);
}

/** MSI-X vector control: 1 masks, 0 unmasks (pci_msi_set_mask / pci_msi_clr_mask write the dword). */
export function writeMsixMask(device: PciDevice, msix: MsixLayout, inum: number, masked: boolean): void {
  device.bar(msix.tableBar).write32(msixEntry(msix, inum) + PCI_MSIX_ENTRY_VECTOR_CTRL,
    masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

function writeMsixMessage(device: PciDevice, msix: MsixLayout, inum: number, address: bigint, data: number): void {
  const bar = device.bar(msix.tableBar);
  const entry = msixEntry(msix, inum);
  // The spec only requires 32-bit accesses (pci_msi_configure): data, then low, then upper address.
  bar.write32(entry + PCI_MSIX_ENTRY_DATA, data);
  bar.write32(entry + PCI_MSIX_ENTRY_LOWER_ADDR, Number(address & 0xffffffffn));
  bar.write32(entry + PCI_MSIX_ENTRY_UPPER_ADDR, Number(address >> 32n));
}

function programMsixMessage(device: PciDevice, msix: MsixLayout, inum: number): void {
  const message = msixMessage(inum);
  writeMsixMessage(device, msix, inum, BigInt(message.address), message.data);
}

/** Fresh line state for a newly routed vector: nothing latched, not masked, guard re-armed. */
function prepareLine(h: IntrHandle): void {
  h.line.clearPending();
  h.line.unmask();
  h.dispatch.rearm();
}

/**
 * DDI_INTROP_ENABLE for one handle (FIXED, MSI with PVM, MSI-X or an MSI-X dup). The backend's attach
 * acts as the host kernel (VFIO_DEVICE_SET_IRQS: it enables the index and programs a message of its
 * own); the nexus then writes what illumos' would — MME, address and data (the dup: the original's),
 * the vector unmasked, Enable set — so the capability reads as illumos leaves it.
 */
export function enableVector(h: IntrHandle): void {
  const device = h.dip.device;
  prepareLine(h); // our own line only, before attach: a fire the routing itself causes is kept
  if (h.type === DDI_INTR_TYPE_FIXED) {
    device.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, h.line);
    return;
  }
  const msi = h.type === DDI_INTR_TYPE_MSI ? requireMsi(device) : null;
  const msix = msi === null ? requireMsix(device) : null;
  const index = msi !== null ? VFIO_PCI_MSI_IRQ_INDEX : VFIO_PCI_MSIX_IRQ_INDEX;
  // The routing first: when another owner holds the vector it throws, and nothing has been touched —
  // not that owner's mask, its line, nor the capability's Enable (a failed enable changes nothing).
  device.irq.attach(index, h.inum, h.line);
  try {
    if (msi !== null) {
      if (!h.dip.msiConfigured) configureMsi(device, msi, h.dip.allocated);
      h.dip.msiConfigured = true;
      writeMsiMask(device, msi, h.inum, false);
      setMsiEnable(device, msi, true);
      return;
    }
    const table = msix as MsixLayout;
    programMsixVector(device, table, h);
    setMsixEnable(device, table, true);
  } catch (error) {
    try {
      device.irq.detach(index, h.inum);
    } catch { /* the device went away meanwhile */ }
    throw error;
  }
}

/** An enabled MSI-X handle's table entry: its message (a dup's: its original's), then unmasked. */
function programMsixVector(device: PciDevice, table: MsixLayout, h: IntrHandle): void {
  if (h.isDup) dupVector(h.main as IntrHandle, h.inum);
  else programMsixMessage(device, table, h.inum);
  writeMsixMask(device, table, h.inum, false);
}

/** DDI_INTROP_DISABLE. `lastOne`: no other vector of the device stays enabled. */
export function disableVector(h: IntrHandle, lastOne: boolean): void {
  const device = h.dip.device;
  if (h.type === DDI_INTR_TYPE_FIXED) {
    device.irq.detach(VFIO_PCI_INTX_IRQ_INDEX, 0);
  } else if (h.type === DDI_INTR_TYPE_MSI) {
    const msi = requireMsi(device);
    writeMsiMask(device, msi, h.inum, true);
    device.irq.detach(VFIO_PCI_MSI_IRQ_INDEX, h.inum);
    if (lastOne) {
      setMsiEnable(device, msi, false);
      h.dip.msiConfigured = false;
    }
  } else {
    const msix = requireMsix(device);
    writeMsixMask(device, msix, h.inum, true);
    device.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, h.inum);
    if (lastOne) setMsixEnable(device, msix, false);
  }
  h.line.clearPending();
}

/** DDI_INTROP_BLOCKENABLE (MSI without per-vector masking): one configure, every vector routed. */
export function blockEnable(handles: readonly IntrHandle[]): void {
  const first = handles[0] as IntrHandle;
  const device = first.dip.device;
  const msi = requireMsi(device);
  const attached: IntrHandle[] = [];
  try {
    for (const h of handles) {
      prepareLine(h);
      device.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, h.inum, h.line);
      attached.push(h);
    }
  } catch (err) {
    for (const h of attached) device.irq.detach(VFIO_PCI_MSI_IRQ_INDEX, h.inum);
    throw err;
  }
  configureMsi(device, msi, first.dip.allocated);
  setMsiEnable(device, msi, true);
  first.dip.msiConfigured = true;
}

/** DDI_INTROP_BLOCKDISABLE: MSI Enable off, every vector unrouted. */
export function blockDisable(handles: readonly IntrHandle[]): void {
  const first = handles[0] as IntrHandle;
  const device = first.dip.device;
  setMsiEnable(device, requireMsi(device), false);
  for (const h of handles) {
    device.irq.detach(VFIO_PCI_MSI_IRQ_INDEX, h.inum);
    h.line.clearPending();
  }
  first.dip.msiConfigured = false;
}

/** DDI_INTROP_DUPVEC (pci_msix_dup): entry dup_inum gets the original entry's address and data. */
export function dupVector(org: IntrHandle, dupInum: number): void {
  const device = org.dip.device;
  const msix = requireMsix(device);
  const bar = device.bar(msix.tableBar);
  // An original not enabled yet has no message in its entry: give it its own first.
  if (org.state !== DDI_IHDL_STATE_ENABLE) programMsixMessage(device, msix, org.inum);
  const from = msixEntry(msix, org.inum);
  const address = (BigInt(bar.read32(from + PCI_MSIX_ENTRY_UPPER_ADDR)) << 32n)
    | BigInt(bar.read32(from + PCI_MSIX_ENTRY_LOWER_ADDR));
  writeMsixMessage(device, msix, dupInum, address, bar.read32(from + PCI_MSIX_ENTRY_DATA));
}

/** Freeing a dup: its entry goes back to masked and blank (pci_msi_unconfigure). */
export function undupVector(dup: IntrHandle): void {
  const device = dup.dip.device;
  const msix = requireMsix(device);
  writeMsixMask(device, msix, dup.inum, true);
  writeMsixMessage(device, msix, dup.inum, 0n, 0);
}

/**
 * After a reset of the function: the capability programming of every enabled handle written again —
 * MSI: MME, address, data, the enabled vectors unmasked, Enable; MSI-X: each enabled entry's message
 * (a dup's: its original's), unmasked, Enable. ddi_intr_alloc(9F) NOTES: a reset "could cause a device
 * driver to lose any MSI and MSI-X interrupt usage settings that have been applied". The routing is the
 * backend's and survives a reset (the host kernel restores its own MSI state, pci_restore_msi_state);
 * FIXED needs nothing (the kernel restores Command, INTx Disable included). Throws when the device is
 * gone; the caller then has nothing to restore.
 */
export function restoreAfterReset(dip: DevInfo): void {
  const enabled = [...dip.byInum, ...dip.dups.values()].filter((h): h is IntrHandle => h !== null && h.state === DDI_IHDL_STATE_ENABLE);
  if (enabled.length === 0) return;
  const device = dip.device;
  if (dip.currentType === DDI_INTR_TYPE_MSI && dip.msiConfigured) {
    const msi = requireMsi(device);
    configureMsi(device, msi, dip.allocated);
    for (const h of enabled) writeMsiMask(device, msi, h.inum, false);
    setMsiEnable(device, msi, true);
  } else if (dip.currentType === DDI_INTR_TYPE_MSIX) {
    const msix = requireMsix(device);
    for (const h of enabled) programMsixVector(device, msix, h);
    setMsixEnable(device, msix, true);
  }
}
