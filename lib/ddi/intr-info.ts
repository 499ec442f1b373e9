/**
 * ddi_intr_get_supported_types, ddi_intr_get_nintrs, ddi_intr_get_navail (spec/ddi.md B.3), in the
 * check order given there. A NULL out-pointer (null) is DDI_EINVAL, as the C argument checks do.
 */
import {
  DDI_EINVAL, DDI_FAILURE, DDI_INTR_NOTFOUND, DDI_SUCCESS,
} from './constants.ts';
import { isDevInfo, type DevInfo, type dev_info_t } from './dev-info.ts';
import { isOneType, isOut, type Out } from './args.ts';
import { navailFor, probeNintrs, probeSupportedTypes } from './nexus-probe.ts';

/** Supported type bits (cached once non-zero), or 0 when the nexus finds none / cannot read. */
export function supportedTypesOf(dip: DevInfo): number {
  if (dip.supportedTypes !== 0) return dip.supportedTypes;
  try {
    dip.supportedTypes = probeSupportedTypes(dip.device.config);
  } catch {
    return 0;
  }
  return dip.supportedTypes;
}

/** nintrs for `type` (cached for the current type), or 0 when the nexus cannot tell. */
export function nintrsOf(dip: DevInfo, type: number): number {
  if (dip.currentType === type && dip.currentNintrs > 0) return dip.currentNintrs;
  try {
    return probeNintrs(dip.device.config, type);
  } catch {
    return 0;
  }
}

/** The shared EINVAL rules of get_nintrs / get_navail: valid dip and out, exactly one supported type. */
function typeArgsValid(dip: unknown, type: unknown, n: unknown): dip is DevInfo {
  if (!isDevInfo(dip) || !isOut(n) || !isOneType(type)) return false;
  return (supportedTypesOf(dip) & type) !== 0;
}

export function ddi_intr_get_supported_types(dip: dev_info_t | null, types: Out<number> | null): number {
  if (!isDevInfo(dip) || !isOut(types)) return DDI_EINVAL;
  const supported = supportedTypesOf(dip);
  if (supported === 0) return DDI_INTR_NOTFOUND;
  types.value = supported;
  return DDI_SUCCESS;
}

export function ddi_intr_get_nintrs(dip: dev_info_t | null, type: number, n: Out<number> | null): number {
  if (!typeArgsValid(dip, type, n)) return DDI_EINVAL;
  const count = nintrsOf(dip, type);
  if (count === 0) return DDI_FAILURE;
  (n as Out<number>).value = count;
  return DDI_SUCCESS;
}

/** navail: the policy of DevInfo.limits applied to nintrs; 0 → DDI_INTR_NOTFOUND (B.3). */
export function ddi_intr_get_navail(dip: dev_info_t | null, type: number, n: Out<number> | null): number {
  if (!typeArgsValid(dip, type, n)) return DDI_EINVAL;
  const avail = navailFor(dip, type, nintrsOf(dip, type));
  if (avail === 0) return DDI_INTR_NOTFOUND;
  (n as Out<number>).value = avail;
  return DDI_SUCCESS;
}
