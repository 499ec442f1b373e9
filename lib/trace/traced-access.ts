/**
 * Recording views of config space and of a BAR: every access that succeeds becomes an "X" slice on
 * the device's config or BARn track — register name, offset, width, value (the value written as the
 * device took it: unsigned, lib/pci/register-value.ts) and how long the access took. An access that
 * throws (a bad offset, a closed device) is not recorded; its error reaches the caller unchanged.
 *
 * A BAR view has no typed-array `view` (PciRegion allows null), so a driver that would use the
 * mmap'd BAR directly goes through the recorded methods. Before each BAR write the device's DMA
 * memory is compared with what the trace last saw (traced-dma.ts): a write can start a DMA, and
 * replay must give the model the bytes the device read.
 */
import type { ConfigSpace, PciRegion } from '../pci/device.ts';
import { CAT, hexString, TID } from './format.ts';
import type { RegisterNames } from './register-names.ts';
import type { TracedDma } from './traced-dma.ts';
import type { DeviceTracks } from './tracks.ts';

type Width = 1 | 2 | 4;
const RANGE = { 1: 0x100, 2: 0x1_0000, 4: 0x1_0000_0000 } as const;

function unsigned(value: number, width: Width): number {
  return value < 0 ? value + RANGE[width] : value;
}

export class TracedConfig implements ConfigSpace {
  readonly #config: ConfigSpace;
  readonly #tracks: DeviceTracks;
  readonly #names: RegisterNames;

  constructor(config: ConfigSpace, tracks: DeviceTracks, names: RegisterNames) {
    this.#config = config;
    this.#tracks = tracks;
    this.#names = names;
    tracks.name(TID.config, 'config');
  }

  get size(): number {
    return this.#config.size;
  }

  #record(op: 'read' | 'write', width: Width, offset: number, value: number, seq: number, ts: number): void {
    const reg = this.#names.config(offset, width);
    this.#tracks.slice(TID.config, `${op} ${reg}`, CAT.config, seq, ts, { op, offset, width, value: hexString(value, 2 * width), reg });
  }

  #read(width: Width, offset: number, read: (offset: number) => number): number {
    const r = this.#tracks.recorder;
    if (r.stopped) return read(offset);
    const seq = r.nextSeq();
    const ts = r.now();
    const value = read(offset);
    this.#record('read', width, offset, value, seq, ts);
    return value;
  }

  #write(width: Width, offset: number, value: number, write: (offset: number, value: number) => void): void {
    const r = this.#tracks.recorder;
    if (r.stopped) { write(offset, value); return; }
    const seq = r.nextSeq();
    const ts = r.now();
    write(offset, value);
    this.#record('write', width, offset, unsigned(value, width), seq, ts);
  }

  read8(offset: number): number { return this.#read(1, offset, (o) => this.#config.read8(o)); }
  read16(offset: number): number { return this.#read(2, offset, (o) => this.#config.read16(o)); }
  read32(offset: number): number { return this.#read(4, offset, (o) => this.#config.read32(o)); }
  write8(offset: number, value: number): void { this.#write(1, offset, value, (o, v) => this.#config.write8(o, v)); }
  write16(offset: number, value: number): void { this.#write(2, offset, value, (o, v) => this.#config.write16(o, v)); }
  write32(offset: number, value: number): void { this.#write(4, offset, value, (o, v) => this.#config.write32(o, v)); }
}

export class TracedRegion implements PciRegion {
  /** The backend's region this view records. */
  readonly region: PciRegion;
  readonly view = null;
  readonly #tracks: DeviceTracks;
  readonly #names: RegisterNames;
  readonly #dma: TracedDma;
  readonly #tid: number;

  constructor(region: PciRegion, tracks: DeviceTracks, names: RegisterNames, dma: TracedDma) {
    this.region = region;
    this.#tracks = tracks;
    this.#names = names;
    this.#dma = dma;
    this.#tid = TID.BAR0 + region.index;
    tracks.name(this.#tid, `BAR${region.index}`);
  }

  get index(): number {
    return this.region.index;
  }

  get size(): bigint {
    return this.region.size;
  }

  #record(op: 'read' | 'write', width: Width | 8, offset: number, value: string, seq: number, ts: number): void {
    const reg = this.#names.bar(this.region.index, offset, width);
    this.#tracks.slice(this.#tid, `${op} ${reg}`, CAT.bar, seq, ts, { bar: this.region.index, op, offset, width, value, reg });
  }

  #read(width: Width, offset: number, read: (offset: number) => number): number {
    const r = this.#tracks.recorder;
    if (r.stopped) return read(offset);
    const seq = r.nextSeq();
    const ts = r.now();
    const value = read(offset);
    this.#record('read', width, offset, hexString(value, 2 * width), seq, ts);
    return value;
  }

  #write(width: Width, offset: number, value: number, write: (offset: number, value: number) => void): void {
    const r = this.#tracks.recorder;
    if (r.stopped) { write(offset, value); return; }
    this.#dma.snapshot('write');
    const seq = r.nextSeq();
    const ts = r.now();
    write(offset, value);
    this.#record('write', width, offset, hexString(unsigned(value, width), 2 * width), seq, ts);
  }

  read8(offset: number): number { return this.#read(1, offset, (o) => this.region.read8(o)); }
  read16(offset: number): number { return this.#read(2, offset, (o) => this.region.read16(o)); }
  read32(offset: number): number { return this.#read(4, offset, (o) => this.region.read32(o)); }
  write8(offset: number, value: number): void { this.#write(1, offset, value, (o, v) => this.region.write8(o, v)); }
  write16(offset: number, value: number): void { this.#write(2, offset, value, (o, v) => this.region.write16(o, v)); }
  write32(offset: number, value: number): void { this.#write(4, offset, value, (o, v) => this.region.write32(o, v)); }

  read64(offset: number): bigint {
    const r = this.#tracks.recorder;
    if (r.stopped) return this.region.read64(offset);
    const seq = r.nextSeq();
    const ts = r.now();
    const value = this.region.read64(offset);
    this.#record('read', 8, offset, hexString(value, 16), seq, ts);
    return value;
  }

  write64(offset: number, value: bigint): void {
    const r = this.#tracks.recorder;
    if (r.stopped) { this.region.write64(offset, value); return; }
    this.#dma.snapshot('write');
    const seq = r.nextSeq();
    const ts = r.now();
    this.region.write64(offset, value);
    this.#record('write', 8, offset, hexString(BigInt.asUintN(64, value), 16), seq, ts);
  }
}
