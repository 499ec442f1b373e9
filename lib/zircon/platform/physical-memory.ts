/**
 * The platform's physical address space: device windows (each attached device's ECAM config window
 * and its BARs) over a sparse RAM page store that is everywhere else (DESIGN.md lib/zircon). Accesses
 * are naturally aligned and at most 8 bytes, so none crosses a page or a window edge (windows are
 * page-sized multiples at page-aligned addresses).
 */
import type { ConfigSpace, PciDevice, PciRegion } from '../../pci/device.ts';

export const PHYS_PAGE_SIZE = 4096;
const PAGE_SHIFT = 12n;
const PAGE_MASK = 0xfffn;

/** Something mapped at a physical range, with a region's accessors; offsets are bytes from `start`. */
export interface PhysicalWindow extends Omit<PciRegion, 'index' | 'size' | 'view'> {
  readonly start: bigint;
  readonly size: bigint;
  readonly device: PciDevice;
  /** 'config' for an ECAM window, 'bar' for BAR `barIndex`. */
  readonly kind: 'config' | 'bar';
  readonly barIndex: number;
}

/** A 4 KiB ECAM window over config space; bytes past the device's config size read all-ones. */
export class ConfigWindow implements PhysicalWindow {
  readonly kind = 'config';
  readonly barIndex = -1;
  readonly size = 4096n;
  readonly #config: ConfigSpace;
  constructor(readonly start: bigint, readonly device: PciDevice) {
    this.#config = device.config;
  }
  #inside(offset: number, width: number): boolean {
    return offset + width <= this.#config.size;
  }
  read8(o: number): number { return this.#inside(o, 1) ? this.#config.read8(o) : 0xff; }
  read16(o: number): number { return this.#inside(o, 2) ? this.#config.read16(o) : 0xffff; }
  read32(o: number): number { return this.#inside(o, 4) ? this.#config.read32(o) >>> 0 : 0xffffffff; }
  read64(o: number): bigint {
    return BigInt(this.read32(o)) | (BigInt(this.read32(o + 4)) << 32n);
  }
  write8(o: number, v: number): void { if (this.#inside(o, 1)) this.#config.write8(o, v); }
  write16(o: number, v: number): void { if (this.#inside(o, 2)) this.#config.write16(o, v); }
  write32(o: number, v: number): void { if (this.#inside(o, 4)) this.#config.write32(o, v); }
  write64(o: number, v: bigint): void {
    this.write32(o, Number(v & 0xffffffffn));
    this.write32(o + 4, Number((v >> 32n) & 0xffffffffn));
  }
}

/** A BAR, padded to whole pages; the padding reads all-ones and drops writes (nothing decodes it). */
export class BarWindow implements PhysicalWindow {
  readonly kind = 'bar';
  readonly size: bigint;
  readonly #region: PciRegion;
  readonly #limit: number;
  constructor(readonly start: bigint, readonly device: PciDevice, readonly barIndex: number, region: PciRegion) {
    this.#region = region;
    this.#limit = Number(region.size);
    const pages = (region.size + 4095n) / 4096n;
    this.size = (pages === 0n ? 1n : pages) * 4096n;
  }
  #inside(offset: number, width: number): boolean {
    return offset + width <= this.#limit;
  }
  read8(o: number): number { return this.#inside(o, 1) ? this.#region.read8(o) : 0xff; }
  read16(o: number): number { return this.#inside(o, 2) ? this.#region.read16(o) : 0xffff; }
  read32(o: number): number { return this.#inside(o, 4) ? this.#region.read32(o) >>> 0 : 0xffffffff; }
  read64(o: number): bigint { return this.#inside(o, 8) ? this.#region.read64(o) : 0xffffffffffffffffn; }
  write8(o: number, v: number): void { if (this.#inside(o, 1)) this.#region.write8(o, v); }
  write16(o: number, v: number): void { if (this.#inside(o, 2)) this.#region.write16(o, v); }
  write32(o: number, v: number): void { if (this.#inside(o, 4)) this.#region.write32(o, v); }
  write64(o: number, v: bigint): void { if (this.#inside(o, 8)) this.#region.write64(o, v); }
}

const windows: PhysicalWindow[] = [];
const ram = new Map<number, DataView>();
/**
 * Ranges that decode as config space or a device that is gone, with nothing answering: the ECAM range
 * of a bus holding attached devices (absent functions — a bus scan must find only real ones) and the
 * windows of a closed device. Reads return all-ones at every width, writes are dropped: what a PCI host
 * bridge answers for a master abort (PCI 3.0 §6.1: reads of a non-existent function return all 1s).
 */
const absent: { start: bigint; end: bigint }[] = [];

export function addAbsentRange(start: bigint, size: bigint): void {
  for (const r of absent) if (r.start === start && r.end === start + size) return;
  absent.push({ start, end: start + size });
}

function isAbsent(addr: bigint): boolean {
  for (const r of absent) if (addr >= r.start && addr < r.end) return true;
  return false;
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

export function addWindow(window: PhysicalWindow): void {
  windows.push(window);
}

/** A device closed: its windows go, and their ranges read all-ones from now on (not stale RAM). */
export function removeWindowsOf(device: PciDevice): void {
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i] as PhysicalWindow;
    if (w.device !== device) continue;
    windows.splice(i, 1);
    addAbsentRange(w.start, w.size);
  }
}

/** The window containing `addr`, or null (RAM). */
export function findWindow(addr: bigint): PhysicalWindow | null {
  for (const w of windows) if (addr >= w.start && addr < w.start + w.size) return w;
  return null;
}

/** Whether [start, start+size) overlaps any window. */
export function overlapsWindow(start: bigint, size: bigint): boolean {
  for (const w of windows) if (start < w.start + w.size && w.start < start + size) return true;
  return false;
}

function page(addr: bigint, create: boolean): DataView | null {
  const index = Number(addr >> PAGE_SHIFT);
  let view = ram.get(index) ?? null;
  if (view === null && create) {
    view = new DataView(new ArrayBuffer(PHYS_PAGE_SIZE));
    ram.set(index, view);
  }
  return view;
}

/** Physical reads and writes of 1, 2, 4 or 8 bytes (little-endian), routed to a window or RAM. */
export function physRead(addr: bigint, width: 1 | 2 | 4): number {
  const w = findWindow(addr);
  if (w !== null) {
    const o = Number(addr - w.start);
    return width === 1 ? w.read8(o) : width === 2 ? w.read16(o) : w.read32(o);
  }
  if (isAbsent(addr)) return ALL_ONES[width];
  const p = page(addr, false);
  if (p === null) return 0;
  const o = Number(addr & PAGE_MASK);
  return width === 1 ? p.getUint8(o) : width === 2 ? p.getUint16(o, true) : p.getUint32(o, true);
}

export function physRead64(addr: bigint): bigint {
  const w = findWindow(addr);
  if (w !== null) return w.read64(Number(addr - w.start));
  if (isAbsent(addr)) return 0xffff_ffff_ffff_ffffn;
  const p = page(addr, false);
  return p === null ? 0n : p.getBigUint64(Number(addr & PAGE_MASK), true);
}

export function physWrite(addr: bigint, width: 1 | 2 | 4, value: number): void {
  const w = findWindow(addr);
  if (w !== null) {
    const o = Number(addr - w.start);
    if (width === 1) w.write8(o, value);
    else if (width === 2) w.write16(o, value);
    else w.write32(o, value);
    return;
  }
  if (isAbsent(addr)) return;
  const p = page(addr, true) as DataView;
  const o = Number(addr & PAGE_MASK);
  if (width === 1) p.setUint8(o, value);
  else if (width === 2) p.setUint16(o, value, true);
  else p.setUint32(o, value >>> 0, true);
}

export function physWrite64(addr: bigint, value: bigint): void {
  const w = findWindow(addr);
  if (w !== null) {
    w.write64(Number(addr - w.start), value);
    return;
  }
  if (isAbsent(addr)) return;
  (page(addr, true) as DataView).setBigUint64(Number(addr & PAGE_MASK), BigInt.asUintN(64, value), true);
}

/** Drops RAM pages in [start, start+size) (a physical VMO over RAM going away keeps them: RAM persists). */
export function ramPageCount(): number {
  return ram.size;
}

/**
 * One 32-bit register at a fixed physical address, resolved once (window + offset, or a RAM page) so
 * that the interrupt path's mask/unmask does no lookup and creates no bigint per access.
 */
export class PhysicalRegister32 {
  readonly #window: PhysicalWindow | null;
  readonly #page: DataView | null;
  readonly #offset: number;

  constructor(addr: bigint) {
    this.#window = findWindow(addr);
    if (this.#window !== null) {
      this.#page = null;
      this.#offset = Number(addr - this.#window.start);
    } else if (isAbsent(addr)) {
      this.#page = null; // reads all-ones, drops writes
      this.#offset = 0;
    } else {
      this.#page = page(addr, true);
      this.#offset = Number(addr & PAGE_MASK);
    }
  }

  read(): number {
    if (this.#window !== null) return this.#window.read32(this.#offset) >>> 0;
    return this.#page === null ? 0xffffffff : this.#page.getUint32(this.#offset, true);
  }

  write(value: number): void {
    if (this.#window !== null) this.#window.write32(this.#offset, value >>> 0);
    else this.#page?.setUint32(this.#offset, value >>> 0, true);
  }
}
