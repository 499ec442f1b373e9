/**
 * `zx_mapping_t`: what `zx_vmar_map` returns in place of an address. Accesses are bounds- and
 * alignment-checked (RangeError), little-endian, and reach the VMO's memory: host memory for paged
 * VMOs; for physical VMOs whatever sits at that physical address (RAM, a config window, a BAR).
 * A write through a mapping without ZX_VM_PERM_WRITE (or a read without PERM_READ, or any access
 * after unmap) throws DdkError 'EFAULT' — where C would take a page fault.
 */
import { checkAccess, DdkError } from '../../errors.ts';
import { physRead, physRead64, physWrite, physWrite64 } from '../platform/physical-memory.ts';
import type { VmoObject } from './vmo.ts';

let nextAddress = 0x2000_0000_0000n;

export class Mapping {
  /** The (synthetic) virtual address of the first byte, as zx_vmar_map's mapped_addr. */
  readonly address: bigint;
  readonly size: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly #vmo: VmoObject;
  readonly #view: DataView | null;
  readonly #paddr: bigint;
  #mapped = true;

  constructor(vmo: VmoObject, vmoOffset: bigint, size: number, readable: boolean, writable: boolean) {
    this.#vmo = vmo;
    this.size = size;
    this.readable = readable;
    this.writable = writable;
    this.address = nextAddress;
    nextAddress += BigInt(size) + 0x1000n; // a guard page between mappings
    const memory = vmo.memory;
    this.#view = vmo.kind === 'physical' || memory === null ? null
      : new DataView(memory.bytes.buffer, memory.bytes.byteOffset + Number(vmoOffset), size);
    this.#paddr = vmo.paddr + vmoOffset;
    vmo.mappings++;
  }

  get mapped(): boolean {
    return this.#mapped;
  }

  /** @internal zx_vmar_unmap */
  unmap(): void {
    if (!this.#mapped) return;
    this.#mapped = false;
    this.#vmo.mappings--;
    this.#vmo.maybeFree();
  }

  #check(what: string, offset: number, width: number, write: boolean): void {
    checkAccess(`zx_mapping_t.${what}`, offset, width, this.size);
    if (!this.#mapped) throw new DdkError('EFAULT', `zx_mapping_t.${what}: the mapping was unmapped (zx_vmar_unmap); map the VMO again`);
    if (write ? !this.writable : !this.readable) {
      throw new DdkError('EFAULT', `zx_mapping_t.${what}: the mapping lacks ZX_VM_PERM_${write ? 'WRITE' : 'READ'}; map with that permission`);
    }
  }

  read8(offset: number): number {
    this.#check('read8', offset, 1, false);
    return this.#view !== null ? this.#view.getUint8(offset) : physRead(this.#paddr + BigInt(offset), 1);
  }
  read16(offset: number): number {
    this.#check('read16', offset, 2, false);
    return this.#view !== null ? this.#view.getUint16(offset, true) : physRead(this.#paddr + BigInt(offset), 2);
  }
  read32(offset: number): number {
    this.#check('read32', offset, 4, false);
    return this.#view !== null ? this.#view.getUint32(offset, true) : physRead(this.#paddr + BigInt(offset), 4) >>> 0;
  }
  read64(offset: number): bigint {
    this.#check('read64', offset, 8, false);
    return this.#view !== null ? this.#view.getBigUint64(offset, true) : physRead64(this.#paddr + BigInt(offset));
  }
  write8(offset: number, value: number): void {
    this.#check('write8', offset, 1, true);
    if (this.#view !== null) this.#view.setUint8(offset, value);
    else physWrite(this.#paddr + BigInt(offset), 1, value & 0xff);
  }
  write16(offset: number, value: number): void {
    this.#check('write16', offset, 2, true);
    if (this.#view !== null) this.#view.setUint16(offset, value, true);
    else physWrite(this.#paddr + BigInt(offset), 2, value & 0xffff);
  }
  write32(offset: number, value: number): void {
    this.#check('write32', offset, 4, true);
    if (this.#view !== null) this.#view.setUint32(offset, value >>> 0, true);
    else physWrite(this.#paddr + BigInt(offset), 4, value >>> 0);
  }
  write64(offset: number, value: bigint): void {
    this.#check('write64', offset, 8, true);
    if (typeof value !== 'bigint') throw new TypeError('zx_mapping_t.write64: value must be a bigint');
    if (this.#view !== null) this.#view.setBigUint64(offset, BigInt.asUintN(64, value), true);
    else physWrite64(this.#paddr + BigInt(offset), value);
  }
}

/** zx_mapping_t is this class (API.md). */
export type zx_mapping_t = Mapping;
