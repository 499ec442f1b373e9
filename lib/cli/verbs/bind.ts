/**
 * `vfio-ddk bind <bdf>`: hands a function to vfio-pci (driver_override + unbind + drivers_probe) and
 * remembers its previous driver. VFIO opens whole IOMMU groups, so when another member of the group is
 * bound to a driver that makes the group not viable, bind refuses and lists them — unless `--group`,
 * which binds every such member too.
 */
import { DdkError } from '../../errors.ts';
import { normalizeBdf } from '../../vfio/bdf.ts';
import { isVfioDriver, keepsGroupViable } from '../../vfio/sysfs-viability.ts';
import type { BindingChange } from '../../vfio/sysfs.ts';
import { loadBindState, saveBindState } from '../bind-state.ts';
import type { CliContext } from '../context.ts';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.ts';
import type { Verb } from '../verb.ts';

function record(ctx: CliContext, changes: readonly BindingChange[], group: number): void {
  if (changes.length === 0) return;
  const state = loadBindState(ctx.stateDir);
  const boundAt = new Date().toISOString();
  // Keep the first remembered driver if a device is bound twice (the second "previous" is vfio-pci).
  for (const c of changes) if (state[c.bdf] === undefined) state[c.bdf] = { previousDriver: c.previousDriver, iommuGroup: group, boundAt };
  saveBindState(ctx.stateDir, state);
}

/** Reports each change and checks the kernel really bound vfio-pci; false when one did not. */
function report(ctx: CliContext, changes: readonly BindingChange[], group: number): boolean {
  let allBound = true;
  for (const c of changes) {
    const now = ctx.sysfs.driverOf(c.bdf);
    if (isVfioDriver(now)) {
      ctx.stdout(`${c.bdf}: ${c.previousDriver ?? '(no driver)'} → ${now ?? ''} (group ${group}, /dev/vfio/${group})\n`);
    } else {
      allBound = false;
      ctx.stderr(`vfio-ddk bind: ${c.bdf}: vfio-pci did not claim it (driver now: ${now ?? 'none'}); see \`dmesg | tail\` and \`vfio-ddk doctor ${c.bdf}\`\n`);
    }
  }
  return allBound;
}

export const bindVerb: Verb = {
  spec: {
    name: 'bind',
    summary: 'Bind a PCI function (or its whole IOMMU group with --group) to vfio-pci, remembering the previous driver.',
    positionals: ['<bdf>'],
    options: {
      group: { type: 'boolean', description: 'also bind every other function of the IOMMU group that blocks it' },
    },
    details: 'Writes /sys/bus/pci/devices/<bdf>/driver_override, <bdf>/driver/unbind and /sys/bus/pci/drivers_probe\n'
      + '(root only). The previous driver is remembered in /run/vfio-ddk/bindings.json for `vfio-ddk unbind`.',
  },
  async run(args, ctx) {
    const bdf = normalizeBdf(args.positionals[0] ?? '');
    const device = ctx.sysfs.device(bdf);
    if (device.iommuGroup === null) {
      throw new DdkError('ENODEV', `${bdf} has no IOMMU group, so VFIO cannot open it: run \`vfio-ddk doctor\``);
    }
    const group = device.iommuGroup;
    const blockers = ctx.sysfs.groupDevices(group)
      .filter((m) => m !== bdf)
      .map((m) => ({ bdf: m, driver: ctx.sysfs.driverOf(m) }))
      .filter((m) => !keepsGroupViable(m.driver));
    const wholeGroup = args.values['group'] === true;
    if (blockers.length > 0 && !wholeGroup) {
      const already = isVfioDriver(device.driver) ? `${bdf} is bound to ${device.driver ?? ''}, but ` : '';
      ctx.stderr(`vfio-ddk bind: ${already}IOMMU group ${group} also holds devices bound to other drivers; VFIO can only use the group when they are released:\n`
        + blockers.map((m) => `  ${m.bdf}  ${m.driver ?? ''}\n`).join('')
        + `Bind them all with: vfio-ddk bind --group ${bdf}\n`);
      return EXIT_FAILURE;
    }
    if (isVfioDriver(device.driver) && blockers.length === 0) {
      ctx.stdout(`${bdf}: already bound to ${device.driver ?? ''} (group ${group})\n`);
      return EXIT_OK;
    }
    const changes: BindingChange[] = wholeGroup ? ctx.sysfs.bindGroup(bdf) : [{ bdf, previousDriver: ctx.sysfs.bindVfio(bdf) }];
    record(ctx, changes, group);
    return report(ctx, changes, group) ? EXIT_OK : EXIT_FAILURE;
  },
};
