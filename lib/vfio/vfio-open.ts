/**
 * Getting a VFIO device fd for a BDF, with every precondition checked in the order a user fixes them
 * (spec/pci-vfio.md C.5): BDF syntax → device exists → IOMMU group → bound to vfio-pci → group
 * viable → /dev/vfio → container (API version, TYPE1v2) → group fd (VIABLE) → SET_CONTAINER →
 * SET_IOMMU(TYPE1v2) → GET_DEVICE_FD. The iommufd/cdev flow (open cdev → BIND_IOMMUFD → IOAS_ALLOC →
 * ATTACH_IOMMUFD_PT) replaces the container steps when vfio-iommu-choice.ts says so: the kernel has
 * the device's cdev and /dev/iommu (Linux ≥ 6.6), and neither the option nor VFIO_DDK_IOMMU forces
 * type1. On failure every fd opened so far is closed again.
 */
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeAddon } from '../native/addon-types.ts';
import { VFIO_API_VERSION, VFIO_TYPE1v2_IOMMU } from '../native/vfio-uapi.ts';
import { normalizeBdf } from './bdf.ts';
import { Sysfs } from './sysfs.ts';
import { groupBlockers, isVfioDriver } from './sysfs-viability.ts';
import type { PciFunctionInfo } from './sysfs.ts';
import {
  accessError, busyError, groupNotViableError, interruptRemappingError, noIommuGroupError, noType1Error,
  notBoundError, noVfioError,
} from './vfio-diagnostics.ts';
import { IommufdIoas, Type1Iommu } from './vfio-iommu.ts';
import type { VfioIommu } from './vfio-iommu.ts';
import { decideIommuPath, iommuChoiceFromEnv } from './vfio-iommu-choice.ts';
import type { IommuChoiceSource, IommuPathDecision, VfioIommuChoice } from './vfio-iommu-choice.ts';
import { DdkError, errnoCode } from '../errors.ts';

export type { VfioIommuChoice } from './vfio-iommu-choice.ts';

export interface VfioOpenEnvironment {
  readonly addon: NativeAddon;
  readonly sysfs: Sysfs;
  /** Where the VFIO character devices are (default /dev/vfio). */
  readonly vfioDir: string;
  /** The iommufd character device (default /dev/iommu). */
  readonly iommuPath: string;
  readonly iommu: VfioIommuChoice;
  /** Where `iommu` came from: the open option, VFIO_DDK_IOMMU, or neither (default 'default'). */
  readonly iommuSource?: IommuChoiceSource;
}

export interface OpenedVfio {
  readonly bdf: string;
  readonly info: PciFunctionInfo;
  readonly group: number;
  readonly deviceFd: number;
  /** The group fd (type1 flow) or null (cdev flow). */
  readonly groupFd: number | null;
  readonly iommu: VfioIommu;
  /** Why this IOMMU path was taken (vfio-iommu-choice.ts). */
  readonly iommuReason: string;
}

/** Closes fds in reverse order of opening, ignoring errors (used on failure paths). */
function closeAll(addon: NativeAddon, fds: number[]): void {
  for (const fd of fds.reverse()) {
    try {
      addon.close(fd);
    } catch {
      /* already closed */
    }
  }
}

function memberInfos(sysfs: Sysfs, group: number): PciFunctionInfo[] {
  return sysfs.groupDevices(group).map((b) => sysfs.device(b));
}

/**
 * How many fds of this process are open on `path` (/proc/self/fd links): tells "already open in this
 * process" from "open in another one" when the kernel says only EBUSY / EINVAL.
 */
export function fdsOpenOn(path: string, procSelfFd = '/proc/self/fd'): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(procSelfFd);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      if (readlinkSync(join(procSelfFd, name)) === path) n += 1;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

/** The IOMMU path `openVfio` takes for `bdf` in `env`, and why. */
export function iommuPathFor(bdf: string, env: VfioOpenEnvironment): IommuPathDecision {
  return decideIommuPath(bdf, {
    sysfsRoot: env.sysfs.root, vfioDir: env.vfioDir, iommuPath: env.iommuPath, choice: env.iommu, source: env.iommuSource ?? 'option',
  });
}

/** Checks sysfs facts and opens the device; throws the diagnostics of vfio-diagnostics.ts. */
export function openVfio(bdfInput: string, env: VfioOpenEnvironment): OpenedVfio {
  const bdf = normalizeBdf(bdfInput);
  const info = env.sysfs.device(bdf);
  if (info.iommuGroup === null) throw noIommuGroupError(bdf);
  const group = info.iommuGroup;
  if (!isVfioDriver(info.driver)) throw notBoundError(bdf, info.driver);
  const blockers = groupBlockers(memberInfos(env.sysfs, group).filter((m) => m.bdf !== bdf));
  if (blockers.length > 0) throw groupNotViableError(bdf, group, blockers);

  const path = iommuPathFor(bdf, env);
  if (path.kind === 'iommufd') {
    if (path.cdevPath === null || path.unavailable !== null) {
      throw new DdkError('ENOTSUP', `${bdf}: ${path.unavailable ?? 'no VFIO device cdev'} (${path.reason}): use the type1 path (VFIO_DDK_IOMMU=type1 or iommu: 'type1')`);
    }
    return openCdev(bdf, info, group, path.cdevPath, env, path.reason);
  }
  return openType1(bdf, info, group, env, path.reason);
}

function openType1(bdf: string, info: PciFunctionInfo, group: number, env: VfioOpenEnvironment, iommuReason: string): OpenedVfio {
  const { addon } = env;
  const containerPath = join(env.vfioDir, 'vfio');
  if (!existsSync(containerPath)) throw noVfioError(containerPath);
  const groupPath = join(env.vfioDir, String(group));
  const fds: number[] = [];
  try {
    let container: number;
    try {
      container = addon.vfioOpenContainer(containerPath);
    } catch (error) {
      throw errnoCode(error) === 'EACCES' || errnoCode(error) === 'EPERM' ? accessError(containerPath, error) : error;
    }
    fds.push(container);
    const version = addon.vfioGetApiVersion(container);
    if (version !== VFIO_API_VERSION) throw new DdkError('ENOTSUP', `${containerPath} speaks VFIO API version ${version}, this library ${VFIO_API_VERSION}`);
    if (addon.vfioCheckExtension(container, VFIO_TYPE1v2_IOMMU) === 0) throw noType1Error();

    let groupFd: number;
    try {
      groupFd = addon.vfioOpenGroup(group, env.vfioDir);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EACCES' || code === 'EPERM') throw accessError(groupPath, error);
      if (code === 'EBUSY') throw busyError(bdf, group, error, fdsOpenOn(groupPath) > 0);
      if (code === 'ENOENT') {
        throw new DdkError('ERR_NO_VFIO', `${groupPath} does not exist although ${bdf} is bound to vfio-pci: ` +
          'the device node was not created (devtmpfs not mounted on /dev, or a udev rule removed it)', { cause: error });
      }
      throw error;
    }
    fds.push(groupFd);
    if (!addon.vfioGroupGetStatus(groupFd).viable) {
      throw groupNotViableError(bdf, group, groupBlockers(memberInfos(env.sysfs, group)));
    }
    addon.vfioGroupSetContainer(groupFd, container);
    try {
      addon.vfioSetIommu(container, VFIO_TYPE1v2_IOMMU);
    } catch (error) {
      throw errnoCode(error) === 'EPERM' ? interruptRemappingError(error) : error;
    }
    const iommu = new Type1Iommu(addon, container);
    let deviceFd: number;
    try {
      deviceFd = addon.vfioGroupGetDeviceFd(groupFd, bdf);
    } catch (error) {
      throw errnoCode(error) === 'EBUSY' ? busyError(bdf, group, error, null) : error;
    }
    return { bdf, info, group, deviceFd, groupFd, iommu, iommuReason };
  } catch (error) {
    closeAll(addon, fds);
    throw error;
  }
}

function openCdev(bdf: string, info: PciFunctionInfo, group: number, cdevPath: string, env: VfioOpenEnvironment, iommuReason: string): OpenedVfio {
  const { addon } = env;
  const fds: number[] = [];
  try {
    const iommufd = addon.iommufdOpen(env.iommuPath);
    fds.push(iommufd);
    let deviceFd: number;
    try {
      deviceFd = addon.vfioCdevOpen(cdevPath);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EACCES' || code === 'EPERM') throw accessError(cdevPath, error);
      if (code === 'EBUSY') throw busyError(bdf, group, error, fdsOpenOn(cdevPath) > 0);
      throw error;
    }
    fds.push(deviceFd);
    try {
      addon.vfioDeviceBindIommufd(deviceFd, iommufd);
    } catch (error) {
      // The cdev opens any number of times; the bind is what refuses a second user:
      // EINVAL when the device is already open through another cdev fd (vfio_df_open: "the device
      // cdev path doesn't have a secure way" to share), EBUSY when its group is open
      // (vfio_device_block_group), both in drivers/vfio/device_cdev.c vfio_df_ioctl_bind_iommufd.
      const code = errnoCode(error);
      if (code === 'EINVAL' || code === 'EBUSY') throw busyError(bdf, group, error, fdsOpenOn(cdevPath) > 1 || fdsOpenOn(join(env.vfioDir, String(group))) > 0);
      throw error;
    }
    const ioas = addon.iommufdIoasAlloc(iommufd);
    addon.vfioDeviceAttachIommufdPt(deviceFd, ioas);
    return { bdf, info, group, deviceFd, groupFd: null, iommu: new IommufdIoas(addon, iommufd, ioas), iommuReason };
  } catch (error) {
    closeAll(addon, fds);
    throw error;
  }
}

/** Defaults for the real machine. */
export function defaultEnvironment(addon: NativeAddon, overrides: Partial<VfioOpenEnvironment> = {}): VfioOpenEnvironment {
  // The option wins over VFIO_DDK_IOMMU, which wins over the automatic choice.
  const fromEnv = overrides.iommu === undefined ? iommuChoiceFromEnv() : 'auto';
  return {
    addon,
    sysfs: overrides.sysfs ?? new Sysfs(),
    vfioDir: overrides.vfioDir ?? '/dev/vfio',
    iommuPath: overrides.iommuPath ?? '/dev/iommu',
    iommu: overrides.iommu ?? fromEnv,
    iommuSource: overrides.iommu !== undefined ? 'option' : fromEnv === 'auto' ? 'default' : 'env',
  };
}
