/**
 * `vfio-ddk list`: every PCI function with its IDs and names, class, driver, IOMMU group, interrupt
 * capabilities (from config space) and whether it can be opened through VFIO — what `lspci -nnk` and
 * `dpdk-devbind.py --status` show together, plus the VFIO verdict with its reason.
 */
import { JSON_OPTION } from '../args.ts';
import { deviceReports } from '../device-report.ts';
import { EXIT_OK } from '../exit-codes.ts';
import { formatTable, printJson } from '../output.ts';
import type { Verb } from '../verb.ts';
import { PciIds } from '../../vfio/pci-ids.ts';
import { describeInterrupts } from '../../vfio/sysfs-config.ts';

const NAME_WIDTH = 44;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
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
    const all = ctx.sysfs.listDevices();
    const chosen = args.values['vfio-only'] === true ? all.filter((f) => f.driver === 'vfio-pci') : all;
    const reports = deviceReports(ctx.sysfs, ids, chosen, all);
    if (args.values['json'] === true) {
      printJson(ctx, reports);
      return EXIT_OK;
    }
    if (reports.length === 0) {
      ctx.stdout(`no PCI functions under ${ctx.sysRoot}/bus/pci/devices\n`);
      return EXIT_OK;
    }
    const rows = reports.map((r) => [
      r.bdf,
      r.ids,
      clip(`${r.vendorName ?? `vendor ${r.ids.slice(0, 4)}`} ${r.deviceName ?? `device ${r.ids.slice(5)}`}`, NAME_WIDTH),
      r.className ?? `class ${r.classCode.toString(16).padStart(6, '0')}`,
      r.driver ?? '-',
      r.iommuGroup === null ? '-' : String(r.iommuGroup),
      describeInterrupts(r.interrupts),
      r.vfio.reason,
    ]);
    ctx.stdout(formatTable(['BDF', 'ID', 'DEVICE', 'CLASS', 'DRIVER', 'GROUP', 'INTERRUPTS', 'VFIO'], rows));
    return EXIT_OK;
  },
};
