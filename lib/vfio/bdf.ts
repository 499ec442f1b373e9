/**
 * PCI addresses ("BDF": domain:bus:device.function) as sysfs names them, e.g. "0000:00:01.0".
 * Every path this project builds under /sys starts from a BDF, so the parser is strict and runs before
 * any filesystem access: only hex digits, ':' and '.' in the fixed shape can pass — never '/', '..', NUL
 * or whitespace. Ranges: device 0–31 (5 bits), function 0–7 (3 bits), bus 0–255, domain 0–0xffff
 * (PCI 3.0 §3.2.2.3.1 configuration address; Linux prints the domain as 4 hex digits).
 */
import { DdkError } from '../errors.ts';

export interface PciAddress {
  readonly domain: number;
  readonly bus: number;
  readonly device: number;
  readonly function: number;
}

/** Upper bounds of each field (inclusive). */
const PCI_DOMAIN_MAX = 0xffff;
const PCI_DEVICE_MAX = 0x1f;
const PCI_FUNCTION_MAX = 0x7;

/** "dddd:bb:dd.f" or "bb:dd.f"; the domain may be omitted (then 0000). Case-insensitive hex. */
const BDF_PATTERN = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

/** Longest accepted input; anything longer is rejected before the pattern runs. */
const BDF_MAX_LENGTH = 12;

const EXPECTED = 'expected a PCI address like 0000:00:01.0 (domain:bus:device.function) or 00:01.0';

function describe(input: unknown): string {
  if (typeof input !== 'string') return typeof input;
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
  return JSON.stringify(shown);
}

/**
 * Parses a BDF. Throws DdkError 'ERR_BAD_BDF' (message shows the expected form) for anything that is
 * not exactly "dddd:bb:dd.f" / "bb:dd.f" with device ≤ 0x1f and function ≤ 7.
 */
export function parseBdf(s: string): PciAddress {
  if (typeof s !== 'string' || s.length === 0 || s.length > BDF_MAX_LENGTH) {
    throw new DdkError('ERR_BAD_BDF', `bad PCI address ${describe(s)}: ${EXPECTED}`);
  }
  const m = BDF_PATTERN.exec(s);
  if (m === null) throw new DdkError('ERR_BAD_BDF', `bad PCI address ${describe(s)}: ${EXPECTED}`);
  const domain = m[1] === undefined ? 0 : parseInt(m[1], 16);
  const bus = parseInt(m[2] ?? '', 16);
  const device = parseInt(m[3] ?? '', 16);
  const fn = parseInt(m[4] ?? '', 16);
  if (device > PCI_DEVICE_MAX) {
    throw new DdkError('ERR_BAD_BDF', `bad PCI address ${describe(s)}: device ${m[3]} is above 1f; ${EXPECTED}`);
  }
  if (domain > PCI_DOMAIN_MAX || fn > PCI_FUNCTION_MAX) {
    throw new DdkError('ERR_BAD_BDF', `bad PCI address ${describe(s)}: ${EXPECTED}`);
  }
  return { domain, bus, device, function: fn };
}

/** The canonical sysfs form "dddd:bb:dd.f" (lower-case hex) of an address. */
export function formatBdf(a: PciAddress): string {
  const hex = (v: number, w: number): string => v.toString(16).padStart(w, '0');
  return `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.device, 2)}.${a.function.toString(16)}`;
}

/** Validates and canonicalises: "00:01.0" → "0000:00:01.0". Throws like `parseBdf`. */
export function normalizeBdf(s: string): string {
  return formatBdf(parseBdf(s));
}

/** True when `s` is a valid BDF (no throw). */
export function isBdf(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  try {
    parseBdf(s);
    return true;
  } catch {
    return false;
  }
}
