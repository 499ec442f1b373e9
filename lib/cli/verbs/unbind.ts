/**
 * `vfio-ddk unbind <bdf>`: gives a function bound to vfio-pci back to the driver it had before `bind`
 * (or to `--to DRIVER`, or to whatever the kernel probes when nothing was remembered): clears
 * driver_override, unbinds from vfio-pci, re-probes. `--group` does it for every vfio-pci member of
 * the IOMMU group. A device left driverless with driver_override=vfio-pci (a failed probe) counts
 * as bound: unbind restores it from the remembered driver.
 */
import { DdkError } from '../../errors.ts';
import { normalizeBdf } from '../../vfio/bdf.ts';
import { isVfioDriver } from '../../vfio/sysfs-viability.ts';
import { withBindState } from '../bind-state.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.ts';
import type { Verb } from '../verb.ts';

const DRIVER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

export const unbindVerb: Verb = {
  spec: {
    name: 'unbind',
    summary: 'Release a PCI function (or its IOMMU group with --group) from vfio-pci and restore its previous driver.',
    positionals: ['<bdf>'],
    options: {
      group: { type: 'boolean', description: 'release every vfio-pci function of the IOMMU group' },
      to: { type: 'string', valueName: 'DRIVER', description: 'bind this driver instead of the remembered one' },
    },
    details: 'Without a remembered driver (or --to) the kernel picks one by probing, as at boot.',
  },
  async run(args, ctx) {
    const bdf = normalizeBdf(args.positionals[0] ?? '');
    const to = args.values['to'];
    if (typeof to === 'string' && !DRIVER_NAME.test(to)) throw new UsageError(`--to: bad driver name ${JSON.stringify(to)}`);
    const device = ctx.sysfs.device(bdf);
    let targets = [bdf];
    if (args.values['group'] === true) {
      if (device.iommuGroup === null) throw new DdkError('ENODEV', `${bdf} has no IOMMU group`);
      targets = ctx.sysfs.groupDevices(device.iommuGroup).filter((m) => isVfioDriver(ctx.sysfs.driverOf(m))
        || (ctx.sysfs.driverOf(m) === null && isVfioDriver(ctx.sysfs.device(m).driverOverride)));
    }
    return withBindState(ctx.stateDir, (state, save) => {
      // A bind whose vfio-pci probe failed (before bind rolled back, or killed mid-way) leaves the
      // device driverless with driver_override=vfio-pci: still ours to restore, from what we remembered.
      const halfBound = device.driver === null && (state[bdf] !== undefined || isVfioDriver(device.driverOverride));
      if (!isVfioDriver(device.driver) && !halfBound && args.values['group'] !== true) {
        ctx.stderr(`vfio-ddk unbind: ${bdf} is not bound to vfio-pci (driver: ${device.driver ?? 'none'}); nothing to do\n`);
        return EXIT_FAILURE;
      }
      let status = EXIT_OK;
      let remembered = false;
      for (const t of targets) {
        const wanted = typeof to === 'string' ? to : (state[t]?.previousDriver ?? null);
        const before = ctx.sysfs.driverOf(t);
        const now = ctx.sysfs.restore(t, wanted);
        if (state[t] !== undefined) { delete state[t]; remembered = true; }
        if (wanted !== null && now !== wanted) {
          status = EXIT_FAILURE;
          ctx.stderr(`vfio-ddk unbind: ${t}: released from vfio-pci but ${wanted} did not claim it (driver now: ${now ?? 'none'}); see \`dmesg | tail\`\n`);
        } else {
          ctx.stdout(`${t}: ${before ?? '(no driver, driver_override vfio-pci)'} → ${now ?? '(no driver)'}\n`);
        }
      }
      if (remembered) save();
      return status;
    });
  },
};
