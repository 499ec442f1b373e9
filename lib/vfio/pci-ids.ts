/**
 * Vendor, device and class names for display: the system's pci.ids database when present (the file
 * lspci uses; format documented at its top: "vvvv  name", "\tdddd  name", "C cc  name", "\tss  name"),
 * else the small built-in table. Lookups never throw: an unknown ID prints as its hex value.
 */
import { readFileSync } from 'node:fs';
import { BUILTIN_CLASSES, BUILTIN_DEVICES, BUILTIN_SUBCLASSES, BUILTIN_VENDORS } from './pci-ids-builtin.ts';

/** Where distributions install pci.ids (Debian: pciutils → /usr/share/misc; Fedora: hwdata). */
export const PCI_IDS_PATHS = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'] as const;

export interface PciIdNames {
  readonly vendors: Map<number, string>;
  /** vendor << 16 | device (as an unsigned number). */
  readonly devices: Map<number, string>;
  readonly classes: Map<number, string>;
  /** base << 8 | sub. */
  readonly subclasses: Map<number, string>;
}

const key = (hi: number, lo: number, bits: number): number => hi * 2 ** bits + lo;

/** Parses pci.ids text. Unknown or malformed lines are skipped. */
export function parsePciIds(text: string): PciIdNames {
  const names: PciIdNames = { vendors: new Map(), devices: new Map(), classes: new Map(), subclasses: new Map() };
  let vendor: number | null = null;
  let baseClass: number | null = null;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([0-9a-f]{4})\s+(.+)$/.exec(line)) !== null) {
      vendor = parseInt(m[1] ?? '', 16);
      baseClass = null;
      names.vendors.set(vendor, (m[2] ?? '').trim());
    } else if ((m = /^C ([0-9a-f]{2})\s+(.+)$/.exec(line)) !== null) {
      baseClass = parseInt(m[1] ?? '', 16);
      vendor = null;
      names.classes.set(baseClass, (m[2] ?? '').trim());
    } else if ((m = /^\t([0-9a-f]{4})\s+(.+)$/.exec(line)) !== null && vendor !== null) {
      names.devices.set(key(vendor, parseInt(m[1] ?? '', 16), 16), (m[2] ?? '').trim());
    } else if ((m = /^\t([0-9a-f]{2})\s+(.+)$/.exec(line)) !== null && baseClass !== null) {
      names.subclasses.set(key(baseClass, parseInt(m[1] ?? '', 16), 8), (m[2] ?? '').trim());
    } else if (/^[0-9A-Z]/.test(line)) {
      // Another top-level section (e.g. "X" list terminators): stop attributing lines.
      vendor = null;
      baseClass = null;
    }
  }
  return names;
}

/** Name lookups over pci.ids (when found) falling back to the built-in table. */
export class PciIds {
  readonly source: string;
  readonly #db: PciIdNames | null;

  /** `paths`: candidates tried in order (default: the distribution locations); [] = built-in only. */
  constructor(paths: readonly string[] = PCI_IDS_PATHS) {
    let db: PciIdNames | null = null;
    let source = 'built-in table';
    for (const p of paths) {
      try {
        db = parsePciIds(readFileSync(p, 'utf8'));
        source = p;
        break;
      } catch { /* absent or unreadable: try the next */ }
    }
    this.#db = db;
    this.source = source;
  }

  vendorName(vendorId: number): string | null {
    return this.#db?.vendors.get(vendorId) ?? BUILTIN_VENDORS.get(vendorId) ?? null;
  }

  deviceName(vendorId: number, deviceId: number): string | null {
    const k = key(vendorId, deviceId, 16);
    return this.#db?.devices.get(k) ?? BUILTIN_DEVICES.get(k) ?? null;
  }

  /** Subclass name when known, else the base class name, else null. `classCode` is the 24-bit code. */
  className(classCode: number): string | null {
    const base = (classCode >>> 16) & 0xff;
    const sub = (classCode >>> 8) & 0xff;
    const k = key(base, sub, 8);
    return this.#db?.subclasses.get(k) ?? BUILTIN_SUBCLASSES.get(k)
      ?? this.#db?.classes.get(base) ?? BUILTIN_CLASSES.get(base) ?? null;
  }

  /** "Red Hat, Inc. QEMU edu device" style description, with hex IDs for unknown parts. */
  describe(vendorId: number, deviceId: number): string {
    const hex = (v: number): string => v.toString(16).padStart(4, '0');
    const vendor = this.vendorName(vendorId) ?? `vendor ${hex(vendorId)}`;
    const device = this.deviceName(vendorId, deviceId) ?? `device ${hex(deviceId)}`;
    return `${vendor} ${device}`;
  }
}
