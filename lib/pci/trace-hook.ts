/**
 * The one switch between the library and a tracer (lib/trace, `vfio-ddk trace`). Off — the default —
 * it costs a null check where a device is opened (`traceOpened`, called by the backends' open
 * functions) and one per call of a kit's exported C function (`kitCalls`, applied by the kits' entry
 * points); nothing on a register access or an interrupt, which stay exactly as they are untraced.
 * On, an opened device is handed out as the tracer's recording view of it, and kit calls go through
 * the tracer.
 *
 * One process may hold two copies of the package (dist/ under plain node and lib/ under the
 * vfio-ddk-source condition, or two installs): a tracer installed through either reaches both, because
 * each copy's switch registers itself in one process-wide registry (Symbol.for, like a global symbol).
 * Workers have their own globals, so a Worker's devices and kit calls are not traced.
 */
import type { PciDevice } from './device.ts';

/** A kit's exported function, as the switch sees it. */
export type KitFunction = (this: unknown, ...args: unknown[]) => unknown;

export interface Tracer {
  /** The device to hand out for `device`: a view that records what is done through it. */
  traceDevice<T extends PciDevice>(device: T): T;
  /** Runs `fn` (the kit's function `name`) on `args`, records the call and returns what it returned. */
  kitCall(kit: string, name: string, fn: KitFunction, self: unknown, args: IArguments): unknown;
}

interface Registry {
  tracer: Tracer | null;
  readonly copies: ((tracer: Tracer | null) => void)[];
}

const REGISTRY_KEY = Symbol.for('vfio-ddk.trace-hook');
const holder = globalThis as { [REGISTRY_KEY]?: Registry };
const registry: Registry = holder[REGISTRY_KEY] ??= { tracer: null, copies: [] };

let tracer: Tracer | null = registry.tracer;
registry.copies.push((next) => { tracer = next; });

/** Installs `next` (null: tracing off) in every copy of the package in this thread. */
export function setTracer(next: Tracer | null): void {
  registry.tracer = next;
  for (const set of registry.copies) set(next);
}

export function currentTracer(): Tracer | null {
  return tracer;
}

/** What a backend's open function returns: `device` itself, or its recording view while tracing. */
export function traceOpened<T extends PciDevice>(device: T): T {
  return tracer === null ? device : tracer.traceDevice(device);
}

function kitEntry(kit: string, name: string, fn: KitFunction): KitFunction {
  // `arguments` + apply: no array per call (TurboFan passes the frame's arguments straight through).
  const entry = function (this: unknown): unknown {
    return tracer === null ? fn.apply(this, arguments as unknown as unknown[]) : tracer.kitCall(kit, name, fn, this, arguments);
  };
  Object.defineProperties(entry, { name: { value: name }, length: { value: fn.length } });
  return entry;
}

/**
 * The functions of a kit module as the kit exports them: each function whose name starts with a
 * lower-case letter (the C names: zx_*, ddi_*, pci_config_*, cmn_err …) goes through the switch;
 * anything else (classes, constants) is passed on as it is.
 */
export function kitCalls<T extends object>(kit: string, module: T): T {
  const calls: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(module)) {
    calls[name] = typeof value === 'function' && /^[a-z]/.test(name) ? kitEntry(kit, name, value as KitFunction) : value;
  }
  return calls as T;
}
