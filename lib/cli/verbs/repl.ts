/**
 * `vfio-ddk repl [BDF | emu:edu | emu:nvme | emu:test]`: a Node REPL with one device opened and in
 * scope (cfg, bar0…bar5, irq, dma, the Zircon and DDI kits) — setpci / devmem at a JavaScript prompt.
 * The pieces are in lib/cli/repl/; history goes to ${XDG_CACHE_HOME:-~/.cache}/vfio-ddk/repl_history.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PciDevice } from '../../pci/device.ts';
import type { CliContext } from '../context.ts';
import { EXIT_OK } from '../exit-codes.ts';
import { runRepl } from '../repl/session.ts';
import { DEFAULT_TARGET, EMULATED_TARGETS, resolveTarget } from '../repl/targets.ts';
import type { Verb } from '../verb.ts';

export interface ReplDependencies {
  /** Force line-editing mode on or off (default: whether the output stream is a TTY). */
  readonly terminal?: boolean;
  /** The history file (default: replHistoryPath(process.env)); null for none. */
  readonly historyPath?: string | null;
  /** The emu: targets (default EMULATED_TARGETS); a test passes its own to see the device it gets. */
  readonly emulated?: Readonly<Record<string, () => PciDevice>>;
}

/** ${XDG_CACHE_HOME:-~/.cache}/vfio-ddk/repl_history (XDG Base Directory: the user's cache). */
export function replHistoryPath(env: NodeJS.ProcessEnv): string {
  const base = env['XDG_CACHE_HOME'] ? resolve(env['XDG_CACHE_HOME']) : join(env['HOME'] || homedir(), '.cache');
  return join(base, 'vfio-ddk', 'repl_history');
}

export function createReplVerb(deps: ReplDependencies = {}): Verb {
  return {
    spec: {
      name: 'repl',
      summary: 'A Node REPL with a device opened: cfg, bar0…bar5, irq, dma, the Zircon and DDI kits in scope.',
      positionals: ['[target]'],
      options: {},
      details: `target: a BDF bound to vfio-pci, or emu:edu (default), emu:nvme, emu:test (emulated, no root).\n`
        + 'In the REPL `.help` lists what is in scope; Tab completes register names; .exit or Ctrl-D\n'
        + 'closes the device (interrupts disabled, DMA unmapped). History: ${XDG_CACHE_HOME:-~/.cache}/vfio-ddk/repl_history.\n'
        + 'Examples:\n  vfio-ddk repl\n  vfio-ddk repl emu:nvme\n  vfio-ddk bind 0000:00:03.0 && vfio-ddk repl 0000:00:03.0',
    },
    async run(args, ctx: CliContext) {
      const target = resolveTarget(ctx, args.positionals[0] ?? DEFAULT_TARGET, deps.emulated ?? EMULATED_TARGETS);
      const device = await target.open();
      const output = ctx.output;
      output.write(`vfio-ddk repl: ${target.name} at ${device.bdf} (${device.backend}), ${device.identity.vendorId.toString(16).padStart(4, '0')}:`
        + `${device.identity.deviceId.toString(16).padStart(4, '0')} — .help lists what is in scope, .exit closes it\n`);
      await runRepl(device, {
        input: ctx.input, output, ...(deps.terminal === undefined ? {} : { terminal: deps.terminal }),
        historyPath: deps.historyPath === undefined ? replHistoryPath(process.env) : deps.historyPath,
        warn: (message) => ctx.stderr(`vfio-ddk repl: ${message}\n`),
      });
      return EXIT_OK;
    },
  };
}

export const replVerb: Verb = createReplVerb();
