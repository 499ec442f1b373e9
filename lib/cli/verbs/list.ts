/**
 * `vfio-ddk list`: every PCI function with its IDs and names, class, driver, IOMMU group, interrupt
 * capabilities (from config space) and whether it can be opened through VFIO — what `lspci -nnk` and
 * `dpdk-devbind.py --status` show together, plus the VFIO verdict with its reason.
 */
import { JSON_OPTION } from '../args.ts';
import type { CliContext } from '../context.ts';
import { deviceReports, readBus, shownHex, unreadableFunction } from '../device-report.ts';
import type { DeviceReport, UnreadableFunction } from '../device-report.ts';
import type { PciFunctionInfo } from '../../vfio/sysfs.ts';
import { EXIT_OK } from '../exit-codes.ts';
import { formatTable, printJson } from '../output.ts';
import type { Verb } from '../verb.ts';
import { PciIds } from '../../vfio/pci-ids.ts';
import { describeInterrupts } from '../../vfio/sysfs-config.ts';

const NAME_WIDTH = 44;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** Reports one function at a time, so a function whose group or config cannot be read is set apart. */
function reportsOf(ctx: CliContext, ids: PciIds, chosen: readonly PciFunctionInfo[], all: readonly PciFunctionInfo[]) {
  const reports: DeviceReport[] = [];
  const failed: UnreadableFunction[] = [];
  for (const f of chosen) {
    try {
      reports.push(...deviceReports(ctx.sysfs, ids, [f], all));
    } catch (err) {
      failed.push(unreadableFunction(f.bdf, err));
    }
  }
  return { reports, failed };
}

export const listVerb: Verb = {
  spec: {
    name: 'list',
    summary: 'List every PCI function: IDs, names, class, driver, IOMMU group, interrupts, VFIO readiness.',
    positionals: [],
    options: {
      json: JSON_OPTION,
      'vfio-only': { type: 'boolean', description: 'only functions bound to vfio-pci' },
    },
    details: 'Interrupt capabilities come from the sysfs config file; without root only its first 64 bytes\n'
      + 'are readable, so MSI/MSI-X show as "capabilities need root". Names come from pci.ids when\n'
      + 'installed (pciutils/hwdata), else a small built-in table.',
  },
  async run(args, ctx) {
    const ids = new PciIds(ctx.pciIdsPaths);
    const bus = readBus(ctx.sysfs);
    const all = bus.functions;
    const vfioOnly = args.values['vfio-only'] === true;
    const chosen = vfioOnly ? all.filter((f) => f.driver === 'vfio-pci') : all;
    const { reports, failed } = reportsOf(ctx, ids, chosen, all);
    // Functions whose own attributes failed are listed even with --vfio-only: their driver is unknown.
    const unreadable = [...bus.unreadable, ...failed].sort((a, b) => a.bdf.localeCompare(b.bdf));
    if (args.values['json'] === true) {
      printJson(ctx, unreadable.length === 0 ? reports : [...reports, ...unreadable.map((u) => ({ bdf: u.bdf, error: { code: u.code, message: u.error } }))]);
      return EXIT_OK;
    }
    for (const u of unreadable) ctx.stderr(`vfio-ddk list: ${u.bdf} skipped, unreadable: ${u.error}\n`);
    if (reports.length === 0) {
      const where = `${ctx.sysRoot}/bus/pci/devices`;
      ctx.stdout(vfioOnly && all.length > 0
        ? `no PCI function is bound to vfio-pci (${all.length} function(s) under ${where}): \`vfio-ddk list\` shows them, \`sudo vfio-ddk bind <bdf>\` binds one\n`
        : `no PCI functions under ${where}\n`);
      return EXIT_OK;
    }
    const rows = reports.map((r) => [
      r.bdf,
      r.ids,
      clip(`${r.vendorName ?? `vendor ${r.ids.slice(0, 4)}`} ${r.deviceName ?? `device ${r.ids.slice(5)}`}`, NAME_WIDTH),
      r.className ?? `class ${shownHex(r, 'class', r.classCode, 6)}`,
      r.driver ?? '-',
      r.iommuGroup === null ? '-' : String(r.iommuGroup),
      describeInterrupts(r.interrupts),
      r.vfio.reason,
    ]);
    ctx.stdout(formatTable(['BDF', 'ID', 'DEVICE', 'CLASS', 'DRIVER', 'GROUP', 'INTERRUPTS', 'VFIO'], rows));
    for (const r of reports.filter((x) => x.unreadable.length > 0)) ctx.stdout(`${r.bdf}: unreadable sysfs value(s): ${r.unreadable.join(', ')}\n`);
    return EXIT_OK;
  },
};
