/**
 * The sysfs `resource` file: one line per resource, "start end flags" in hex — BARs 0–5, the
 * expansion ROM (line 6), then bridge windows (drivers/pci/pci-sysfs.c resource_show). Flags are the
 * kernel's IORESOURCE_* bits (include/linux/ioport.h).
 */

/** include/linux/ioport.h */
export const IORESOURCE_IO = 0x00000100;
export const IORESOURCE_MEM = 0x00000200;
export const IORESOURCE_PREFETCH = 0x00002000;
export const IORESOURCE_MEM_64 = 0x00100000;

/** Lines 0–5 are the BARs, line 6 the ROM (PCI_ROM_RESOURCE). */
const PCI_ROM_RESOURCE = 6;

export interface PciResource {
  /** 0–5: BAR index; 6: expansion ROM. */
  readonly index: number;
  readonly kind: 'mem' | 'io' | 'rom';
  readonly start: bigint;
  readonly size: bigint;
  readonly is64: boolean;
  readonly prefetchable: boolean;
}

/** The implemented BARs and ROM (size > 0), in index order. Malformed lines are skipped. */
export function parseResources(text: string): PciResource[] {
  const out: PciResource[] = [];
  const lines = text.split('\n').slice(0, PCI_ROM_RESOURCE + 1);
  lines.forEach((line, index) => {
    const m = /^\s*0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s*$/i.exec(line);
    if (m === null) return;
    const start = BigInt(`0x${m[1] ?? '0'}`);
    const end = BigInt(`0x${m[2] ?? '0'}`);
    const flags = Number(BigInt(`0x${m[3] ?? '0'}`) & 0xffffffffn);
    if (end === 0n && start === 0n) return;
    if (end < start) return;
    const kind = index === PCI_ROM_RESOURCE ? 'rom' : (flags & IORESOURCE_IO) !== 0 ? 'io' : 'mem';
    out.push({
      index, kind, start, size: end - start + 1n,
      is64: (flags & IORESOURCE_MEM_64) !== 0,
      prefetchable: (flags & IORESOURCE_PREFETCH) !== 0,
    });
  });
  return out;
}

/** "1 MiB", "4 KiB", "256 B". */
export function formatSize(size: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let v = size;
  let u = 0;
  while (v >= 1024n && v % 1024n === 0n && u < units.length - 1) { v /= 1024n; u += 1; }
  return `${v} ${units[u] ?? 'B'}`;
}
