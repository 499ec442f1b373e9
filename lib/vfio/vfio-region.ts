/**
 * A BAR of a VFIO device. What the kernel lets us mmap (VFIO_REGION_INFO_FLAG_MMAP, restricted to the
 * SPARSE_MMAP areas when it reports them — e.g. around an MSI-X table it will not expose) is mapped
 * once and accessed through typed arrays: one load/store of the access width, the fastest MMIO path.
 * Everything else goes through exact-width pread/pwrite on the device fd. `view` is non-null only
 * when one mapping covers the whole region and nothing of it is trapped.
 *
 * Trapped ranges (the MSI-X table and PBA, vfio-msix-shadow.ts) are served by the trap, never by the
 * mapping or the device fd: a BAR holding them has `view === null` (a typed array over the whole BAR
 * would expose the real table for writing), its other bytes still use the mapping.
 *
 * The accessors are the MMIO hot path: each starts with one small test — the device is open, the offset
 * a number that is an aligned integer inside the mapping that starts at offset 0 (below any trapped range), the value
 * fits the width — and then does the typed-array load or store, so V8 inlines it into the caller and
 * an access costs about what the bare view costs. Everything else (bad input, traps, sparse areas,
 * pread/pwrite, a closed device) takes the checked path, which throws as before. Closing the device
 * drops the fast views first (`invalidate`), so nothing reaches the mapping after close.
 */
import type { PciRegion, RegionView } from '../pci/device.ts';
import type { NativeAddon, RegionInfo } from '../native/addon-types.ts';
import { VFIO_REGION_INFO_FLAG_MMAP } from '../native/vfio-uapi.ts';
import { checkAccess } from '../errors.ts';
import { registerValue, registerValue64 } from '../pci/register-value.ts';
import type { DeviceGate } from './vfio-gate.ts';
import type { RegionTrap } from './vfio-msix-shadow.ts';

/** Areas larger than this are not mmapped (an ArrayBuffer per area; huge BARs use pread/pwrite). */
const MAX_MAPPED_AREA = 1n << 31n;

interface MappedArea {
  readonly start: number;
  readonly end: number;
  readonly buffer: ArrayBuffer;
  readonly view: RegionView;
}

function viewsOf(buffer: ArrayBuffer): RegionView {
  const n = buffer.byteLength;
  return {
    u8: new Uint8Array(buffer),
    u16: new Uint16Array(buffer, 0, n >>> 1),
    u32: new Uint32Array(buffer, 0, n >>> 2),
    u64: new BigUint64Array(buffer, 0, n >>> 3),
  };
}

export class VfioRegion implements PciRegion {
  readonly index: number;
  readonly size: bigint;
  readonly view: RegionView | null;
  readonly #addon: NativeAddon;
  readonly #fd: number;
  readonly #offset: bigint;
  readonly #gate: DeviceGate;
  readonly #areas: MappedArea[] = [];
  readonly #trap: RegionTrap | null;
  /** 'BAR0' and 'BAR0 write8' … 'BAR0 write64': names for the checked path's messages, built once. */
  readonly #what: string;
  readonly #writeWhat: readonly string[];
  // The fast path: views over [0, fastEnd) while the device is open (null once it closes), and the
  // highest offset each width may start at (-1: none).
  #u8: Uint8Array | null = null;
  #u16: Uint16Array | null = null;
  #u32: Uint32Array | null = null;
  #u64: BigUint64Array | null = null;
  readonly #last8: number;
  readonly #last16: number;
  readonly #last32: number;
  readonly #last64: number;

  constructor(addon: NativeAddon, deviceFd: number, info: RegionInfo, gate: DeviceGate, trap: RegionTrap | null = null) {
    this.#addon = addon;
    this.#fd = deviceFd;
    this.index = info.index;
    this.size = info.size;
    this.#offset = info.offset;
    this.#gate = gate;
    this.#trap = trap;
    this.#what = `BAR${info.index}`;
    this.#writeWhat = [8, 16, 32, 64].map((bits) => `BAR${info.index} write${bits}`);
    if ((info.flags & VFIO_REGION_INFO_FLAG_MMAP) !== 0) {
      const wanted = info.sparseMmap ?? [{ offset: 0n, size: info.size }];
      for (const area of wanted) {
        if (area.size === 0n || area.size > MAX_MAPPED_AREA) continue;
        try {
          const buffer = addon.mmapRegion(deviceFd, info.offset, info.size, area.offset, area.size);
          const start = Number(area.offset);
          this.#areas.push({ start, end: start + Number(area.size), buffer, view: viewsOf(buffer) });
        } catch {
          // Not mappable after all (e.g. a BAR smaller than a page): that area uses pread/pwrite.
        }
      }
    }
    const whole = this.#areas.length === 1 && this.#areas[0]?.start === 0 && BigInt(this.#areas[0].end) === info.size;
    this.view = whole && trap === null ? (this.#areas[0] as MappedArea).view : null;
    const first = this.#areas.find((a) => a.start === 0);
    const fastEnd = first === undefined ? 0 : Math.min(first.end, trap?.start ?? Infinity);
    if (first !== undefined && fastEnd > 0) {
      this.#u8 = first.view.u8;
      this.#u16 = first.view.u16;
      this.#u32 = first.view.u32;
      this.#u64 = first.view.u64;
    }
    this.#last8 = fastEnd - 1;
    this.#last16 = fastEnd >= 2 ? fastEnd - 2 : -1;
    this.#last32 = fastEnd >= 4 ? fastEnd - 4 : -1;
    this.#last64 = fastEnd >= 8 ? fastEnd - 8 : -1;
  }

  /** Whether `[offset, offset+width)` is served by a mapping (for tests and diagnostics). */
  isMapped(offset: number, width = 1): boolean {
    return this.#area(offset, width) !== null;
  }

  #area(offset: number, width: number): MappedArea | null {
    for (const a of this.#areas) if (offset >= a.start && offset + width <= a.end) return a;
    return null;
  }

  #check(offset: number, width: number): void {
    this.#gate.check();
    checkAccess(this.#what, offset, width, this.size);
  }

  read8(offset: number): number {
    const u8 = this.#u8;
    if (u8 !== null && typeof offset === 'number' && (offset >>> 0) === offset && offset <= this.#last8) return u8[offset] as number;
    return this.#read(offset, 1);
  }

  read16(offset: number): number {
    const u16 = this.#u16;
    if (u16 !== null && typeof offset === 'number' && (offset >>> 0) === offset && (offset & 1) === 0 && offset <= this.#last16) return u16[offset >>> 1] as number;
    return this.#read(offset, 2);
  }

  read32(offset: number): number {
    const u32 = this.#u32;
    if (u32 !== null && typeof offset === 'number' && (offset >>> 0) === offset && (offset & 3) === 0 && offset <= this.#last32) return u32[offset >>> 2] as number;
    return this.#read(offset, 4);
  }

  read64(offset: number): bigint {
    const u64 = this.#u64;
    if (u64 !== null && typeof offset === 'number' && (offset >>> 0) === offset && (offset & 7) === 0 && offset <= this.#last64) return u64[offset >>> 3] as bigint;
    this.#check(offset, 8);
    if (this.#trap?.covers(offset, 8) === true) return this.#trap.read64(offset);
    const a = this.#area(offset, 8);
    if (a !== null) return a.view.u64[(offset - a.start) >>> 3] as bigint;
    return this.#addon.regionRead(this.#fd, this.#offset, this.size, offset, 8) as bigint;
  }

  /** The checked path of read8/16/32. */
  #read(offset: number, width: 1 | 2 | 4): number {
    this.#check(offset, width);
    if (this.#trap?.covers(offset, width) === true) return this.#trap.read(offset, width);
    const a = this.#area(offset, width);
    if (a === null) return this.#addon.regionRead(this.#fd, this.#offset, this.size, offset, width) as number;
    const at = offset - a.start;
    return (width === 1 ? a.view.u8[at] : width === 2 ? a.view.u16[at >>> 1] : a.view.u32[at >>> 2]) as number;
  }

  // Values: the shared rule of lib/pci/register-value.ts (unsigned, or signed two's complement, of the
  // width; the typed array stores a signed value as its unsigned bits). The fast tests below accept
  // exactly what registerValue accepts; anything else goes to it and throws.

  write8(offset: number, value: number): void {
    const u8 = this.#u8;
    if (u8 !== null && typeof offset === 'number' && (offset >>> 0) === offset && offset <= this.#last8 && typeof value === 'number' && ((value & 0xff) === value || (value << 24) >> 24 === value)) {
      u8[offset] = value;
      return;
    }
    this.#write(offset, 1, value);
  }

  write16(offset: number, value: number): void {
    const u16 = this.#u16;
    if (u16 !== null && typeof offset === 'number' && (offset >>> 0) === offset && (offset & 1) === 0 && offset <= this.#last16 &&
      typeof value === 'number' && ((value & 0xffff) === value || (value << 16) >> 16 === value)) {
      u16[offset >>> 1] = value;
      return;
    }
    this.#write(offset, 2, value);
  }

  write32(offset: number, value: number): void {
    const u32 = this.#u32;
    if (u32 !== null && typeof offset === 'number' && (offset >>> 0) === offset && (offset & 3) === 0 && offset <= this.#last32 && typeof value === 'number' && ((value >>> 0) === value || (value | 0) === value)) {
      u32[offset >>> 2] = value;
      return;
    }
    this.#write(offset, 4, value);
  }

  /** The checked path of write8/16/32. */
  #write(offset: number, width: 1 | 2 | 4, input: number): void {
    this.#check(offset, width);
    const value = registerValue(this.#writeWhat[width >>> 1] as string, width, input);
    if (this.#trap?.covers(offset, width) === true) { this.#trap.write(offset, width, value); return; }
    const a = this.#area(offset, width);
    if (a === null) { this.#addon.regionWrite(this.#fd, this.#offset, this.size, offset, width, value); return; }
    const at = offset - a.start;
    if (width === 1) a.view.u8[at] = value;
    else if (width === 2) a.view.u16[at >>> 1] = value;
    else a.view.u32[at >>> 2] = value;
  }

  write64(offset: number, input: bigint): void {
    this.#check(offset, 8);
    const value = registerValue64(this.#writeWhat[3] as string, input);
    const u64 = this.#u64;
    if (u64 !== null && offset <= this.#last64) { u64[offset >>> 3] = value; return; }
    if (this.#trap?.covers(offset, 8) === true) { this.#trap.write64(offset, value); return; }
    const a = this.#area(offset, 8);
    if (a !== null) a.view.u64[(offset - a.start) >>> 3] = value;
    else this.#addon.regionWrite(this.#fd, this.#offset, this.size, offset, 8, value);
  }

  /** The device is closing: from now on every access takes the checked path (which throws ECLOSED). */
  invalidate(): void {
    this.#u8 = null;
    this.#u16 = null;
    this.#u32 = null;
    this.#u64 = null;
  }

  /** Unmaps every area (device close). The views become zero-length; the gate stops further use. */
  unmap(): void {
    this.invalidate();
    for (const a of this.#areas.splice(0)) {
      try {
        this.#addon.munmapRegion(a.buffer);
      } catch {
        /* already unmapped */
      }
    }
  }
}
