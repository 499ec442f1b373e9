/** Devices and runners the demo tests inject (not a test file). */
import { createEduDevice } from '../../lib/emu/edu.ts';
import type { PciDevice, PciRegion } from '../../lib/pci/device.ts';
import { EDU_REG } from '../../lib/pci/edu-regs.ts';
import type { GuestRunOptions, GuestRunResult } from '../../lib/cli/demo-guest.ts';
import { parseVerbArgs } from '../../lib/cli/args.ts';
import { createContext } from '../../lib/cli/context.ts';
import type { CliContext } from '../../lib/cli/context.ts';
import { exitCodeFor } from '../../lib/cli/exit-codes.ts';
import type { Verb } from '../../lib/cli/verb.ts';
import type { CliResult } from './harness.ts';

/** A forwarding proxy whose methods run on the target (the emulated classes use #private fields). */
function forward<T extends object>(target: T, override: (prop: string | symbol) => unknown): T {
  return new Proxy(target, {
    get(t, prop) {
      const replaced = override(prop);
      if (replaced !== undefined) return replaced;
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/**
 * An emulated edu whose BAR0 is tampered with: `read32Of` can change what a register reads, and
 * writes to IRQ_RAISE can be dropped (an interrupt that never comes).
 */
export function tamperedEdu(o: { read32Of?: (offset: number, value: number) => number; dropRaise?: boolean }): PciDevice {
  const device = createEduDevice();
  let bar0: PciRegion | null = null;
  const region = (): PciRegion => {
    bar0 ??= forward(device.bar(0), (prop) => {
      if (prop === 'read32' && o.read32Of !== undefined) {
        const read = o.read32Of;
        return (offset: number) => read(offset, device.bar(0).read32(offset));
      }
      if (prop === 'write32' && o.dropRaise === true) {
        return (offset: number, value: number) => { if (offset !== EDU_REG.IRQ_RAISE) device.bar(0).write32(offset, value); };
      }
      return undefined;
    });
    return bar0;
  };
  return forward(device as PciDevice, (prop) => (prop === 'bar' ? (i: number) => (i === 0 ? region() : device.bar(i)) : undefined));
}

/** A stand-in for scripts/guest/guest.mjs runInGuest that records its options and prints `lines`. */
export function fakeGuestRunner(result: Partial<GuestRunResult>, lines: string[] = [], error: Error | null = null) {
  const calls: GuestRunOptions[] = [];
  const runner = async (options: GuestRunOptions): Promise<GuestRunResult> => {
    calls.push(options);
    if (error !== null) throw error;
    options.log?.('booting (TCG, devices: edu) 0.0 s');
    for (const line of lines) options.onOutput?.(line);
    return { status: 0, bootSeconds: 4.2, seconds: 9.5, accel: 'tcg', devices: [], timedOut: false, ...result };
  };
  return { calls, load: async () => runner };
}

/**
 * Runs a verb object built by a test (createDemoVerb / createGuestVerb with fakes) the way `main`
 * runs the registered ones: parse, run, map a thrown error to its exit status and message.
 */
export async function runVerb(verb: Verb, argv: string[], overrides: Partial<CliContext> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const ctx = createContext({
    stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, now: () => 0, sleep: async () => {}, isTTY: false,
    importVfio: async () => ({}), ...overrides,
  });
  let code: number;
  try {
    const args = parseVerbArgs(verb.spec, argv);
    if (args === null) throw new Error('unexpected --help');
    code = await verb.run(args, ctx);
  } catch (err) {
    stderr += `vfio-ddk ${verb.spec.name}: ${err instanceof Error ? err.message : String(err)}\n`;
    code = exitCodeFor(err);
  }
  return { code, stdout, stderr };
}
