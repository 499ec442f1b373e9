/**
 * `dev_info_t`: one per device, the object every ddi_intr_* call names it by (not an illumos call:
 * illumos hands drivers their dip in attach(9E); here `ddi_dev_info(device)` does).
 *
 * It holds the per-device interrupt state of spec/ddi.md B.2 (devinfo_intr_t): supported types
 * (cached), the current type (0 = none), the supported count for that type, how many vectors are
 * allocated and enabled, and the per-inum handle table.
 */
import type { PciDevice, ResetEvent } from '../pci/device.ts';
import {
  PCI_COMMAND, PCI_COMMAND_INVALIDATE, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR, PCI_COMMAND_SPECIAL, PCI_COMMAND_VGA_PALETTE, PCI_COMMAND_WAIT, PCI_STATUS,
} from '../pci/regs.ts';
import { DDI_DEVI_BUS_RESET_EVENT, DDI_DEVI_DEVICE_RESET_EVENT, DDI_DEVI_REMOVE_EVENT } from './constants-services.ts';
import type { IntrHandle } from './intr-handle.ts';
import { restoreAfterReset } from './nexus-program.ts';
import { DipEvents } from './services/dip-events.ts';

/**
 * navail policy. 'device' (default): a device gets every vector it offers (MSI 1 << MMC, MSI-X table
 * size). 'illumos-x86': mimic illumos x86 — at most DDI_MAX_MSI_ALLOC (2) MSI and DDI_MIN_MSIX_ALLOC (8,
 * the APIX floor of ddi_msix_alloc_limit) MSI-X vectors per device (B.3 get_navail).
 */
export type DdiLimits = 'device' | 'illumos-x86';

export interface DevInfoOptions {
  limits?: DdiLimits;
}

export class DevInfo {
  readonly device: PciDevice;
  limits: DdiLimits = 'device';
  /** Supported type bits, 0 until first asked (B.2: cached). */
  supportedTypes = 0;
  /** Interrupt type in use, 0 when no handle is allocated (B.3 alloc rule 5). */
  currentType = 0;
  /** nintrs of the current type. */
  currentNintrs = 0;
  /** Vectors allocated (dups not counted). */
  allocated = 0;
  /** Vectors enabled (after block_enable: 1, as illumos counts it). */
  enabled = 0;
  /** Non-dup handles by inum (B.2 per-inum table; kept for every type to refuse overlaps). */
  byInum: (IntrHandle | null)[] = [];
  /** Dup handles by their dup_inum. */
  readonly dups = new Map<number, IntrHandle>();
  /** MSI: the capability has been programmed and MSI Enable set (by enable or block_enable). */
  msiConfigured = false;
  /** Set when the device closes: hardware is gone, only teardown calls still succeed. */
  closed = false;
  /** The NDI event callbacks of this node (services/events.ts). */
  readonly events = new DipEvents();

  /**
   * The nexus side of the device's lifecycle: a removal request posts DDI_DEVI_REMOVE_EVENT while the
   * device is still open; a reset re-programs the enabled handles' MSI / MSI-X settings, then posts
   * DDI_DEVI_DEVICE_RESET_EVENT (reset()) or DDI_DEVI_BUS_RESET_EVENT (a hot reset).
   */
  constructor(device: PciDevice) {
    this.device = device;
    device.onClose(() => {
      this.closed = true;
    });
    device.onRemovalRequest(() => this.events.post(DDI_DEVI_REMOVE_EVENT, null));
    device.onReset((event) => this.#afterReset(event));
  }

  #afterReset(event: ResetEvent): void {
    try {
      restoreAfterReset(this);
    } catch (error) {
      // The device went away during the reset: nothing left to program; the removal event follows.
      // Open and still failing: the driver must hear that its vectors were not restored.
      if (!this.device.closed) {
        process.emitWarning(`ddi: ${this.device.bdf}: re-programming MSI/MSI-X after the reset failed ` +
          `(${error instanceof Error ? error.message : String(error)}); its interrupts may not arrive until they are disabled and enabled again`,
        { type: 'DdiWarning', code: 'DDI_RESET_RESTORE_FAILED' });
      }
    }
    this.events.post(event.kind === 'bus' ? DDI_DEVI_BUS_RESET_EVENT : DDI_DEVI_DEVICE_RESET_EVENT, null);
  }

  /** Drops the per-type state once the last handle is freed (B.3 free: the type resets). */
  resetType(): void {
    this.currentType = 0;
    this.currentNintrs = 0;
    this.allocated = 0;
    this.enabled = 0;
    this.byInum = [];
    this.msiConfigured = false;
  }
}

export type dev_info_t = DevInfo;

/**
 * What illumos' PCI(e) framework writes into Command before the driver's attach(9E) runs
 * (usr/src/uts/common/io/pciex/pcie.c: pcie_initchild → `(command & pcie_command_default_fw) |
 * pcie_command_default`, after clearing Status). Drivers such as nvme.c and e1000g never set Memory
 * Space or Bus Master themselves: they rely on this.
 */
const pcie_command_default = PCI_COMMAND_SERR | PCI_COMMAND_WAIT | PCI_COMMAND_PARITY | PCI_COMMAND_MASTER
  | PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
/** Bits firmware controls (kept as they are); 0xF800: the reserved bits. */
const pcie_command_default_fw = PCI_COMMAND_SPECIAL | PCI_COMMAND_INVALIDATE | PCI_COMMAND_VGA_PALETTE | PCI_COMMAND_WAIT | 0xf800;

function pcieInitchild(device: PciDevice): void {
  const config = device.config;
  config.write16(PCI_STATUS, config.read16(PCI_STATUS)); // write-1-to-clear: the error bits
  config.write16(PCI_COMMAND, ((config.read16(PCI_COMMAND) & pcie_command_default_fw) | pcie_command_default) & 0xffff);
}

const dips = new WeakMap<PciDevice, DevInfo>();
const live = new WeakSet<object>();

function isPciDevice(device: unknown): device is PciDevice {
  if (typeof device !== 'object' || device === null) return false;
  const d = device as Partial<PciDevice>;
  return typeof d.config === 'object' && d.config !== null && typeof d.irq === 'object' && d.irq !== null
    && typeof d.bar === 'function' && typeof d.onClose === 'function';
}

/**
 * The device's dev_info — the dip attach(9E) gets (the same object on every call). The first call does
 * what illumos does to the function before attach: Status cleared, Command set to pcie_command_default
 * (Memory Space, Bus Master, I/O Space, SERR, parity; INTx Disable cleared).
 * `options.limits` sets the navail policy
 * (default 'device'; see DdiLimits); it may be changed at any time and applies to later allocations.
 * Throws TypeError when `device` is not a PciDevice or the option is unknown.
 */
export function ddi_dev_info(device: PciDevice, options?: DevInfoOptions): dev_info_t {
  if (!isPciDevice(device)) throw new TypeError('ddi_dev_info: expected a PciDevice (from vfio-ddk/emu or vfio-ddk/vfio)');
  const limits = options?.limits;
  if (limits !== undefined && limits !== 'device' && limits !== 'illumos-x86') {
    throw new TypeError(`ddi_dev_info: limits must be 'device' or 'illumos-x86', got ${String(limits)}`);
  }
  let dip = dips.get(device);
  if (dip === undefined) {
    if (!device.closed) pcieInitchild(device);
    dip = new DevInfo(device);
    dips.set(device, dip);
    live.add(dip);
  }
  if (limits !== undefined) dip.limits = limits;
  return dip;
}

/** A dev_info made by ddi_dev_info (a plain object or null is not one). */
export function isDevInfo(dip: unknown): dip is DevInfo {
  return typeof dip === 'object' && dip !== null && live.has(dip);
}
