/** Shared helpers for the Zircon kit tests. */
import {
  ZX_INTERRUPT_VIRTUAL, ZX_OK, ZX_PORT_BIND_TO_INTERRUPT, zx_interrupt_create, zx_port_create, type Out,
} from 'vfio-ddk/zircon';
import { settle, stateOf } from '../suites/event-loop.ts';
export { settle, stateOf };

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


