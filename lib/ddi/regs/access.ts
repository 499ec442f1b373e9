/**
 * The common access functions ddi_get8/16/32/64 and ddi_put8/16/32/64 (ddi_get8(9F), ddi_put8(9F))
 * over a handle from ddi_regs_map_setup or pci_config_setup, and the one checked access path that
 * the rep and pci_config_* functions share.
 *
 * Where illumos would panic (an address outside the mapping, a handle that was freed) or report an
 * FMA access error (the device is gone), the access does not happen: it is recorded on the handle
 * so that ddi_check_acc_handle returns DDI_FAILURE, a read returns all-ones (what a PCI read of a
 * missing device returns), a write is dropped. Nothing throws. A 64-bit access to config space is
 * two 32-bit accesses, low dword first (config space has no 8-byte accesses).
 */
import { AccHandle, lookupAcc } from './acc-handle.ts';

export type Width = 1 | 2 | 4 | 8;

const ONES = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff } as const;
const ONES64 = 0xffff_ffff_ffff_ffffn;

function swap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0;
}

function swap64(v: bigint): bigint {
  const lo = Number(v & 0xffff_ffffn);
  const hi = Number(v >> 32n);
  return (BigInt(swap32(lo)) << 32n) | BigInt(swap32(hi));
}

/**
 * The offset inside the handle's register set of a `width`-byte access at `addr`, or null after
 * recording why it cannot happen (freed handle, DMA-memory handle, address not in the mapping or
 * misaligned). `handle` is live or freed (not foreign).
 */
export function resolve(handle: AccHandle, addr: unknown, width: Width): number | null {
  if (handle.freed) {
    handle.fault('access through a freed handle');
    return null;
  }
  if (handle.target.kind === 'dma') {
    handle.fault('ddi_get/ddi_put on a DMA memory handle: access kaddr directly');
    return null;
  }
  if (typeof addr !== 'bigint') {
    handle.fault(`address must be the bigint from ddi_regs_map_setup (plus an offset), got ${typeof addr}`);
    return null;
  }
  const rel = addr - handle.base;
  if (rel < 0n || rel + BigInt(width) > BigInt(handle.len)) {
    handle.fault(`${width}-byte access at 0x${addr.toString(16)} is outside the mapping [0x${handle.base.toString(16)}, +0x${handle.len.toString(16)})`);
    return null;
  }
  const offset = handle.offset + Number(rel);
  if (offset % width !== 0) {
    handle.fault(`${width}-byte access at register offset 0x${offset.toString(16)} is not naturally aligned`);
    return null;
  }
  if (handle.dip.closed || handle.dip.device.closed) {
    handle.fault('the device is closed');
    return null;
  }
  return offset;
}

/** The handle as passed: live or freed ones are kept (a freed one records the fault), others null. */
export function handleOf(h: unknown): AccHandle | null {
  return lookupAcc(h) ?? (h instanceof AccHandle && h.freed === true ? h : null);
}

/** One read of width 1/2/4 (numbers). All-ones on any failure. */
export function readNumber(h: unknown, addr: unknown, width: 1 | 2 | 4): number {
  const handle = handleOf(h);
  if (handle === null) return ONES[width];
  const offset = resolve(handle, addr, width);
  if (offset === null) return ONES[width];
  try {
    const t = handle.target;
    let v: number;
    if (t.kind === 'config') v = width === 1 ? t.config.read8(offset) : width === 2 ? t.config.read16(offset) : t.config.read32(offset);
    else if (t.kind === 'bar') v = width === 1 ? t.region.read8(offset) : width === 2 ? t.region.read16(offset) : t.region.read32(offset);
    else return ONES[width];
    if (!handle.swap || width === 1) return v;
    return width === 2 ? swap16(v) : swap32(v);
  } catch (error) {
    handle.fault(`read failed: ${(error as Error).message}`);
    return ONES[width];
  }
}

export function readBig(h: unknown, addr: unknown): bigint {
  const handle = handleOf(h);
  if (handle === null) return ONES64;
  const offset = resolve(handle, addr, 8);
  if (offset === null) return ONES64;
  try {
    const t = handle.target;
    let v: bigint;
    if (t.kind === 'config') v = BigInt(t.config.read32(offset)) | (BigInt(t.config.read32(offset + 4)) << 32n);
    else if (t.kind === 'bar') v = t.region.read64(offset);
    else return ONES64;
    return handle.swap ? swap64(v) : v;
  } catch (error) {
    handle.fault(`read failed: ${(error as Error).message}`);
    return ONES64;
  }
}

/** One write of width 1/2/4; the value is truncated to the width as C's uint8_t/16/32 do. */
export function writeNumber(h: unknown, addr: unknown, width: 1 | 2 | 4, value: unknown): void {
  const handle = handleOf(h);
  if (handle === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    handle.fault(`value must be an integer number, got ${typeof value === 'bigint' ? 'a bigint' : String(value)}`);
    return;
  }
  const offset = resolve(handle, addr, width);
  if (offset === null) return;
  let v = width === 4 ? value >>> 0 : value & ONES[width];
  if (handle.swap) v = width === 2 ? swap16(v) : width === 4 ? swap32(v) : v;
  try {
    const t = handle.target;
    if (t.kind === 'config') {
      if (width === 1) t.config.write8(offset, v);
      else if (width === 2) t.config.write16(offset, v);
      else t.config.write32(offset, v);
    } else if (t.kind === 'bar') {
      if (width === 1) t.region.write8(offset, v);
      else if (width === 2) t.region.write16(offset, v);
      else t.region.write32(offset, v);
    }
  } catch (error) {
    handle.fault(`write failed: ${(error as Error).message}`);
  }
}

/** One 64-bit write: a bigint (or a safe-integer number), truncated to 64 bits. */
export function writeBig(h: unknown, addr: unknown, value: unknown): void {
  const handle = handleOf(h);
  if (handle === null) return;
  if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) {
    handle.fault(`value must be a bigint, got ${String(value)}`);
    return;
  }
  const offset = resolve(handle, addr, 8);
  if (offset === null) return;
  let v = BigInt.asUintN(64, BigInt(value));
  if (handle.swap) v = swap64(v);
  try {
    const t = handle.target;
    if (t.kind === 'config') {
      // Low dword first, then high (config space has no 8-byte access).
      t.config.write32(offset, Number(v & 0xffff_ffffn));
      t.config.write32(offset + 4, Number(v >> 32n));
    } else if (t.kind === 'bar') {
      t.region.write64(offset, v);
    }
  } catch (error) {
    handle.fault(`write failed: ${(error as Error).message}`);
  }
}

/** ddi_get8(9F): the byte at `addr`; 0xff when the access fails (see the file comment). */
export function ddi_get8(handle: AccHandle | null, addr: bigint): number {
  return readNumber(handle, addr, 1);
}
export function ddi_get16(handle: AccHandle | null, addr: bigint): number {
  return readNumber(handle, addr, 2);
}
export function ddi_get32(handle: AccHandle | null, addr: bigint): number {
  return readNumber(handle, addr, 4);
}
/** ddi_get64(9F): a bigint; 0xffff_ffff_ffff_ffffn when the access fails. */
export function ddi_get64(handle: AccHandle | null, addr: bigint): bigint {
  return readBig(handle, addr);
}
/** ddi_put8(9F): writes `value` (truncated to 8 bits) at `addr`; a failed access is recorded, never thrown. */
export function ddi_put8(handle: AccHandle | null, addr: bigint, value: number): void {
  writeNumber(handle, addr, 1, value);
}
export function ddi_put16(handle: AccHandle | null, addr: bigint, value: number): void {
  writeNumber(handle, addr, 2, value);
}
export function ddi_put32(handle: AccHandle | null, addr: bigint, value: number): void {
  writeNumber(handle, addr, 4, value);
}
export function ddi_put64(handle: AccHandle | null, addr: bigint, value: bigint): void {
  writeBig(handle, addr, value);
}
