/**
 * A PCI function's "reg" property as illumos builds it (the IEEE 1275 PCI binding, pci(5); x86
 * pci_boot.c add_reg_props): entry 0 is the function's configuration space (size 0 in the property),
 * then one entry per implemented BAR in BAR order — a 64-bit BAR is one entry, an unimplemented BAR
 * none. So on QEMU's NVMe (BAR0 64-bit memory, BAR2 absent … ) rnumber 1 is BAR0; on the edu BAR0.
 * The expansion ROM is not listed (it is not a PciRegion here).
 */
import type { PciRegion } from '../../pci/device.ts';
import type { DevInfo } from '../dev-info.ts';

export type RegEntry =
  | { readonly kind: 'config' }
  | { readonly kind: 'bar'; readonly bar: number; readonly region: PciRegion };

const cache = new WeakMap<DevInfo, readonly RegEntry[]>();

/** The reg entries of the device (computed once per dev_info; [] once the device is closed). */
export function regEntries(dip: DevInfo): readonly RegEntry[] {
  const known = cache.get(dip);
  if (known !== undefined) return known;
  if (dip.device.closed) return [];
  const entries: RegEntry[] = [{ kind: 'config' }];
  for (let bar = 0; bar < 6; bar++) {
    try {
      entries.push({ kind: 'bar', bar, region: dip.device.bar(bar) });
    } catch {
      /* not implemented (or the upper half of a 64-bit BAR): no reg entry */
    }
  }
  cache.set(dip, entries);
  return entries;
}

/** The size the "reg" property gives rnumber (0 for config space, as the binding has it). */
export function regSize(entry: RegEntry): number {
  return entry.kind === 'config' ? 0 : Number(entry.region.size);
}
