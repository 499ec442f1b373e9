/**
 * Running the command `vfio-ddk trace -o FILE -- command…` records: spawned directly (no shell;
 * `-- sh -c '…'` for one), on this terminal, with VFIO_DDK_TRACE=FILE and NODE_OPTIONS extended by
 * `--import` of the recorder's auto-start module (lib/trace/auto-start.ts), so every node process the
 * command starts can record and the first to open a device or call a kit writes FILE.
 *
 * The auto-start module is the one beside this CLI: dist/trace/auto-start.js for the installed
 * command; lib/trace/auto-start.ts when the CLI itself runs from the TypeScript sources (tests), and
 * then this process's module loaders and export conditions go into NODE_OPTIONS before it, so the
 * command's node can load it — and resolves `vfio-ddk` to the same sources.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP that reach this process while the command runs are passed on
 * to it (Ctrl-C in a terminal reaches both; a second one does no harm), and this process stays alive
 * to end the trace file and report.
 */
import { spawn } from 'node:child_process';
import { DdkError } from '../errors.ts';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface ChildOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Flags of this process's own command line that a node child needs to load what this process loads. */
function loaderFlags(execArgv: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    const name = arg.split('=')[0] as string;
    if (!['--import', '--loader', '--experimental-loader', '--conditions', '-C'].includes(name)) continue;
    if (arg.includes('=')) flags.push(arg);
    else if (i + 1 < execArgv.length) flags.push(`${arg}=${execArgv[++i] as string}`);
  }
  return flags;
}

/** NODE_OPTIONS for the command: what it had, plus what loads the recorder. */
export function traceNodeOptions(existing: string | undefined, execArgv: readonly string[] = process.execArgv): string {
  const autoStart = new URL(`../trace/auto-start.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href;
  const fromSources = autoStart.endsWith('.ts') ? loaderFlags(execArgv) : [];
  return [existing ?? '', ...fromSources, `--import=${autoStart}`].filter((part) => part !== '').join(' ');
}

/** Runs `command` with `env` added, passing signals on; resolves when it has exited. */
export function runTracedCommand(command: readonly string[], env: Readonly<Record<string, string>>): Promise<ChildOutcome> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    const forward = (signal: NodeJS.Signals): void => { child.kill(signal); };
    for (const signal of FORWARDED) process.on(signal, forward);
    const done = (): void => { for (const signal of FORWARDED) process.off(signal, forward); };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      const code = err.code ?? 'EIO';
      reject(code === 'ENOENT' ? new DdkError('ENOENT', `cannot run ${JSON.stringify(file)}: no such command (check the spelling, or give its path)`)
        : new DdkError(code, `cannot run ${JSON.stringify(file)}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve({ code, signal });
    });
  });
}
