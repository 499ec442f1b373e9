/**
 * The `vfio-ddk` command: dispatches to one verb per file in verbs/, maps errors to exit statuses
 * (exit-codes.ts) and prints every error as "vfio-ddk <verb>: message" naming what to do next.
 * `main` never calls process.exit, so tests call it directly with a fixture context.
 */
import { parseVerbArgs, verbHelp } from './args.ts';
import { createContext } from './context.ts';
import type { CliContext } from './context.ts';
import { EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, UsageError, exitCodeFor } from './exit-codes.ts';
import type { Verb } from './verb.ts';
import { benchVerb } from './verbs/bench.ts';
import { bindVerb } from './verbs/bind.ts';
import { demoVerb } from './verbs/demo.ts';
import { doctorVerb } from './verbs/doctor.ts';
import { guestVerb } from './verbs/guest.ts';
import { infoVerb } from './verbs/info.ts';
import { irqtopVerb } from './verbs/irqtop.ts';
import { listVerb } from './verbs/list.ts';
import { unbindVerb } from './verbs/unbind.ts';

export const VERBS: readonly Verb[] = [
  listVerb,
  infoVerb,
  bindVerb,
  unbindVerb,
  doctorVerb,
  irqtopVerb,
  demoVerb,
  guestVerb,
  benchVerb,
];

export function mainHelp(): string {
  const width = Math.max(...VERBS.map((v) => v.spec.name.length));
  return ['Usage: vfio-ddk <command> [options]   (vfio-ddk <command> --help for details)', '', 'Commands:',
    ...VERBS.map((v) => `  ${v.spec.name.padEnd(width)}  ${v.spec.summary}`), '',
    'Environment: VFIO_DDK_SYSFS, VFIO_DDK_PROCFS, VFIO_DDK_DEVFS, VFIO_DDK_STATE_DIR override /sys, /proc, /dev, /run/vfio-ddk.',
    EXIT_CODES_HELP, ''].join('\n');
}

/** Runs the command line `argv` (without "node" and the script) and returns the exit status. */
export async function main(argv: readonly string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const ctx = createContext(overrides);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? ctx.stderr : ctx.stdout)(mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const verb = VERBS.find((v) => v.spec.name === name);
  if (verb === undefined) {
    ctx.stderr(`vfio-ddk: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}`);
    return EXIT_USAGE;
  }
  try {
    const args = parseVerbArgs(verb.spec, rest);
    if (args === null) {
      ctx.stdout(verbHelp(verb.spec));
      return EXIT_OK;
    }
    return await verb.run(args, ctx);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.stderr(`vfio-ddk ${name}: ${message}\n`);
    if (err instanceof UsageError) ctx.stderr(`Run \`vfio-ddk ${name} --help\` for usage.\n`);
    return exitCodeFor(err);
  }
}

/** Entry point for bin/vfio-ddk.mjs: wires SIGINT to an AbortSignal and sets process.exitCode. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    process.exitCode = await main(argv, { signal: controller.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}
