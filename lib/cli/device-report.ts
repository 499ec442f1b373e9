/**
 * What `list` and `info` say about a function: sysfs facts, names, interrupt capabilities from its
 * config bytes, and VFIO readiness judged against its IOMMU group. A value sysfs cannot hold (a
 * vendor ID above 0xffff, a numa_node of 8.6e22) is reported as unreadable, not shown; a function
 * whose attributes cannot be read at all is listed apart (`readBus`), so one bad device does not
 * hide the others.
 */
import { join } from 'node:path';
import { isBdf, normalizeBdf } from '../vfio/bdf.ts';
import type { PciIds } from '../vfio/pci-ids.ts';
import { interruptCapabilities } from '../vfio/sysfs-config.ts';
import { listDir } from '../vfio/sysfs-files.ts';
import type { InterruptCapabilities } from '../vfio/sysfs-config.ts';
import { vfioReadiness } from '../vfio/sysfs-viability.ts';
import type { ReadinessVerdict } from '../vfio/sysfs-viability.ts';
import type { PciFunctionInfo, Sysfs } from '../vfio/sysfs.ts';
import { hex } from './output.ts';

export interface DeviceReport extends PciFunctionInfo {
  /** "1234:11e8" */
  readonly ids: string;
  readonly vendorName: string | null;
  readonly deviceName: string | null;
  readonly className: string | null;
  readonly interrupts: InterruptCapabilities;
  readonly vfio: ReadinessVerdict;
  /** sysfs attributes whose value is out of range for its field (shown as unreadable; irq/numaNode then null). */
  readonly unreadable: readonly string[];
  /** Why the config file could not be read, or null. */
  readonly configError: string | null;
}

/** A function on the bus whose sysfs attributes could not be read. */
export interface UnreadableFunction {
  readonly bdf: string;
  readonly code: string | null;
  readonly error: string;
}

/** `bdf` could not be read because of `err`. */
export function unreadableFunction(bdf: string, err: unknown): UnreadableFunction {
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : null;
  return { bdf, code, error: err instanceof Error ? err.message : String(err) };
}

/** Largest value each numeric attribute can hold (PCI 3.0 §6.2.1 field widths; irq is a u32, numa_node an int). */
const ATTRIBUTE_LIMITS = [
  ['vendor', 'vendorId', 0xffff], ['device', 'deviceId', 0xffff], ['class', 'classCode', 0xffffff], ['revision', 'revision', 0xff],
  ['subsystem_vendor', 'subsystemVendorId', 0xffff], ['subsystem_device', 'subsystemId', 0xffff],
  ['numa_node', 'numaNode', 0x7fffffff], ['irq', 'irq', 0xffffffff],
] as const;

/** The attributes of `f` that hold no valid value. */
export function unreadableAttributes(f: PciFunctionInfo): string[] {
  return ATTRIBUTE_LIMITS.filter(([, field, max]) => {
    const value = f[field];
    return value !== null && !(Number.isInteger(value) && value >= 0 && value <= max);
  }).map(([attr]) => attr);
}

/** `hex(value, width)`, or "?" × width for an unreadable attribute. */
export function shownHex(r: DeviceReport, attr: string, value: number, width: number): string {
  return r.unreadable.includes(attr) ? '?'.repeat(width) : hex(value, width);
}

/** Every function under bus/pci/devices, each read on its own: the ones that fail are returned apart. */
export function readBus(sysfs: Sysfs): { functions: PciFunctionInfo[]; unreadable: UnreadableFunction[] } {
  const names = (listDir(join(sysfs.root, 'bus', 'pci', 'devices')) ?? []).filter((n) => isBdf(n) && normalizeBdf(n) === n);
  const functions: PciFunctionInfo[] = [];
  const unreadable: UnreadableFunction[] = [];
  for (const bdf of names) {
    try {
      functions.push(sysfs.device(bdf));
    } catch (err) {
      unreadable.push(unreadableFunction(bdf, err));
    }
  }
  return { functions, unreadable };
}

function configOf(sysfs: Sysfs, bdf: string): { bytes: Uint8Array; error: string | null } {
  try {
    return { bytes: sysfs.readConfig(bdf), error: null };
  } catch (err) {
    return { bytes: new Uint8Array(0), error: err instanceof Error ? err.message : String(err) };
  }
}

/** Builds reports for `functions`; `all` is every function on the bus (to judge groups without re-reading). */
export function deviceReports(sysfs: Sysfs, ids: PciIds, functions: readonly PciFunctionInfo[], all: readonly PciFunctionInfo[]): DeviceReport[] {
  const byGroup = new Map<number, PciFunctionInfo[]>();
  for (const f of all) {
    if (f.iommuGroup === null) continue;
    const list = byGroup.get(f.iommuGroup) ?? [];
    list.push(f);
    byGroup.set(f.iommuGroup, list);
  }
  return functions.map((f) => {
    const unreadable = unreadableAttributes(f);
    const bad = (attr: string): boolean => unreadable.includes(attr);
    const config = configOf(sysfs, f.bdf);
    return {
      ...f,
      numaNode: bad('numa_node') ? null : f.numaNode,
      irq: bad('irq') ? null : f.irq,
      ids: `${bad('vendor') ? '????' : hex(f.vendorId, 4)}:${bad('device') ? '????' : hex(f.deviceId, 4)}`,
      vendorName: bad('vendor') ? null : ids.vendorName(f.vendorId),
      deviceName: bad('vendor') || bad('device') ? null : ids.deviceName(f.vendorId, f.deviceId),
      className: bad('class') ? null : ids.className(f.classCode),
      interrupts: interruptCapabilities(config.bytes),
      vfio: vfioReadiness(f, f.iommuGroup === null ? [] : membersOf(sysfs, f.iommuGroup, byGroup)),
      unreadable,
      configError: config.error,
    };
  });
}

/** Members of a group: from the bus listing, plus any the group directory names that it missed. */
function membersOf(sysfs: Sysfs, group: number, byGroup: Map<number, PciFunctionInfo[]>): PciFunctionInfo[] {
  const known = byGroup.get(group) ?? [];
  const extra = sysfs.groupDevices(group).filter((b) => !known.some((k) => k.bdf === b) && sysfs.has(b));
  return [...known, ...extra.map((b) => sysfs.device(b))];
}
