/**
 * `vfio-ddk info <bdf>`: everything sysfs knows about one function (names, IDs, class, driver, IOMMU
 * group and its members, BARs, interrupt capabilities from config space, VFIO readiness), then — when it
 * is bound to vfio-pci and this build has VfioDevice — its regions and IRQ indices as VFIO reports them.
 */
import { normalizeBdf } from '../../vfio/bdf.ts';
import { iommuPathFinding } from '../../vfio/doctor-device.ts';
import { PciIds } from '../../vfio/pci-ids.ts';
import { describeInterrupts } from '../../vfio/sysfs-config.ts';
import { formatSize } from '../../vfio/sysfs-resources.ts';
import { VFIO_READINESS } from '../../vfio/sysfs-viability.ts';
import { JSON_OPTION } from '../args.ts';
import { deviceReports, readBus, shownHex } from '../device-report.ts';
import type { DeviceReport } from '../device-report.ts';
import { EXIT_OK } from '../exit-codes.ts';
import { hex, printJson } from '../output.ts';
import type { Verb } from '../verb.ts';
import { vfioView } from './info-vfio.ts';
import type { VfioView } from './info-vfio.ts';

function sysfsLines(r: DeviceReport, members: readonly { bdf: string; driver: string | null }[], bars: string[]): string[] {
  const caps = r.interrupts;
  const lines = [
    `${r.bdf}  ${r.vendorName ?? `vendor ${r.ids.slice(0, 4)}`} ${r.deviceName ?? `device ${r.ids.slice(5)}`} [${r.ids}] (rev ${shownHex(r, 'revision', r.revision, 2)})`,
    `  class:       ${r.className ?? '?'} [${shownHex(r, 'class', r.classCode, 6)}]`,
    `  subsystem:   ${shownHex(r, 'subsystem_vendor', r.subsystemVendorId, 4)}:${shownHex(r, 'subsystem_device', r.subsystemId, 4)}`,
    `  driver:      ${r.driver ?? '(none)'}${r.driverOverride === null ? '' : `  (driver_override: ${r.driverOverride})`}`,
    `  iommu group: ${r.iommuGroup ?? '(none)'}${members.length > 0 ? `: ${members.map((m) => `${m.bdf} (${m.driver ?? 'no driver'})`).join(', ')}` : ''}`,
    `  numa node:   ${r.unreadable.includes('numa_node') ? 'unreadable' : r.numaNode ?? '-'}   irq: ${r.unreadable.includes('irq') ? 'unreadable' : r.irq ?? '-'}`,
    `  interrupts:  ${describeInterrupts(caps)}`,
  ];
  if (caps.msix !== null) {
    lines.push(`  MSI-X:       ${caps.msix.vectors} vectors, table BAR${caps.msix.tableBar}+0x${caps.msix.tableOffset.toString(16)}, PBA BAR${caps.msix.pbaBar}+0x${caps.msix.pbaOffset.toString(16)}`);
  }
  for (const b of bars) lines.push(`  ${b}`);
  lines.push(`  VFIO:        ${r.vfio.reason}`);
  return lines;
}

function vfioLines(v: VfioView): string[] {
  const lines = [`  through VFIO: ${v.message}`];
  for (const b of v.bars ?? []) lines.push(`    region BAR${b.index}: ${formatSize(b.size)}`);
  for (const i of v.irqs ?? []) {
    const flags = [i.eventfd ? 'eventfd' : '', i.maskable ? 'maskable' : '', i.automasked ? 'automasked' : '', i.dynamic ? 'dynamic' : ''].filter((f) => f !== '');
    lines.push(`    irq ${i.index}: ${i.count} vector(s)${flags.length > 0 ? ` (${flags.join(', ')})` : ''}`);
  }
  return lines;
}

export const infoVerb: Verb = {
  spec: {
    name: 'info',
    summary: 'Show what sysfs knows about one PCI function and, when bound to vfio-pci, its VFIO regions and IRQ indices.',
    positionals: ['<bdf>'],
    options: {
      json: JSON_OPTION,
      'sysfs-only': { type: 'boolean', description: 'do not open the device through VFIO' },
    },
  },
  async run(args, ctx) {
    const bdf = normalizeBdf(args.positionals[0] ?? '');
    const fn = ctx.sysfs.device(bdf);
    const all = readBus(ctx.sysfs).functions;
    const [report] = deviceReports(ctx.sysfs, new PciIds(ctx.pciIdsPaths), [fn], all);
    if (report === undefined) throw new Error('unreachable: one report per function');
    const members = fn.iommuGroup === null ? [] : ctx.sysfs.groupDevices(fn.iommuGroup).map((m) => ({ bdf: m, driver: ctx.sysfs.driverOf(m) }));
    const resources = ctx.sysfs.resources(bdf);
    let vfio: VfioView;
    if (args.values['sysfs-only'] === true) vfio = { status: 'skipped', message: 'not opened (--sysfs-only)' };
    else if (report.vfio.state !== VFIO_READINESS.READY) vfio = { status: 'skipped', message: 'not opened (the function is not VFIO-ready, see above)' };
    else vfio = await vfioView(ctx, bdf);
    // Which IOMMU path an open would take (only meaningful once bound: the cdev exists only then).
    const path = report.vfio.state === VFIO_READINESS.READY
      ? iommuPathFinding(ctx.sysfs, { sys: ctx.sysRoot, proc: ctx.procRoot, dev: ctx.devRoot, uid: ctx.uid }, bdf)
      : null;
    const iommuPath = path === null ? null : path.decision === null
      ? { kind: null, reason: path.finding.summary, unavailable: path.finding.summary }
      : { kind: path.decision.kind, reason: path.decision.reason, unavailable: path.decision.unavailable };
    if (args.values['json'] === true) {
      printJson(ctx, { ...report, groupMembers: members, resources, iommuPath, throughVfio: vfio });
      return EXIT_OK;
    }
    const bars = resources.map((res) => `${res.kind === 'rom' ? 'ROM ' : `BAR${res.index}`}:        ${res.kind === 'io' ? 'I/O' : 'memory'} at 0x${res.start.toString(16)} (${formatSize(res.size)}${res.is64 ? ', 64-bit' : ''}${res.prefetchable ? ', prefetchable' : ''})`);
    const pathLines = iommuPath === null ? [] : [`  IOMMU path:  ${iommuPath.kind ?? 'none'} (${iommuPath.reason})${iommuPath.unavailable !== null && iommuPath.kind !== null ? `: ${iommuPath.unavailable}` : ''}`];
    ctx.stdout([...sysfsLines(report, members, bars), ...pathLines, ...vfioLines(vfio)].join('\n') + '\n');
    return EXIT_OK;
  },
};
