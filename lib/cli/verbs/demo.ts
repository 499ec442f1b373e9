/**
 * `vfio-ddk demo`: the first thing to run. It drives QEMU's edu device through every layer of the
 * library and prints a timeline: open and identify, a factorial completed by MSI, a DMA round trip
 * through the IOMMU, the same MSI through zx_interrupt_wait, as a Zircon port packet and through a
 * ddi_intr handler, then close. By default on the emulated edu (nothing to install, no root);
 * `--device <bdf>` on a real edu bound to vfio-pci; `--guest` boots the QEMU guest and runs
 * `demo --device` there. The steps live in lib/cli/demo-steps*.ts, one function each.
 */
import { join } from 'node:path';
import { JSON_OPTION } from '../args.ts';
import type { CliContext } from '../context.ts';
import { checkVfioEdu, openEmulatedEdu, vfioEduOpener } from '../demo-device.ts';
import type { DeviceOpener } from '../demo-device.ts';
import { guestSetupError, loadGuestRunner, packageRoot, shellQuote } from '../demo-guest.ts';
import type { GuestRunnerLoader } from '../demo-guest.ts';
import { runDemoSteps } from '../demo-session.ts';
import type { DemoSession, DemoStep } from '../demo-session.ts';
import { DEMO_STEPS } from '../demo-steps.ts';
import { Timeline, formatElapsed } from '../demo-timeline.ts';
import { EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, UsageError } from '../exit-codes.ts';
import { printJson } from '../output.ts';
import type { Verb } from '../verb.ts';

/** What a test can replace: where the emulated device comes from, the steps, the guest runner. */
export interface DemoDependencies {
  readonly openEmulated: DeviceOpener;
  readonly steps: readonly DemoStep[];
  readonly loadGuestRunner: GuestRunnerLoader;
  /** A step still running after this long fails (default 10 s: a lost interrupt must not hang). */
  readonly stepTimeoutMs: number;
}

const DEFAULTS: DemoDependencies = { openEmulated: openEmulatedEdu, steps: DEMO_STEPS, loadGuestRunner, stepTimeoutMs: 10_000 };
const GUEST_DEMO_TIMEOUT_MS = 10 * 60_000;

/** Runs the steps on one device and prints the timeline (live) or the JSON (at the end). */
async function runDemo(ctx: CliContext, deps: DemoDependencies, target: { opener: DeviceOpener; bdf: string | null }, json: boolean): Promise<number> {
  const timeline = new Timeline(ctx, json ? null : (line) => ctx.stdout(`${line}\n`));
  if (!json) {
    ctx.stdout(target.bdf === null
      ? 'vfio-ddk demo: QEMU edu, emulated (lib/emu) — `--device <bdf>` drives a real one through VFIO\n'
      : `vfio-ddk demo: QEMU edu at ${target.bdf} through VFIO\n`);
  }
  const session: DemoSession = { timeline, stepTimeoutMs: deps.stepTimeoutMs, openDevice: target.opener, device: null, driver: null };
  const ok = await runDemoSteps(session, deps.steps);
  const total = timeline.elapsedUs();
  if (json) printJson(ctx, { device: target.bdf ?? 'emulated', ok, totalUs: total, ...timeline.toJSON() });
  else if (ok) ctx.stdout(`all ${timeline.steps.length} steps passed in ${formatElapsed(total)}\n`);
  const failed = timeline.steps.find((s) => !s.ok);
  if (failed !== undefined) {
    ctx.stderr(`vfio-ddk demo: step "${failed.step}" (${failed.title}) failed: ${failed.error ?? 'unknown error'}\n`);
    if (failed.hint !== undefined) ctx.stderr(`what to do: ${failed.hint}\n`);
  }
  return ok ? EXIT_OK : EXIT_FAILURE;
}

/** Boots the guest with an edu bound to vfio-pci and runs this package's `demo --device` inside. */
async function runDemoInGuest(ctx: CliContext, deps: DemoDependencies, json: boolean): Promise<number> {
  const runInGuest = await deps.loadGuestRunner((message) => ctx.stderr(`[guest] ${message}\n`));
  const root = packageRoot();
  const bin = [process.execPath, join(root, 'bin', 'vfio-ddk.mjs')].map(shellQuote).join(' ');
  const command = `${bin} demo --device "$VFIO_DDK_EDU_BDF"${json ? ' --json' : ''}`;
  let result;
  try {
    result = await runInGuest({
      command, devices: ['edu'], cwd: root, timeoutMs: GUEST_DEMO_TIMEOUT_MS,
      onOutput: (line) => ctx.stdout(`${line}\n`), log: (message) => ctx.stderr(`[guest] ${message}\n`),
    });
  } catch (err) {
    throw guestSetupError(err) ?? err;
  }
  ctx.stderr(`[guest] done: status ${result.status}, boot ${result.bootSeconds?.toFixed(1) ?? '?'} s, total ${result.seconds.toFixed(1)} s (${result.accel})\n`);
  if (result.timedOut) ctx.stderr('vfio-ddk demo: the guest run timed out\n');
  return result.status >= EXIT_OK && result.status <= EXIT_NOT_FOUND ? result.status : EXIT_FAILURE;
}

export function createDemoVerb(overrides: Partial<DemoDependencies> = {}): Verb {
  const deps: DemoDependencies = { ...DEFAULTS, ...overrides };
  return {
    spec: {
      name: 'demo',
      summary: 'Drive QEMU\'s edu through every layer (MSI, DMA, Zircon, DDI) and print a timeline; emulated unless --device.',
      positionals: [],
      options: {
        device: { type: 'string', valueName: 'BDF', description: 'a real edu bound to vfio-pci (default: the emulated edu)' },
        guest: { type: 'boolean', description: 'boot the QEMU guest and run `demo --device` on its edu (see `vfio-ddk guest`)' },
        json: { ...JSON_OPTION, description: 'print the timeline as JSON' },
      },
      details: 'Steps: open + identify (version, liveness), 10! by MSI, DMA round trip through the IOMMU,\n'
        + 'the MSI through zx_interrupt_wait, as a port packet, through a ddi_intr handler, close.\n'
        + 'Each result is checked; a failure names the step and what to do (exit 1).\n'
        + 'Examples:\n  vfio-ddk demo\n  vfio-ddk bind 0000:00:01.0 && vfio-ddk demo --device 0000:00:01.0\n  vfio-ddk demo --guest',
    },
    async run(args, ctx) {
      const json = args.values['json'] === true;
      const device = args.values['device'];
      if (args.values['guest'] === true) {
        if (typeof device === 'string') throw new UsageError('--guest runs the demo on the guest\'s own edu: drop --device');
        return runDemoInGuest(ctx, deps, json);
      }
      if (typeof device === 'string') {
        const bdf = checkVfioEdu(ctx, device);
        return runDemo(ctx, deps, { opener: vfioEduOpener(ctx, bdf), bdf }, json);
      }
      return runDemo(ctx, deps, { opener: deps.openEmulated, bdf: null }, json);
    },
  };
}

export const demoVerb: Verb = createDemoVerb();
