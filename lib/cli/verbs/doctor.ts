/**
 * `vfio-ddk doctor [bdf]`: checks the host (IOMMU, interrupt remapping, vfio modules, /dev/vfio,
 * memlock) and, given a BDF, that device's group, viability, binding and device node. Each finding is
 * ok / warn / fail with the exact command that fixes it. Exit 1 when any check fails.
 */
import { normalizeBdf } from '../../vfio/bdf.ts';
import { diagnoseDevice } from '../../vfio/doctor-device.ts';
import { FINDING_STATUS, hostChecks } from '../../vfio/doctor.ts';
import type { DoctorFinding, DoctorRoots } from '../../vfio/doctor.ts';
import { JSON_OPTION } from '../args.ts';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.ts';
import { printJson } from '../output.ts';
import type { Verb } from '../verb.ts';

const MARK = { ok: '[ ok ]', warn: '[warn]', fail: '[FAIL]' } as const;

function formatFinding(f: DoctorFinding): string {
  const fix = f.fix === null ? '' : `\n       fix: ${f.fix}`;
  return `${MARK[f.status]} ${f.summary}${fix}\n`;
}

export const doctorVerb: Verb = {
  spec: {
    name: 'doctor',
    summary: 'Check that this host (and optionally one device) is ready for VFIO, with the command that fixes each problem.',
    positionals: ['[bdf]'],
    options: { json: JSON_OPTION },
    details: 'Reads /sys, /proc and /dev only (not dmesg). Interrupt remapping is judged from "IR-" chips in\n'
      + '/proc/interrupts, then vfio_iommu_type1\'s allow_unsafe_interrupts, then the VT-d ecap IR bit.',
  },
  async run(args, ctx) {
    // Validate first: a malformed BDF must fail before anything is read.
    const bdf = args.positionals[0] === undefined ? null : normalizeBdf(args.positionals[0]);
    const roots: DoctorRoots = { sys: ctx.sysRoot, proc: ctx.procRoot, dev: ctx.devRoot, uid: ctx.uid };
    const findings = hostChecks(roots);
    const diagnosis = bdf === null ? null : diagnoseDevice(ctx.sysfs, roots, bdf);
    if (diagnosis !== null) findings.push(...diagnosis.findings);
    const failed = findings.some((f) => f.status === FINDING_STATUS.FAIL);
    if (args.values['json'] === true) {
      printJson(ctx, { ok: !failed, findings, groupMembers: diagnosis?.members ?? null });
      return failed ? EXIT_FAILURE : EXIT_OK;
    }
    for (const f of findings) ctx.stdout(formatFinding(f));
    if (diagnosis !== null && diagnosis.members.length > 0) {
      ctx.stdout(`IOMMU group ${diagnosis.device.iommuGroup ?? ''}:\n`);
      for (const m of diagnosis.members) {
        ctx.stdout(`  ${m.bdf}  ${(m.driver ?? '(no driver)').padEnd(16)} ${m.keepsViable ? 'ok' : 'blocks the group'}\n`);
      }
    }
    const counts = { ok: 0, warn: 0, fail: 0 };
    for (const f of findings) counts[f.status] += 1;
    ctx.stdout(`${counts.ok} ok, ${counts.warn} warning(s), ${counts.fail} failure(s)\n`);
    return failed ? EXIT_FAILURE : EXIT_OK;
  },
};
