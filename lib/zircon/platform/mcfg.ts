/**
 * ACPI MCFG (PCI Firmware 3.0 §4.1.2): the ECAM base of each PCI segment / bus range. Entries start
 * at byte 44 (after the 36-byte SDT header and 8 reserved bytes), 16 bytes each: base u64 @0,
 * segment u16 @8, start bus u8 @10, end bus u8 @11.
 */
import { readFileSync } from 'node:fs';

export const MCFG_PATH = '/sys/firmware/acpi/tables/MCFG';
const FIRST_ENTRY = 44;
const ENTRY_SIZE = 16;

export interface McfgEntry {
  readonly base: bigint;
  readonly segment: number;
  readonly startBus: number;
  readonly endBus: number;
}

export function parseMcfg(table: Uint8Array): McfgEntry[] {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const declared = table.byteLength >= 8 ? view.getUint32(4, true) : 0;
  const length = Math.min(declared, table.byteLength);
  const entries: McfgEntry[] = [];
  for (let at = FIRST_ENTRY; at + ENTRY_SIZE <= length; at += ENTRY_SIZE) {
    entries.push({
      base: view.getBigUint64(at, true),
      segment: view.getUint16(at + 8, true),
      startBus: view.getUint8(at + 10),
      endBus: view.getUint8(at + 11),
    });
  }
  return entries;
}

let cached: McfgEntry[] | null | undefined;

/** The host's MCFG entries, or null when the table is not readable (not root, no ACPI). */
export function hostMcfg(): McfgEntry[] | null {
  if (cached !== undefined) return cached;
  try {
    cached = parseMcfg(readFileSync(MCFG_PATH));
  } catch {
    cached = null;
  }
  return cached;
}

/** ECAM address of a function: base + (bus << 20 | dev << 15 | fn << 12), base being bus 0's. */
export function ecamAddress(base: bigint, bus: number, dev: number, fn: number): bigint {
  return base + BigInt((bus << 20) | (dev << 15) | (fn << 12));
}
