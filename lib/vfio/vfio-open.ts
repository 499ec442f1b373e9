/**
 * Getting a VFIO device fd for a BDF, with every precondition checked in the order a user fixes them
 * (spec/pci-vfio.md C.5): BDF syntax → device exists → IOMMU group → bound to vfio-pci → group
 * viable → /dev/vfio → container (API version, TYPE1v2) → group fd (VIABLE) → SET_CONTAINER →
 * SET_IOMMU(TYPE1v2) → GET_DEVICE_FD. The iommufd/cdev flow replaces the container steps when the
 * kernel has /dev/iommu and /dev/vfio/devices (Linux ≥ 6.6) and the caller did not ask for type1.
 * On failure every fd opened so far is closed again.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeAddon } from '../native/addon-types.ts';
import { VFIO_API_VERSION, VFIO_TYPE1v2_IOMMU } from '../native/vfio-uapi.ts';
import { normalizeBdf } from './bdf.ts';
import { Sysfs } from './sysfs.ts';
import { groupBlockers, isVfioDriver } from './sysfs-viability.ts';
import type { PciFunctionInfo } from './sysfs.ts';
import {
  accessError, busyError, errnoCode, groupNotViableError, interruptRemappingError, noIommuGroupError, noType1Error,
  notBoundError, noVfioError,
} from './vfio-diagnostics.ts';
import { IommufdIoas, Type1Iommu } from './vfio-iommu.ts';
import type { VfioIommu } from './vfio-iommu.ts';
import { DdkError } from '../errors.ts';

export type VfioIommuChoice = 'auto' | 'type1' | 'iommufd';

export interface VfioOpenEnvironment {
  readonly addon: NativeAddon;
  readonly sysfs: Sysfs;
  /** Where the VFIO character devices are (default /dev/vfio). */
  readonly vfioDir: string;
  /** The iommufd character device (default /dev/iommu). */
  readonly iommuPath: string;
  readonly iommu: VfioIommuChoice;
}

export interface OpenedVfio {
  readonly bdf: string;
  readonly info: PciFunctionInfo;
  readonly group: number;
  readonly deviceFd: number;
  /** The group fd (type1 flow) or null (cdev flow). */
  readonly groupFd: number | null;
  readonly iommu: VfioIommu;
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

/** The device's VFIO cdev (/sys/bus/pci/devices/<bdf>/vfio-dev/vfioN), or null. */
function cdevName(sysfs: Sysfs, bdf: string): string | null {
  const dir = join(sysfs.root, 'bus', 'pci', 'devices', bdf, 'vfio-dev');
  if (!existsSync(dir)) return null;
  return readdirSync(dir).find((n) => /^vfio\d+$/.test(n)) ?? null;
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

  const cdev = cdevName(env.sysfs, bdf);
  const useIommufd = env.iommu === 'iommufd'
    || (env.iommu === 'auto' && cdev !== null && existsSync(env.iommuPath) && existsSync(join(env.vfioDir, 'devices')));
  if (useIommufd) {
    if (cdev === null) throw new DdkError('ENOTSUP', `${bdf} has no VFIO device cdev (kernel without VFIO_DEVICE_CDEV / IOMMUFD, Linux ≥ 6.6): use the type1 path`);
    return openCdev(bdf, info, group, join(env.vfioDir, 'devices', cdev), env);
  }
  return openType1(bdf, info, group, env);
}

function openType1(bdf: string, info: PciFunctionInfo, group: number, env: VfioOpenEnvironment): OpenedVfio {
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
      if (code === 'EBUSY') throw busyError(bdf, group, error);
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
      throw errnoCode(error) === 'EBUSY' ? busyError(bdf, group, error) : error;
    }
    return { bdf, info, group, deviceFd, groupFd, iommu };
  } catch (error) {
    closeAll(addon, fds);
    throw error;
  }
}

function openCdev(bdf: string, info: PciFunctionInfo, group: number, cdevPath: string, env: VfioOpenEnvironment): OpenedVfio {
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
      if (code === 'EBUSY') throw busyError(bdf, group, error);
      throw error;
    }
    fds.push(deviceFd);
    addon.vfioDeviceBindIommufd(deviceFd, iommufd);
    const ioas = addon.iommufdIoasAlloc(iommufd);
    addon.vfioDeviceAttachIommufdPt(deviceFd, ioas);
    return { bdf, info, group, deviceFd, groupFd: null, iommu: new IommufdIoas(addon, iommufd, ioas) };
  } catch (error) {
    closeAll(addon, fds);
    throw error;
  }
}

/** Defaults for the real machine. */
export function defaultEnvironment(addon: NativeAddon, overrides: Partial<VfioOpenEnvironment> = {}): VfioOpenEnvironment {
  return {
    addon,
    sysfs: overrides.sysfs ?? new Sysfs(),
    vfioDir: overrides.vfioDir ?? '/dev/vfio',
    iommuPath: overrides.iommuPath ?? '/dev/iommu',
    iommu: overrides.iommu ?? 'auto',
  };
}
