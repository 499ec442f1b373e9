/**
 * ddi_rep_get8/16/32/64 and ddi_rep_put8/16/32/64 (ddi_rep_get8(9F), ddi_rep_put8(9F)): `repcount`
 * accesses between a host buffer and device addresses that advance by the width with
 * DDI_DEV_AUTOINCR and stay put otherwise (illumos' i_ddi_rep_get*: any flags other than
 * DDI_DEV_AUTOINCR mean no increment).
 *
 * The host buffer is the typed array of the width (Uint8Array, Uint16Array, Uint32Array,
 * BigUint64Array), as the C prototypes take uint8_t* … uint64_t*. Checked before the first access,
 * each recorded on the handle as an access error (ddi_check_acc_handle → DDI_FAILURE) with nothing
 * transferred: a buffer of another type or shorter than repcount, a device range leaving the mapping.
 * An access that fails part-way stops there (the rest of the buffer is left as it was).
 */
import { DDI_DEV_AUTOINCR } from '../constants-services.ts';
import type { AccHandle } from './acc-handle.ts';
import { handleOf, readBig, readNumber, resolve, writeBig, writeNumber, type Width } from './access.ts';

type HostArray = Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

const ARRAY_OF: Record<Width, { new (n: number): HostArray; name: string }> = {
  1: Uint8Array, 2: Uint16Array, 4: Uint32Array, 8: BigUint64Array,
};

/** The handle when the whole transfer can start; null (fault recorded where a handle exists) otherwise. */
function check(h: unknown, host: unknown, dev: unknown, repcount: unknown, flags: unknown, width: Width): AccHandle | null {
  const handle = handleOf(h);
  if (handle === null) return null;
  const type = ARRAY_OF[width];
  if (!(host instanceof type)) {
    handle.fault(`host_addr must be a ${type.name} for a ${width * 8}-bit rep access`);
    return null;
  }
  if (typeof repcount !== 'number' || !Number.isSafeInteger(repcount) || repcount < 0 || repcount > host.length) {
    handle.fault(`repcount ${String(repcount)} is not in [0, ${host.length}] (the host buffer's length)`);
    return null;
  }
  if (repcount === 0) return handle;
  if (typeof dev !== 'bigint') {
    handle.fault('dev_addr must be the bigint from ddi_regs_map_setup (plus an offset)');
    return null;
  }
  const last = flags === DDI_DEV_AUTOINCR ? dev + BigInt((repcount - 1) * width) : dev;
  if (resolve(handle, dev, width) === null || resolve(handle, last, width) === null) return null;
  return handle;
}

function repGet(h: unknown, host: unknown, dev: unknown, repcount: unknown, flags: unknown, width: Width): void {
  const handle = check(h, host, dev, repcount, flags, width);
  if (handle === null) return;
  const n = repcount as number;
  const step = flags === DDI_DEV_AUTOINCR ? BigInt(width) : 0n;
  let addr = dev as bigint;
  const before = handle.faults;
  for (let i = 0; i < n; i++, addr += step) {
    const v = width === 8 ? readBig(handle, addr) : readNumber(handle, addr, width);
    if (handle.faults !== before) return;
    (host as HostArray)[i] = v as never;
  }
}

function repPut(h: unknown, host: unknown, dev: unknown, repcount: unknown, flags: unknown, width: Width): void {
  const handle = check(h, host, dev, repcount, flags, width);
  if (handle === null) return;
  const n = repcount as number;
  const step = flags === DDI_DEV_AUTOINCR ? BigInt(width) : 0n;
  let addr = dev as bigint;
  const before = handle.faults;
  for (let i = 0; i < n; i++, addr += step) {
    const v = (host as HostArray)[i];
    if (width === 8) writeBig(handle, addr, v);
    else writeNumber(handle, addr, width, v);
    if (handle.faults !== before) return;
  }
}

/** ddi_rep_get8(9F): `repcount` bytes from the device into `host_addr`. */
export function ddi_rep_get8(handle: AccHandle | null, host_addr: Uint8Array, dev_addr: bigint, repcount: number, flags: number): void {
  repGet(handle, host_addr, dev_addr, repcount, flags, 1);
}
export function ddi_rep_get16(handle: AccHandle | null, host_addr: Uint16Array, dev_addr: bigint, repcount: number, flags: number): void {
  repGet(handle, host_addr, dev_addr, repcount, flags, 2);
}
export function ddi_rep_get32(handle: AccHandle | null, host_addr: Uint32Array, dev_addr: bigint, repcount: number, flags: number): void {
  repGet(handle, host_addr, dev_addr, repcount, flags, 4);
}
export function ddi_rep_get64(handle: AccHandle | null, host_addr: BigUint64Array, dev_addr: bigint, repcount: number, flags: number): void {
  repGet(handle, host_addr, dev_addr, repcount, flags, 8);
}
/** ddi_rep_put8(9F): `repcount` bytes from `host_addr` to the device. */
export function ddi_rep_put8(handle: AccHandle | null, host_addr: Uint8Array, dev_addr: bigint, repcount: number, flags: number): void {
  repPut(handle, host_addr, dev_addr, repcount, flags, 1);
}
export function ddi_rep_put16(handle: AccHandle | null, host_addr: Uint16Array, dev_addr: bigint, repcount: number, flags: number): void {
  repPut(handle, host_addr, dev_addr, repcount, flags, 2);
}
export function ddi_rep_put32(handle: AccHandle | null, host_addr: Uint32Array, dev_addr: bigint, repcount: number, flags: number): void {
  repPut(handle, host_addr, dev_addr, repcount, flags, 4);
}
export function ddi_rep_put64(handle: AccHandle | null, host_addr: BigUint64Array, dev_addr: bigint, repcount: number, flags: number): void {
  repPut(handle, host_addr, dev_addr, repcount, flags, 8);
}
