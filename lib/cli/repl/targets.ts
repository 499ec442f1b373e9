/**
 * What `vfio-ddk repl [target]` opens: an emulated model (emu:edu, emu:nvme, emu:test — lib/emu,
 * nothing to install, no root) or a PCI function bound to vfio-pci by BDF. The target is checked
 * before anything is opened: an unknown emu: name is a UsageError, a malformed BDF ERR_BAD_BDF (both
 * exit 2); a function not bound to vfio-pci fails with the `vfio-ddk bind` command to run.
 */
import { join } from 'node:path';
import { DdkError } from '../../errors.ts';
import { createEduDevice } from '../../emu/edu.ts';
import { createNvmeDevice } from '../../emu/nvme.ts';
import { createTestDevice } from '../../emu/test-device.ts';
import type { PciDevice } from '../../pci/device.ts';
import { normalizeBdf } from '../../vfio/bdf.ts';
import { isVfioDriver } from '../../vfio/sysfs-viability.ts';
import { notBoundError } from '../../vfio/vfio-diagnostics.ts';
import type { CliContext } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

export const DEFAULT_TARGET = 'emu:edu';

/** The emulated models; the test device with INTx, 4 MSI and 8 MSI-X vectors so every kind can be tried. */
export const EMULATED_TARGETS: Readonly<Record<string, () => PciDevice>> = {
  'emu:edu': () => createEduDevice(),
  'emu:nvme': () => createNvmeDevice(),
  'emu:test': () => createTestDevice({ intx: true, msi: { vectors: 4 }, msix: { vectors: 8 } }),
};

export type DeviceOpen = () => Promise<PciDevice>;

/** Validates `target` and returns how to open it (nothing is opened yet). */
export function resolveTarget(ctx: CliContext, target: string, emulated = EMULATED_TARGETS): { name: string; open: DeviceOpen } {
  if (target.startsWith('emu:')) {
    const create = Object.hasOwn(emulated, target) ? emulated[target] : undefined;
    if (create === undefined) throw new UsageError(`unknown emulated device ${JSON.stringify(target)}: expected ${Object.keys(emulated).join(', ')} or a BDF`);
    return { name: target, open: async () => create() };
  }
  const bdf = normalizeBdf(target);
  return {
    name: bdf,
    open: async () => {
      const fn = ctx.sysfs.device(bdf);
      if (!isVfioDriver(fn.driver)) throw notBoundError(bdf, fn.driver);
      const vfio = await ctx.importVfio();
      const open = vfio['openVfioDevice'];
      if (typeof open !== 'function') throw new DdkError('ENOTSUP', 'this build has no openVfioDevice (vfio-ddk/vfio): update vfio-ddk');
      return (open as (b: string, o: object) => PciDevice)(bdf, { sysfs: ctx.sysfs, vfioDir: join(ctx.devRoot, 'vfio') });
    },
  };
}
