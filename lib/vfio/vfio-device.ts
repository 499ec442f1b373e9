/**
 * `VfioDevice`: a real PCI function driven from userspace through VFIO, implementing `PciDevice`
 * with the native addon. Start at `openVfioDevice`.
 *
 * On open (after the checks of vfio-open.ts) Memory Space and Bus Master are enabled in the Command
 * register: vfio-pci sets neither, and without Bus Master the device's MSI writes and DMA are silently
 * dropped (spec/edu.md D.6, D.7). Pass `{ enableBusMaster: false }` to leave Command untouched.
 *
 * Errors: see vfio-open.ts / vfio-diagnostics.ts for opening; afterwards RangeError for bad offsets
 * and DdkError 'ENOENT' (no such BAR), 'ENOTSUP' (no reset), 'EPERM' (a hot reset reaching a function
 * this process does not own), 'ECLOSED' (after close).
 */
import type { PciDevice, PciIdentity, PciRegion, ResetEvent } from '../pci/device.ts';
import { DeviceListeners } from '../pci/listeners.ts';
import {
  PCI_CAP_ID_MSI, PCI_CLASS_REVISION, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_DEVICE_ID, PCI_STD_NUM_BARS,
  PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID,
} from '../pci/regs.ts';
import { VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX } from '../pci/vfio-indices.ts';
import { traceOpened } from '../pci/trace-hook.ts';
import { loadNative } from '../native/loader.ts';
import type { NativeAddon, RegionInfo } from '../native/addon-types.ts';
import { VFIO_DEVICE_FLAGS_RESET } from '../native/vfio-uapi.ts';
import { DdkError, errnoCode } from '../errors.ts';
import type { Sysfs } from './sysfs.ts';
import { normalizeBdf } from './bdf.ts';
import { defaultEnvironment, openVfio } from './vfio-open.ts';
import type { OpenedVfio, VfioIommuChoice } from './vfio-open.ts';
import { DeviceGate } from './vfio-gate.ts';
import { VfioConfigSpace } from './vfio-config.ts';
import { VfioRegion } from './vfio-region.ts';
import { VfioInterrupts } from './vfio-interrupts.ts';
import { VfioDma } from './vfio-dma.ts';
import { findCapability, findMsix, msiLayout } from '../pci/capabilities.ts';
import { VfioMsiEnableTrap } from './vfio-msi-enable.ts';
import { VfioDeviceEvents } from './vfio-device-events.ts';
import { VfioMsixShadow } from './vfio-msix-shadow.ts';
import { VfioMsixConfigSpace } from './vfio-msix-config.ts';
import { VfioMsixInterrupts } from './vfio-msix-interrupts.ts';
import { hotResetInfo, pciHotReset, planHotReset, type HotResetOwner } from './vfio-hot-reset.ts';

/** The process's open devices: a hot reset takes the group fds of every function it reaches from here. */
const openDevices = new Set<VfioDevice>();

export interface OpenVfioDeviceOptions {
  /** Initial DMA mask (default 32 bits; drivers narrow or widen it with `dma.setMask`). */
  dmaMask?: bigint;
  /** Set Memory Space + Bus Master in Command on open (default true). */
  enableBusMaster?: boolean;
  /** 'auto' (default): iommufd/cdev when the kernel has it, else type1; unset: VFIO_DDK_IOMMU decides. */
  iommu?: VfioIommuChoice;
  /** For tests and unusual layouts. */
  addon?: NativeAddon;
  sysfs?: Sysfs;
  vfioDir?: string;
  iommuPath?: string;
}

export class VfioDevice implements PciDevice {
  readonly bdf: string;
  readonly backend = 'vfio' as const;
  readonly identity: PciIdentity;
  readonly config: VfioConfigSpace;
  readonly irq: VfioInterrupts;
  readonly dma: VfioDma;
  /** IOMMU group number and which IOMMU interface is in use. */
  readonly group: number;
  readonly iommuKind: 'type1' | 'iommufd';
  /** Why that interface (lib/vfio/vfio-iommu-choice.ts): "forced by VFIO_DDK_IOMMU=type1", … */
  readonly iommuReason: string;
  readonly #addon: NativeAddon;
  readonly #opened: OpenedVfio;
  readonly #gate: DeviceGate;
  readonly #bars: (VfioRegion | null | undefined)[] = [];
  readonly #resettable: boolean;
  readonly #listeners = new DeviceListeners('onClose');
  readonly #resetListeners = new DeviceListeners<[ResetEvent]>('onReset');
  /** The virtualized MSI-X table / PBA / Function Mask (null: no MSI-X capability). */
  readonly #msix: VfioMsixShadow | null;
  readonly #events: VfioDeviceEvents;

  /** Use `openVfioDevice`. Takes ownership of the fds in `opened`. */
  constructor(addon: NativeAddon, opened: OpenedVfio, options: OpenVfioDeviceOptions = {}) {
    this.#addon = addon;
    this.#opened = opened;
    this.bdf = opened.bdf;
    this.group = opened.group;
    this.iommuKind = opened.iommu.kind;
    this.iommuReason = opened.iommuReason;
    this.#gate = new DeviceGate(opened.bdf);
    const fd = opened.deviceFd;
    const info = addon.vfioDeviceGetInfo(fd);
    this.#resettable = (info.flags & VFIO_DEVICE_FLAGS_RESET) !== 0;
    const configInfo = addon.vfioDeviceGetRegionInfo(fd, VFIO_PCI_CONFIG_REGION_INDEX);
    const plainConfig = new VfioConfigSpace(addon, fd, configInfo, this.#gate);
    // MSI-X table virtualization (vfio-msix-shadow.ts): the kits never reach the kernel's real entries.
    const msix = findMsix(plainConfig);
    this.#msix = msix === null ? null : new VfioMsixShadow(msix);
    this.config = this.#msix === null ? plainConfig : new VfioMsixConfigSpace(addon, fd, configInfo, this.#gate, this.#msix);
    this.irq = this.#msix === null ? new VfioInterrupts(addon, fd, this.#gate) : new VfioMsixInterrupts(addon, fd, this.#gate, this.#msix);
    // A bus driver's MSI / MSI-X Enable write becomes SET_IRQS (vfio-msi-enable.ts).
    const msiOffset = findCapability(plainConfig, PCI_CAP_ID_MSI);
    const msi = msiOffset === null ? null : msiLayout(plainConfig, msiOffset);
    if (msi !== null || msix !== null) this.config.writeTrap = new VfioMsiEnableTrap(this.irq, msi, msix, this.#msix);
    // Surprise removal: the kernel's device request closes the device so its unbind can complete.
    this.#events = new VfioDeviceEvents(addon, fd, () => this.close());
    this.dma = new VfioDma(addon, opened.iommu, this.#gate, options.dmaMask);
    const classRev = this.config.read32(PCI_CLASS_REVISION);
    this.identity = {
      vendorId: this.config.read16(PCI_VENDOR_ID),
      deviceId: this.config.read16(PCI_DEVICE_ID),
      classCode: classRev >>> 8,
      revision: classRev & 0xff,
      subsystemVendorId: this.config.read16(PCI_SUBSYSTEM_VENDOR_ID),
      subsystemId: this.config.read16(PCI_SUBSYSTEM_ID),
    };
    if (options.enableBusMaster !== false) {
      const command = this.config.read16(PCI_COMMAND);
      const wanted = command | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
      if (wanted !== command) this.config.write16(PCI_COMMAND, wanted);
    }
    openDevices.add(this);
  }

  get closed(): boolean {
    return this.#gate.closed;
  }

  bar(index: number): PciRegion {
    if (!Number.isInteger(index) || index < 0 || index >= PCI_STD_NUM_BARS) throw new RangeError(`BAR index must be 0–5, got ${String(index)}`);
    this.#gate.check();
    let region = this.#bars[index];
    if (region === undefined) {
      const info: RegionInfo = this.#addon.vfioDeviceGetRegionInfo(this.#opened.deviceFd, VFIO_PCI_BAR0_REGION_INDEX + index);
      region = info.size === 0n ? null : new VfioRegion(this.#addon, this.#opened.deviceFd, info, this.#gate, this.#msix?.trapFor(index) ?? null);
      this.#bars[index] = region;
    }
    if (region === null) throw new DdkError('ENOENT', `${this.bdf} has no BAR${index}`);
    return region;
  }

  /**
   * VFIO_DEVICE_RESET (FLR or another method the kernel found); 'ENOTSUP' when there is none. The kernel
   * saves and restores config space and its MSI/MSI-X state around it (pci_try_reset_function); the
   * eventfd routes, BAR and DMA mappings stay; the function's registers and masked vectors' pending
   * fires are lost. Then the onReset listeners run (the first that throws is rethrown after all ran).
   */
  reset(): void {
    this.#gate.check();
    const none = new DdkError('ENOTSUP', `${this.bdf} has no function-level reset the kernel can use (VFIO_DEVICE_FLAGS_RESET unset)`);
    if (!this.#resettable) throw none;
    try {
      this.#addon.vfioDeviceReset(this.#opened.deviceFd);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EINVAL' || code === 'ENOTTY' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') throw none;
      throw error;
    }
    this.#afterReset('function');
  }

  /**
   * VFIO_DEVICE_PCI_HOT_RESET: a slot or secondary-bus reset of every function behind the device's
   * bridge (lib/vfio/vfio-hot-reset.ts says what the kernel needs on each IOMMU path). The same things
   * survive as for `reset()`; every open device of this process that it reached hears onReset
   * ({ kind: 'bus' }). Returns the functions it reset. 'ENOTSUP' for a function whose slot and bus cannot
   * be reset (the root bus); 'EPERM' naming the functions this process does not own.
   */
  hotReset(): string[] {
    this.#gate.check();
    const fd = this.#opened.deviceFd;
    const info = hotResetInfo(this.#addon, fd, this.bdf);
    const open = [...openDevices].filter((d) => d.#addon === this.#addon).map((d) => d.#owner);
    const plan = planHotReset(info, this.#owner, open);
    pciHotReset(this.#addon, fd, this.bdf, plan);
    let first: unknown = null;
    for (const device of [...openDevices]) {
      if (device.#addon !== this.#addon || !plan.affected.includes(device.bdf)) continue;
      try {
        device.#afterReset('bus');
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== null) throw first;
    return plan.affected;
  }

  get #owner(): HotResetOwner {
    return { bdf: this.bdf, group: this.group, groupFd: this.#opened.groupFd };
  }

  /** What the library restores after a reset, then the listeners. */
  #afterReset(kind: ResetEvent['kind']): void {
    this.#msix?.resetPending();
    const failed = this.#resetListeners.emit({ kind });
    if (failed !== null) throw failed;
  }

  onReset(listener: (event: ResetEvent) => void): () => void {
    return this.#resetListeners.add(listener);
  }

  /**
   * Disables interrupts (lines detached, so pending waits resolve), unmaps and frees DMA memory,
   * unmaps the BARs, closes the device, group and IOMMU fds, then runs the onClose listeners.
   */
  close(): void {
    if (this.#gate.closed) return;
    this.#gate.closed = true;
    // Before anything else runs (a detach can call back into a driver): BAR accesses now throw ECLOSED.
    for (const region of this.#bars) region?.invalidate();
    openDevices.delete(this);
    this.#resetListeners.clear();
    const steps: (() => void)[] = [
      () => this.irq.closeAll(),
      () => this.#events.close(),
      () => this.dma.closeAll(),
      () => { for (const region of this.#bars) region?.unmap(); },
      () => this.#addon.close(this.#opened.deviceFd),
      () => { if (this.#opened.groupFd !== null) this.#addon.close(this.#opened.groupFd); },
      () => this.#opened.iommu.close(),
    ];
    let first: unknown = null;
    for (const step of steps) {
      try {
        step();
      } catch (error) {
        first ??= error;
      }
    }
    first ??= this.#listeners.emit();
    this.#listeners.clear();
    if (first !== null) throw first;
  }

  /**
   * The kernel asks for the device back (unbind, hot-unplug: VFIO_PCI_REQ_IRQ_INDEX). The listeners run,
   * then the device closes itself — pending waits end CANCELED, DMA is unmapped, every fd closed — so the
   * kernel's removal completes. Returns an unregister function. `removalRequestSupported` says whether
   * the kernel offered the channel.
   */
  onRemovalRequest(listener: () => void): () => void {
    return this.#events.on('removal-request', listener);
  }

  /** A PCI error reported for the device (VFIO_PCI_ERR_IRQ_INDEX, where the kernel offers it). */
  onError(listener: () => void): () => void {
    return this.#events.on('error', listener);
  }

  get removalRequestSupported(): boolean {
    return this.#events.offered.removalRequest;
  }

  onClose(listener: () => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onClose: listener must be a function');
    if (this.#gate.closed) {
      listener();
      return () => {};
    }
    return this.#listeners.add(listener);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens `bdf` ("0000:00:01.0" or "00:01.0") through VFIO. The BDF is validated before anything else
 * (DdkError 'ERR_BAD_BDF'); then the checks of vfio-open.ts run, each failing with an error that
 * names the cause and the fix. While a trace records (lib/pci/trace-hook.ts), the device comes back
 * as its recording view.
 */
export function openVfioDevice(bdf: string, options: OpenVfioDeviceOptions = {}): VfioDevice {
  const canonical = normalizeBdf(bdf);
  if (typeof options !== 'object' || options === null) throw new TypeError('openVfioDevice: options must be an object');
  if (options.iommu !== undefined && !['auto', 'type1', 'iommufd'].includes(options.iommu)) {
    throw new RangeError(`openVfioDevice: iommu must be 'auto', 'type1' or 'iommufd', got ${String(options.iommu)}`);
  }
  if (options.enableBusMaster !== undefined && typeof options.enableBusMaster !== 'boolean') {
    throw new TypeError('openVfioDevice: enableBusMaster must be a boolean');
  }
  const addon = options.addon ?? loadNative();
  const env = defaultEnvironment(addon, options);
  const opened = openVfio(canonical, env);
  try {
    return traceOpened(new VfioDevice(addon, opened, options));
  } catch (error) {
    try { addon.close(opened.deviceFd); } catch { /* */ }
    try { if (opened.groupFd !== null) addon.close(opened.groupFd); } catch { /* */ }
    try { opened.iommu.close(); } catch { /* */ }
    throw error;
  }
}
