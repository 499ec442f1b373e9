/**
 * Where the demo's edu comes from: the emulated one (lib/emu, nothing to install, no root) or a real
 * one through VFIO (`--device <bdf>`). For a real one, sysfs is checked first — an edu, bound to
 * vfio-pci — so the common mistakes get their fix before the native addon is even loaded.
 */
import { join } from 'node:path';
import { DdkError } from '../errors.ts';
import { createEduDevice } from '../emu/edu.ts';
import { buildCommand } from '../native/loader.ts';
import type { PciDevice } from '../pci/device.ts';
import { EDU_DEVICE_ID, EDU_VENDOR_ID } from '../pci/edu-regs.ts';
import { normalizeBdf } from '../vfio/bdf.ts';
import { isVfioDriver } from '../vfio/sysfs-viability.ts';
import { notBoundError } from '../vfio/vfio-diagnostics.ts';
import type { CliContext } from './context.ts';
import type { OpenedDemoDevice } from './demo-session.ts';

export type DeviceOpener = () => Promise<OpenedDemoDevice>;

/** The register-exact QEMU edu model (lib/emu/edu.ts). */
export const openEmulatedEdu: DeviceOpener = async () => {
  const device = createEduDevice();
  return { device, layer: 'emu', description: `the emulated edu at ${device.bdf}` };
};

/**
 * Validates `input` and checks sysfs: the function exists (else ENOENT), is an edu (else ENODEV) and
 * is bound to vfio-pci (else ERR_NOT_VFIO naming `vfio-ddk bind <bdf>`). A malformed BDF throws
 * ERR_BAD_BDF before anything is read. Returns the canonical BDF.
 */
export function checkVfioEdu(ctx: CliContext, input: string): string {
  const bdf = normalizeBdf(input);
  const fn = ctx.sysfs.device(bdf);
  if (fn.vendorId !== EDU_VENDOR_ID || fn.deviceId !== EDU_DEVICE_ID) {
    const ids = `${fn.vendorId.toString(16).padStart(4, '0')}:${fn.deviceId.toString(16).padStart(4, '0')}`;
    throw new DdkError('ENODEV', `${bdf} is ${ids}, not a QEMU edu (1234:11e8): the demo drives edu; run \`vfio-ddk demo\` without --device for the emulated one`);
  }
  if (!isVfioDriver(fn.driver)) throw notBoundError(bdf, fn.driver);
  return bdf;
}

/** Opens `bdf` with openVfioDevice from lib/vfio (loaded through the context, like `info` does). */
export function vfioEduOpener(ctx: CliContext, bdf: string): DeviceOpener {
  return async () => {
    const vfio = await ctx.importVfio();
    const open = vfio['openVfioDevice'];
    if (typeof open !== 'function') throw new DdkError('ENOTSUP', 'this build has no openVfioDevice (vfio-ddk/vfio): update vfio-ddk');
    const device = (open as (b: string, o: object) => PciDevice)(bdf, { sysfs: ctx.sysfs, vfioDir: join(ctx.devRoot, 'vfio') });
    return { device, layer: 'vfio', description: `${bdf} through VFIO` };
  };
}

/** What to do when opening failed: the addon errors name their fix, the rest point at doctor. */
export function openHint(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  // `npm rebuild vfio-ddk` from a user's project, `npm run build:native` in a checkout (loader.ts).
  if (code === 'ERR_ADDON_MISSING' || code === 'ERR_ADDON_LOAD') return `build the native addon: install cmake and g++, then \`${buildCommand()}\``;
  if (code === 'EACCES' || code === 'EPERM') return 'run as root, or give your user /dev/vfio/<group> and a memlock limit for DMA';
  return 'check the device and the host with `vfio-ddk doctor <bdf>` and `vfio-ddk info <bdf>`';
}
