/**
 * The bus driver's capability lists (device_caps.cc ParseCapabilities / ParseExtendedCapabilities) and
 * the protocol's "next capability" scan (device_protocol.cc GetNextCapability): the first capability of
 * `id` after the one at `start` — by list order, not by offset, since pointers may point backwards.
 */
import type { ConfigSpace } from '../../pci/device.ts';
import { listCapabilities } from '../../pci/capabilities.ts';
import { PCI_CFG_SPACE_EXP_SIZE } from '../../pci/regs.ts';
import { PCI_EXT_CAP_ID_MASK, PCI_EXT_CAP_NEXT_MASK, PCI_EXT_CAP_NEXT_SHIFT, PCI_EXT_CAP_START } from './pci-constants.ts';

export interface CapEntry {
  readonly id: number;
  readonly base: number;
}

/** At most (4096 − 256) / 4 extended capabilities fit: a bound that also stops a looping list. */
const MAX_EXT_CAPABILITIES = (PCI_CFG_SPACE_EXP_SIZE - PCI_EXT_CAP_START) / 4;

export function standardCapabilities(config: ConfigSpace): CapEntry[] {
  return listCapabilities(config).map((c) => ({ id: c.id, base: c.offset }));
}

/**
 * PCIe extended capabilities (PCIe 4.0 §7.6.3), read from the function's own config space. A
 * conventional function (256-byte config space) has none; a header of 0 or all-ones ends the list.
 */
export function extendedCapabilities(config: ConfigSpace): CapEntry[] {
  const caps: CapEntry[] = [];
  if (config.size < PCI_CFG_SPACE_EXP_SIZE) return caps;
  const seen = new Set<number>();
  let offset = PCI_EXT_CAP_START;
  while (offset >= PCI_EXT_CAP_START && !seen.has(offset) && caps.length < MAX_EXT_CAPABILITIES) {
    const header = config.read32(offset) >>> 0;
    if (header === 0 || header === 0xffffffff) break;
    seen.add(offset);
    caps.push({ id: header & PCI_EXT_CAP_ID_MASK, base: offset });
    offset = (header >>> PCI_EXT_CAP_NEXT_SHIFT) & PCI_EXT_CAP_NEXT_MASK;
  }
  return caps;
}

/** The offset of the next `id` after the capability at `start` (start null: the first), or null. */
export function nextCapability(list: readonly CapEntry[], id: number, start: number | null): number | null {
  let foundPrev = start === null;
  for (const cap of list) {
    if (foundPrev) {
      if (cap.id === id) return cap.base;
    } else if (cap.base === start) {
      foundPrev = true;
    }
  }
  return null;
}
