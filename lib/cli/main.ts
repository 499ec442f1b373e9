/**
 * The `vfio-ddk` command: dispatches to one verb per file in verbs/, maps errors to exit statuses
 * (exit-codes.ts) and prints every error as "vfio-ddk <verb>: message" naming what to do next.
 * `main` never calls process.exit, so tests call it directly with a fixture context.
 */
import { parseVerbArgs, verbHelp, wantsJson } from './args.ts';
import { createContext } from './context.ts';
import type { CliContext } from './context.ts';
import { EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, UsageError, exitCodeFor } from './exit-codes.ts';
import { printJson } from './output.ts';
import { didYouMean } from './suggest.ts';
import type { Verb } from './verb.ts';
import { packageVersion } from './version.ts';
import { benchVerb } from './verbs/bench.ts';
import { bindVerb } from './verbs/bind.ts';
import { demoVerb } from './verbs/demo.ts';
import { doctorVerb } from './verbs/doctor.ts';
import { guestVerb } from './verbs/guest.ts';
import { infoVerb } from './verbs/info.ts';
import { irqtopVerb } from './verbs/irqtop.ts';
import { irqThreadVerb } from './verbs/irq-thread.ts';
import { listVerb } from './verbs/list.ts';
import { replVerb } from './verbs/repl.ts';
import { traceVerb } from './verbs/trace.ts';
import { unbindVerb } from './verbs/unbind.ts';

export const VERBS: readonly Verb[] = [
  listVerb,
  infoVerb,
  bindVerb,
  unbindVerb,
  doctorVerb,
  irqtopVerb,
  demoVerb,
  irqThreadVerb,
  guestVerb,
  benchVerb,
  replVerb,
  traceVerb,
];

export function mainHelp(): string {
  const width = Math.max(...VERBS.map((v) => v.spec.name.length));
  return ['Usage: vfio-ddk <command> [options]   (vfio-ddk <command> --help for details; vfio-ddk --version)', '', 'Commands:',
    ...VERBS.map((v) => `  ${v.spec.name.padEnd(width)}  ${v.spec.summary}`), '',
    'Environment: VFIO_DDK_SYSFS, VFIO_DDK_PROCFS, VFIO_DDK_DEVFS, VFIO_DDK_STATE_DIR override /sys, /proc, /dev, /run/vfio-ddk.',
    EXIT_CODES_HELP, ''].join('\n');
}

/** With --json, an error is a JSON document on stdout too, so a script always has something to parse. */
function errorJson(err: unknown, status: number): unknown {
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code
    : err instanceof UsageError ? 'ERR_USAGE' : null;
  return { ok: false, exitStatus: status, error: { code, message: err instanceof Error ? err.message : String(err) } };
}

/** Runs the command line `argv` (without "node" and the script) and returns the exit status. */
export async function main(argv: readonly string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const ctx = createContext(overrides);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? ctx.stderr : ctx.stdout)(mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    ctx.stdout(wantsJson(rest) ? `${JSON.stringify({ version: packageVersion() })}\n` : `vfio-ddk ${packageVersion()}\n`);
    return EXIT_OK;
  }
  const verb = VERBS.find((v) => v.spec.name === name);
  if (verb === undefined) {
    const names = VERBS.map((v) => v.spec.name);
    const hint = name.startsWith('-') ? ' (options go after the command: vfio-ddk <command> [options])' : didYouMean(name, names);
    const message = `unknown command ${JSON.stringify(name)}${hint}`;
    if (wantsJson(rest)) printJson(ctx, errorJson(new UsageError(message), EXIT_USAGE));
    ctx.stderr(`vfio-ddk: ${message}\n\n${mainHelp()}`);
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
    const status = exitCodeFor(err);
    if (wantsJson(rest) && 'json' in verb.spec.options) printJson(ctx, errorJson(err, status));
    ctx.stderr(`vfio-ddk ${name}: ${message}\n`);
    if (err instanceof UsageError) ctx.stderr(`Run \`vfio-ddk ${name} --help\` for usage.\n`);
    return status;
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
