/** Runs the CLI's `main` against a fixture tree, capturing output. Not a test file. */
import { main } from '../../lib/cli/main.ts';
import type { CliContext } from '../../lib/cli/context.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import type { Fixture } from '../vfio/fixtures.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], fx: Fixture, overrides: Partial<CliContext> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    sysRoot: fx.sys,
    procRoot: fx.proc,
    devRoot: fx.dev,
    stateDir: fx.state,
    uid: 0,
    pciIdsPaths: [],
    sysfs: new Sysfs(fx.sys, { onWrite: fx.kernelHook }),
    isTTY: false,
    sleep: async () => {},
    now: () => 0,
    signal: undefined,
    importVfio: async () => ({}),
    ...overrides,
  });
  return { code, stdout, stderr };
}

/** Inputs that must be refused as BDFs (exit 2) before anything touches sysfs. */
export const BAD_BDFS = ['../../etc', '0000:00:01.0/../x', '', 'x'.repeat(300), '0000:00:01.0/driver', '00:01.0;reboot'];
