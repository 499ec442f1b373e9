/**
 * Where emulated devices sit, assigned once at creation the way firmware (SeaBIOS, qboot) assigns them:
 *
 * * BDF: domain 0000, buses 0x80…0xff, devices 0…31, function 0 — bus 0x80 device 0 first, then
 *   0x80:01.0 … 0x80:1f.0, 0x81:00.0 …. Numbers are reused after a device closes. Buses from 0x80 keep
 *   clear of the low buses real hosts (and the project's QEMU guests) use.
 * * BARs: a synthetic 32-bit MMIO window [0xC000_0000, 0xFE00_0000) below the x86 I/O APIC / LAPIC
 *   area, each BAR naturally aligned to its size (PCI 3.0 §6.2.5.1), first fit. Released on close.
 *
 * Process-wide: every emulated device of the process shares these allocators, so addresses never collide
 * (the Zircon platform maps them into one physical address space).
 */
import { DdkError } from '../errors.ts';

export const EMU_MMIO_WINDOW_BASE = 0xc000_0000;
export const EMU_MMIO_WINDOW_END = 0xfe00_0000;
export const EMU_FIRST_BUS = 0x80;
const SLOTS_PER_BUS = 32;
const MAX_SLOTS = (0x100 - EMU_FIRST_BUS) * SLOTS_PER_BUS;

/** Allocated ranges, sorted by base. */
const ranges: { base: number; size: number }[] = [];
const usedSlots = new Set<number>();

/** Reserves a naturally aligned range of `size` (a power of two ≥ 16) in the window. */
export function allocateMmio(size: number): number {
  if (!Number.isInteger(size) || size < 16 || (size & (size - 1)) !== 0) throw new RangeError(`BAR size must be a power of two ≥ 16, got ${String(size)}`);
  let candidate = EMU_MMIO_WINDOW_BASE;
  for (const range of ranges) {
    if (candidate + size <= range.base) break;
    candidate = Math.max(candidate, Math.ceil((range.base + range.size) / size) * size);
  }
  if (candidate + size > EMU_MMIO_WINDOW_END) {
    throw new DdkError('ENOSPC', `the emulated MMIO window is full (no ${size}-byte hole): close emulated devices you no longer use`);
  }
  const entry = { base: candidate, size };
  const at = ranges.findIndex((r) => r.base > candidate);
  if (at < 0) ranges.push(entry);
  else ranges.splice(at, 0, entry);
  return candidate;
}

export function releaseMmio(base: number): void {
  const at = ranges.findIndex((r) => r.base === base);
  if (at >= 0) ranges.splice(at, 1);
}

/** Reserves the lowest free slot and returns its BDF string and numbers. */
export function allocateBdf(): { bdf: string; slot: number; bus: number; device: number } {
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    if (usedSlots.has(slot)) continue;
    usedSlots.add(slot);
    const bus = EMU_FIRST_BUS + Math.floor(slot / SLOTS_PER_BUS);
    const device = slot % SLOTS_PER_BUS;
    const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
    return { bdf: `0000:${hex2(bus)}:${hex2(device)}.0`, slot, bus, device };
  }
  throw new DdkError('ENOSPC', `all ${MAX_SLOTS} emulated PCI slots are in use: close emulated devices you no longer use`);
}

export function releaseBdf(slot: number): void {
  usedSlots.delete(slot);
}
