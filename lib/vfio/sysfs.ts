/**
 * PCI discovery and driver binding through sysfs (Documentation/ABI/testing/sysfs-bus-pci):
 * /sys/bus/pci/devices/<BDF>/{vendor,device,class,…,config,driver→,iommu_group→,driver_override},
 * /sys/bus/pci/drivers_probe, /sys/kernel/iommu_groups/<N>/devices/.
 *
 * Every path is `root` + a fixed layout + a BDF that `normalizeBdf` has already validated (so no path
 * characters can reach the filesystem); tests pass a fixture tree as `root`. Errors: DdkError with
 * 'ERR_BAD_BDF' (malformed address, before any access), 'ENOENT' (no such device), 'ENODEV' (vfio-pci
 * not loaded / no IOMMU group), or the errno name of a failed read/write ('EACCES' when not root).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DdkError } from '../errors.ts';
import { isBdf, normalizeBdf } from './bdf.ts';
import { parseResources } from './sysfs-resources.ts';
import type { PciResource } from './sysfs-resources.ts';
import { PCI_CFG_SPACE_EXP_SIZE } from '../pci/regs.ts';
import { SYSFS_ATTR_MAX, listDir, readBytes, readLinkName, readNumber, readText, writeAttr } from './sysfs-files.ts';
import { VFIO_PCI_DRIVER, isVfioDriver, keepsGroupViable } from './sysfs-viability.ts';

/** What sysfs says about one PCI function (no config-space parsing: see sysfs-config.ts). */
export interface PciFunctionInfo {
  readonly bdf: string;
  readonly vendorId: number;
  readonly deviceId: number;
  /** 24-bit class code: base << 16 | sub << 8 | prog-if. */
  readonly classCode: number;
  readonly revision: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  /** Bound driver's name, or null when unbound. */
  readonly driver: string | null;
  /** driver_override contents, or null when unset / not supported. */
  readonly driverOverride: string | null;
  /** IOMMU group number, or null when the device has none (IOMMU off). */
  readonly iommuGroup: number | null;
  /** NUMA node, or null when unknown (sysfs "-1"). */
  readonly numaNode: number | null;
  /** Legacy IRQ number the kernel assigned (sysfs `irq`), or null when none (sysfs 0). */
  readonly irq: number | null;
}

export interface SysfsOptions {
  /**
   * Called after every attribute write with the path relative to `root` and the value written. Fixture
   * trees use it to play the kernel (e.g. move the `driver` link when `drivers_probe` is written).
   */
  readonly onWrite?: (relativePath: string, value: string) => void;
}

/** A previous binding, as `bindGroup` reports it so it can be undone. */
export interface BindingChange {
  readonly bdf: string;
  readonly previousDriver: string | null;
}

const irqOrNull = (irq: number | null): number | null => (irq === null || irq <= 0 ? null : irq);

/** A kernel driver name as it appears under /sys/bus/pci/drivers (no path characters). */
const DRIVER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

export class Sysfs {
  readonly root: string;
  readonly #onWrite: ((relativePath: string, value: string) => void) | undefined;

  constructor(root = '/sys', options: SysfsOptions = {}) {
    if (typeof root !== 'string' || root.length === 0) throw new TypeError('Sysfs root must be a non-empty path');
    this.root = root;
    this.#onWrite = options.onWrite;
  }

  #devicePath(bdf: string, ...rest: string[]): string {
    return join(this.root, 'bus', 'pci', 'devices', bdf, ...rest);
  }

  #write(relative: string[], value: string): void {
    writeAttr(join(this.root, ...relative), value);
    this.#onWrite?.(relative.join('/'), value);
  }

  /** The canonical BDF of an existing device; ERR_BAD_BDF / ENOENT otherwise. */
  #existing(bdf: string): string {
    const b = normalizeBdf(bdf);
    if (!existsSync(this.#devicePath(b))) {
      throw new DdkError('ENOENT', `no PCI device ${b} (under ${join(this.root, 'bus/pci/devices')}): see \`vfio-ddk list\``);
    }
    return b;
  }

  /** True when the device exists. Throws ERR_BAD_BDF for a malformed address. */
  has(bdf: string): boolean {
    return existsSync(this.#devicePath(normalizeBdf(bdf)));
  }

  /** Every PCI function, sorted by BDF. Empty when there is no PCI bus (e.g. no /sys/bus/pci). */
  listDevices(): PciFunctionInfo[] {
    const names = listDir(join(this.root, 'bus', 'pci', 'devices')) ?? [];
    return names.filter((n) => isBdf(n) && normalizeBdf(n) === n).map((n) => this.#info(n));
  }

  /** One function's sysfs facts. ERR_BAD_BDF / ENOENT. */
  device(bdf: string): PciFunctionInfo {
    return this.#info(this.#existing(bdf));
  }

  #info(b: string): PciFunctionInfo {
    const num = (attr: string): number => readNumber(this.#devicePath(b, attr)) ?? 0;
    const override = readText(this.#devicePath(b, 'driver_override'), SYSFS_ATTR_MAX);
    const numa = readNumber(this.#devicePath(b, 'numa_node'));
    const classCode = num('class');
    return {
      bdf: b,
      vendorId: num('vendor'),
      deviceId: num('device'),
      classCode,
      // Older kernels have no `revision` attribute; config byte 8 holds it (PCI 3.0 §6.2.1).
      revision: readNumber(this.#devicePath(b, 'revision')) ?? this.#configByte(b, 8),
      subsystemVendorId: num('subsystem_vendor'),
      subsystemId: num('subsystem_device'),
      driver: readLinkName(this.#devicePath(b, 'driver')),
      driverOverride: override === null || override === '' || override === '(null)' ? null : override,
      iommuGroup: this.#group(b),
      numaNode: numa === null || numa < 0 ? null : numa,
      // 0 is how sysfs says "no legacy IRQ assigned".
      irq: irqOrNull(readNumber(this.#devicePath(b, 'irq'))),
    };
  }

  #configByte(b: string, offset: number): number {
    const bytes = readBytes(this.#devicePath(b, 'config'), PCI_CFG_SPACE_EXP_SIZE);
    return bytes !== null && bytes.length > offset ? (bytes[offset] ?? 0) : 0;
  }

  #group(b: string): number | null {
    const name = readLinkName(this.#devicePath(b, 'iommu_group'));
    return name !== null && /^\d+$/.test(name) ? parseInt(name, 10) : null;
  }

  /** IOMMU group number of a device, or null when it has none. ERR_BAD_BDF / ENOENT. */
  iommuGroup(bdf: string): number | null {
    return this.#group(this.#existing(bdf));
  }

  /** BDFs of the devices in IOMMU group `group` (sorted); empty when the group does not exist. */
  groupDevices(group: number): string[] {
    if (!Number.isSafeInteger(group) || group < 0) throw new RangeError(`IOMMU group must be a non-negative integer, got ${String(group)}`);
    const names = listDir(join(this.root, 'kernel', 'iommu_groups', String(group), 'devices')) ?? [];
    return names.filter((n) => isBdf(n)).map((n) => normalizeBdf(n));
  }

  /** Name of the driver bound to a device, or null. ERR_BAD_BDF / ENOENT. */
  driverOf(bdf: string): string | null {
    return readLinkName(this.#devicePath(this.#existing(bdf), 'driver'));
  }

  /**
   * The device's configuration space as this user may read it: 4096 bytes (PCIe) or 256 as root, only
   * the first 64 bytes (the header) otherwise — the kernel hides the rest from unprivileged readers.
   */
  readConfig(bdf: string): Uint8Array {
    const b = this.#existing(bdf);
    return readBytes(this.#devicePath(b, 'config'), PCI_CFG_SPACE_EXP_SIZE) ?? new Uint8Array(0);
  }

  /** The implemented BARs and ROM from the `resource` file (empty when absent). ERR_BAD_BDF / ENOENT. */
  resources(bdf: string): PciResource[] {
    return parseResources(readText(this.#devicePath(this.#existing(bdf), 'resource'), SYSFS_ATTR_MAX) ?? '');
  }

  /** True when the vfio-pci driver is registered (module loaded or built in). */
  vfioPciLoaded(): boolean {
    return existsSync(join(this.root, 'bus', 'pci', 'drivers', VFIO_PCI_DRIVER));
  }

  /**
   * Binds one function to vfio-pci the way Documentation/driver-api/vfio.rst describes: set
   * driver_override so only vfio-pci may claim it, unbind the current driver, then ask the bus to
   * probe. Returns the previous driver (null: was unbound) so `restore` can undo it. Already bound to
   * vfio-pci: changes nothing and returns 'vfio-pci'. Whether the probe succeeded shows in `driverOf`.
   * Throws ERR_BAD_BDF, ENOENT, ENODEV (vfio-pci not loaded), or the write's errno (EACCES: not root).
   */
  bindVfio(bdf: string): string | null {
    const b = this.#existing(bdf);
    const previous = this.driverOf(b);
    if (isVfioDriver(previous)) return previous;
    if (!this.vfioPciLoaded()) {
      throw new DdkError('ENODEV', `the vfio-pci driver is not loaded: run \`modprobe vfio-pci\` (as root), then retry`);
    }
    this.#write(['bus', 'pci', 'devices', b, 'driver_override'], VFIO_PCI_DRIVER);
    if (previous !== null) this.#write(['bus', 'pci', 'devices', b, 'driver', 'unbind'], b);
    this.#write(['bus', 'pci', 'drivers_probe'], b);
    return previous;
  }

  /** Unbinds a device from whatever driver has it; returns that driver (null: nothing to do). */
  unbind(bdf: string): string | null {
    const b = this.#existing(bdf);
    const current = this.driverOf(b);
    if (current !== null) this.#write(['bus', 'pci', 'devices', b, 'driver', 'unbind'], b);
    return current;
  }

  /**
   * Undoes `bindVfio`: clears driver_override, unbinds from the current driver and re-probes, so the
   * kernel picks the driver its ID tables choose; when that is not `previousDriver` and that driver
   * exists, binds it explicitly. `previousDriver` null (unknown or was unbound): the probe decides.
   * Returns the driver bound afterwards (null: none).
   */
  restore(bdf: string, previousDriver: string | null): string | null {
    const b = this.#existing(bdf);
    if (previousDriver !== null && (typeof previousDriver !== 'string' || !DRIVER_NAME.test(previousDriver))) {
      throw new DdkError('EINVAL', `bad driver name ${JSON.stringify(previousDriver)}: expected a name from /sys/bus/pci/drivers`);
    }
    // A lone newline clears driver_override (drivers/base/driver.c driver_set_override).
    this.#write(['bus', 'pci', 'devices', b, 'driver_override'], '\n');
    if (this.driverOf(b) !== null) this.#write(['bus', 'pci', 'devices', b, 'driver', 'unbind'], b);
    this.#write(['bus', 'pci', 'drivers_probe'], b);
    const now = this.driverOf(b);
    if (previousDriver !== null && now === null && existsSync(join(this.root, 'bus', 'pci', 'drivers', previousDriver, 'bind'))) {
      this.#write(['bus', 'pci', 'drivers', previousDriver, 'bind'], b);
      return this.driverOf(b);
    }
    return now;
  }

  /**
   * Binds every function of `bdf`'s IOMMU group that would keep the group from being viable or is
   * unbound (bridges under pcieport/pci-stub are left alone: they keep the group viable), so the group
   * can be opened. Returns what changed, in order; on a failure, undoes what it did and rethrows.
   * Throws ENODEV when the device has no IOMMU group.
   */
  bindGroup(bdf: string): BindingChange[] {
    const b = this.#existing(bdf);
    const group = this.#group(b);
    if (group === null) {
      throw new DdkError('ENODEV', `${b} has no IOMMU group: enable the IOMMU (see \`vfio-ddk doctor\`)`);
    }
    const changes: BindingChange[] = [];
    try {
      for (const member of this.groupDevices(group)) {
        const driver = this.driverOf(member);
        if (isVfioDriver(driver) || (driver !== null && keepsGroupViable(driver))) continue;
        changes.push({ bdf: member, previousDriver: this.bindVfio(member) });
      }
    } catch (err) {
      for (const c of changes.reverse()) {
        try { this.restore(c.bdf, c.previousDriver); } catch { /* best effort: the original error matters */ }
      }
      throw err;
    }
    return changes;
  }
}
