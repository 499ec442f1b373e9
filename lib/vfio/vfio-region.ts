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

  constructor(addon: NativeAddon, deviceFd: number, info: RegionInfo, gate: DeviceGate, trap: RegionTrap | null = null) {
    this.#addon = addon;
    this.#fd = deviceFd;
    this.index = info.index;
    this.size = info.size;
    this.#offset = info.offset;
    this.#gate = gate;
    this.#trap = trap;
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
    checkAccess(`BAR${this.index}`, offset, width, this.size);
  }

  read8(offset: number): number {
    this.#check(offset, 1);
    if (this.view !== null) return this.view.u8[offset] as number;
    if (this.#trap?.covers(offset, 1) === true) return this.#trap.read(offset, 1);
    const a = this.#area(offset, 1);
    if (a !== null) return a.view.u8[offset - a.start] as number;
    return this.#addon.regionRead(this.#fd, this.#offset, this.size, offset, 1) as number;
  }

  read16(offset: number): number {
    this.#check(offset, 2);
    if (this.view !== null) return this.view.u16[offset >>> 1] as number;
    if (this.#trap?.covers(offset, 2) === true) return this.#trap.read(offset, 2);
    const a = this.#area(offset, 2);
    if (a !== null) return a.view.u16[(offset - a.start) >>> 1] as number;
    return this.#addon.regionRead(this.#fd, this.#offset, this.size, offset, 2) as number;
  }

  read32(offset: number): number {
    this.#check(offset, 4);
    if (this.view !== null) return this.view.u32[offset >>> 2] as number;
    if (this.#trap?.covers(offset, 4) === true) return this.#trap.read(offset, 4);
    const a = this.#area(offset, 4);
    if (a !== null) return a.view.u32[(offset - a.start) >>> 2] as number;
    return this.#addon.regionRead(this.#fd, this.#offset, this.size, offset, 4) as number;
  }

  read64(offset: number): bigint {
    this.#check(offset, 8);
    if (this.view !== null) return this.view.u64[offset >>> 3] as bigint;
    if (this.#trap?.covers(offset, 8) === true) return this.#trap.read64(offset);
    const a = this.#area(offset, 8);
    if (a !== null) return a.view.u64[(offset - a.start) >>> 3] as bigint;
    return this.#addon.regionRead(this.#fd, this.#offset, this.size, offset, 8) as bigint;
  }

  /** Values: the shared rule of lib/pci/register-value.ts (signed or unsigned, RangeError otherwise). */
  #value(width: 1 | 2 | 4, value: number): number {
    return registerValue(`BAR${this.index} write${width * 8}`, width, value);
  }

  write8(offset: number, input: number): void {
    this.#check(offset, 1);
    const value = this.#value(1, input);
    if (this.view !== null) { this.view.u8[offset] = value; return; }
    if (this.#trap?.covers(offset, 1) === true) { this.#trap.write(offset, 1, value); return; }
    const a = this.#area(offset, 1);
    if (a !== null) a.view.u8[offset - a.start] = value;
    else this.#addon.regionWrite(this.#fd, this.#offset, this.size, offset, 1, value);
  }

  write16(offset: number, input: number): void {
    this.#check(offset, 2);
    const value = this.#value(2, input);
    if (this.view !== null) { this.view.u16[offset >>> 1] = value; return; }
    if (this.#trap?.covers(offset, 2) === true) { this.#trap.write(offset, 2, value); return; }
    const a = this.#area(offset, 2);
    if (a !== null) a.view.u16[(offset - a.start) >>> 1] = value;
    else this.#addon.regionWrite(this.#fd, this.#offset, this.size, offset, 2, value);
  }

  write32(offset: number, input: number): void {
    this.#check(offset, 4);
    const value = this.#value(4, input);
    if (this.view !== null) { this.view.u32[offset >>> 2] = value; return; }
    if (this.#trap?.covers(offset, 4) === true) { this.#trap.write(offset, 4, value); return; }
    const a = this.#area(offset, 4);
    if (a !== null) a.view.u32[(offset - a.start) >>> 2] = value;
    else this.#addon.regionWrite(this.#fd, this.#offset, this.size, offset, 4, value);
  }

  write64(offset: number, input: bigint): void {
    this.#check(offset, 8);
    const value = registerValue64(`BAR${this.index} write64`, input);
    if (this.view !== null) { this.view.u64[offset >>> 3] = value; return; }
    if (this.#trap?.covers(offset, 8) === true) { this.#trap.write64(offset, value); return; }
    const a = this.#area(offset, 8);
    if (a !== null) a.view.u64[(offset - a.start) >>> 3] = value;
    else this.#addon.regionWrite(this.#fd, this.#offset, this.size, offset, 8, value);
  }

  /** Unmaps every area (device close). The views become zero-length; the gate stops further use. */
  unmap(): void {
    for (const a of this.#areas.splice(0)) {
      try {
        this.#addon.munmapRegion(a.buffer);
      } catch {
        /* already unmapped */
      }
    }
  }
}
