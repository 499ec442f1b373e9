/**
 * `vfio-ddk bind <bdf>`: hands a function to vfio-pci (driver_override + unbind + drivers_probe) and
 * remembers its previous driver. VFIO opens whole IOMMU groups, so when another member of the group is
 * bound to a driver that makes the group not viable, bind refuses and lists them — unless `--group`,
 * which binds every such member too. A probe vfio-pci does not win is rolled back (every member back on
 * its previous driver, nothing remembered), exit 1.
 */
import { DdkError } from '../../errors.ts';
import { normalizeBdf } from '../../vfio/bdf.ts';
import { isVfioDriver, keepsGroupViable } from '../../vfio/sysfs-viability.ts';
import type { BindingChange } from '../../vfio/sysfs.ts';
import { withBindState } from '../bind-state.ts';
import type { CliContext } from '../context.ts';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.ts';
import type { Verb } from '../verb.ts';

/** The members `bindGroup` / `bindVfio` will hand to vfio-pci, with their current drivers. */
function planned(ctx: CliContext, bdf: string, group: number, wholeGroup: boolean): BindingChange[] {
  const members = wholeGroup ? ctx.sysfs.groupDevices(group) : [bdf];
  return members
    .map((m) => ({ bdf: m, previousDriver: ctx.sysfs.driverOf(m) }))
    // The same choice as Sysfs.bindGroup: unbound members, and members whose driver blocks the group.
    .filter((m) => !isVfioDriver(m.previousDriver) && (!wholeGroup || m.previousDriver === null || !keepsGroupViable(m.previousDriver)));
}

/** Reports each change and checks the kernel really bound vfio-pci; the ones it did not. */
function report(ctx: CliContext, changes: readonly BindingChange[], group: number): BindingChange[] {
  const failed: BindingChange[] = [];
  for (const c of changes) {
    const now = ctx.sysfs.driverOf(c.bdf);
    if (isVfioDriver(now)) {
      ctx.stdout(`${c.bdf}: ${c.previousDriver ?? '(no driver)'} → ${now ?? ''} (group ${group}, /dev/vfio/${group})\n`);
    } else {
      failed.push(c);
      ctx.stderr(`vfio-ddk bind: ${c.bdf}: vfio-pci did not claim it (driver now: ${now ?? 'none'}); see \`dmesg | tail\` and \`vfio-ddk doctor ${c.bdf}\`\n`);
    }
  }
  return failed;
}

/** Undoes every change, newest first (clears driver_override, re-probes, rebinds the old driver). */
function rollBack(ctx: CliContext, changes: readonly BindingChange[]): void {
  for (const c of [...changes].reverse()) {
    try {
      const now = ctx.sysfs.restore(c.bdf, c.previousDriver);
      ctx.stderr(`vfio-ddk bind: rolled back ${c.bdf}: driver now ${now ?? 'none'}${c.previousDriver !== null && now !== c.previousDriver ? ` (wanted ${c.previousDriver}; try \`vfio-ddk unbind --to ${c.previousDriver} ${c.bdf}\`)` : ''}\n`);
    } catch (err) {
      ctx.stderr(`vfio-ddk bind: could not roll back ${c.bdf}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
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
    // State first (locked against a concurrent bind), sysfs second: a state location that cannot be
    // written fails before any driver is touched, and the previous driver is on disk before it is gone.
    return withBindState(ctx.stateDir, (state, save) => {
      const boundAt = new Date().toISOString();
      // Keep the first remembered driver if a device is bound twice (the second "previous" is vfio-pci).
      const added = planned(ctx, bdf, group, wholeGroup).filter((c) => state[c.bdf] === undefined);
      for (const c of added) state[c.bdf] = { previousDriver: c.previousDriver, iommuGroup: group, boundAt };
      if (added.length > 0) save();
      const forget = (changes: readonly BindingChange[]): void => {
        for (const c of changes) if (added.some((a) => a.bdf === c.bdf)) delete state[c.bdf];
        save();
      };
      let changes: BindingChange[];
      try {
        changes = wholeGroup ? ctx.sysfs.bindGroup(bdf) : [{ bdf, previousDriver: ctx.sysfs.bindVfio(bdf) }];
      } catch (err) {
        // bindGroup undoes its own writes. bindVfio fails on one of its three writes: when the
        // override already landed (the unbind or the probe write failed), undo it too.
        if (!wholeGroup && isVfioDriver(ctx.sysfs.device(bdf).driverOverride) && !isVfioDriver(ctx.sysfs.driverOf(bdf))) {
          rollBack(ctx, added);
        }
        forget(added);
        throw err;
      }
      const failed = report(ctx, changes, group);
      if (failed.length === 0) return EXIT_OK;
      // A probe vfio-pci did not win leaves the device driverless with driver_override=vfio-pci:
      // undo the whole bind so it is back on its driver (VFIO could not use a partial group anyway).
      rollBack(ctx, changes);
      forget(changes);
      return EXIT_FAILURE;
    });
  },
};
