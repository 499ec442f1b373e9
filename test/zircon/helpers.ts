/** Shared helpers for the Zircon kit tests. */
import {
  ZX_INTERRUPT_VIRTUAL, ZX_OK, ZX_PORT_BIND_TO_INTERRUPT, zx_interrupt_create, zx_port_create, type Out,
} from 'vfio-ddk/zircon';

export function out<T>(initial: T): Out<T> {
  return { value: initial };
}

export function virtualInterrupt(options = ZX_INTERRUPT_VIRTUAL): number {
  const o = out(0);
  const status = zx_interrupt_create(0, 0, options, o);
  if (status !== ZX_OK) throw new Error(`zx_interrupt_create: ${status}`);
  return o.value;
}

export function interruptPort(options = ZX_PORT_BIND_TO_INTERRUPT): number {
  const o = out(0);
  const status = zx_port_create(options, o);
  if (status !== ZX_OK) throw new Error(`zx_port_create: ${status}`);
  return o.value;
}

/** Lets the event loop run deliveries scheduled with setImmediate (IrqLine) a few times. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Resolves to 'pending' when `promise` has not settled after the loop turned. */
export async function stateOf<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const marker = Symbol('pending');
  const result = await Promise.race([promise, settle().then(() => marker)]);
  return result === marker ? 'pending' : (result as T);
}
