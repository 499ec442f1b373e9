/**
 * `ddi_acc_handle_t`: one register mapping (ddi_regs_map_setup, pci_config_setup) or the access
 * handle of DMA memory (ddi_dma_mem_alloc). It holds what illumos' ddi_acc_hdl_t does (usr/src/uts/
 * common/sys/ddi_impldefs.h: ah_dip, ah_rnumber, ah_offset, ah_len, ah_acc, ah_addr) plus the
 * fault state ddi_check_acc_handle reports (the FMA err_status of ddi_fm_acc_err_get).
 *
 * The address a mapping returns is a bigint in a synthetic kernel address space: each mapping gets
 * its own 1 TiB window at ACC_ADDR_BASE + n·2^40, so `addr + BigInt(NVME_REG_CSTS)` is the pointer
 * arithmetic a C driver does on its caddr_t, and an address is recognised as belonging (or not) to
 * the handle it is used with.
 */
import type { ConfigSpace, PciRegion } from '../../pci/device.ts';
import type { DevInfo } from '../dev-info.ts';
import {
  DDI_CAUTIOUS_ACC, DDI_DEFAULT_ACC, DDI_DEVICE_ATTR_V0, DDI_DEVICE_ATTR_V1, DDI_FLAGERR_ACC, DDI_NEVERSWAP_ACC,
  DDI_STORECACHING_OK_ACC, DDI_STRICTORDER_ACC, DDI_STRUCTURE_BE_ACC, DDI_STRUCTURE_LE_ACC,
} from '../constants-services.ts';

/** ddi_device_acc_attr(9S). `devacc_attr_access` is read for DDI_DEVICE_ATTR_V1 only, as in illumos. */
export interface ddi_device_acc_attr_t {
  devacc_attr_version: number;
  devacc_attr_endian_flags: number;
  devacc_attr_dataorder: number;
  devacc_attr_access?: number;
}

/** What a handle reaches: config space, a BAR window, or DMA memory (no register accessors). */
export type AccTarget =
  | { readonly kind: 'config'; readonly config: ConfigSpace }
  | { readonly kind: 'bar'; readonly region: PciRegion }
  | { readonly kind: 'dma' };

export const ACC_ADDR_BASE = 0xffff_fe00_0000_0000n;
const WINDOW_SHIFT = 40n;
let nextWindow = 0n;

export class AccHandle {
  readonly dip: DevInfo;
  readonly target: AccTarget;
  readonly rnumber: number;
  /** Offset of the mapping inside its register set. */
  readonly offset: number;
  /** Mapped length in bytes. */
  readonly len: number;
  /** Address of the mapping's first byte (ah_addr). */
  readonly base: bigint;
  /** DDI_STRUCTURE_BE_ACC: every access is byte-swapped (PCI registers are little-endian). */
  readonly swap: boolean;
  readonly attr: Readonly<ddi_device_acc_attr_t>;
  /** Access errors since the mapping was set up (sticky, as the FMA error status). */
  faults = 0;
  /** Why the last access failed (a project addition, for diagnostics). */
  lastFault: string | null = null;
  freed = false;

  constructor(dip: DevInfo, target: AccTarget, rnumber: number, offset: number, len: number, attr: ddi_device_acc_attr_t) {
    this.dip = dip;
    this.target = target;
    this.rnumber = rnumber;
    this.offset = offset;
    this.len = len;
    this.base = ACC_ADDR_BASE + (nextWindow++ << WINDOW_SHIFT);
    this.swap = attr.devacc_attr_endian_flags === DDI_STRUCTURE_BE_ACC;
    this.attr = Object.freeze({ ...attr });
  }

  fault(reason: string): void {
    this.faults++;
    this.lastFault = reason;
  }
}

export type ddi_acc_handle_t = AccHandle;

const live = new WeakSet<AccHandle>();

export function registerAcc(handle: AccHandle): AccHandle {
  live.add(handle);
  return handle;
}

export function releaseAcc(handle: AccHandle): void {
  handle.freed = true;
  live.delete(handle);
}

/** A live handle made here (a freed, plain or forged object is not one). */
export function lookupAcc(handle: unknown): AccHandle | null {
  return handle instanceof AccHandle && live.has(handle) ? handle : null;
}

/**
 * ddi_device_acc_attr_t checked field by field: a known version, one of the three endian flags, a
 * known data order and (V1) access mode. illumos trusts the structure; here a bad one is refused.
 */
export function validAccAttr(attr: unknown): attr is ddi_device_acc_attr_t {
  if (typeof attr !== 'object' || attr === null) return false;
  const a = attr as Partial<ddi_device_acc_attr_t>;
  if (a.devacc_attr_version !== DDI_DEVICE_ATTR_V0 && a.devacc_attr_version !== DDI_DEVICE_ATTR_V1) return false;
  const endian = a.devacc_attr_endian_flags;
  if (endian !== DDI_NEVERSWAP_ACC && endian !== DDI_STRUCTURE_LE_ACC && endian !== DDI_STRUCTURE_BE_ACC) return false;
  const order = a.devacc_attr_dataorder;
  if (typeof order !== 'number' || !Number.isInteger(order) || order < DDI_STRICTORDER_ACC || order > DDI_STORECACHING_OK_ACC) return false;
  if (a.devacc_attr_version === DDI_DEVICE_ATTR_V1) {
    const access = a.devacc_attr_access;
    if (access !== DDI_DEFAULT_ACC && access !== DDI_FLAGERR_ACC && access !== DDI_CAUTIOUS_ACC) return false;
  }
  return true;
}
