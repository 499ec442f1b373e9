/**
 * Helpers of the kit suites on real devices (zircon-*, ddi-*, nvme-kits, edu-conformance): out-pointers,
 * promises resolved by handler calls, and the edu steps they share. Imports the library only by
 * package name (hw-tests/README.md).
 */
import type { Test } from 'tap';
import type { BuiltPlugins } from '@tapjs/test';
import { EDU_DMA_RUN, EDU_REG } from 'vfio-ddk';
import type { PciRegion } from 'vfio-ddk';
import { settle, stateOf } from '../test/suites/event-loop.ts';
export { settle, stateOf };

/** A subtest as tap passes it to `t.test` callbacks. */
export type SubTest = Test & BuiltPlugins;

export function out<T>(value: T): { value: T } {
  return { value };
}

/** Calls of a handler as promises: `hit(x)` from the handler, `next()` for the next (or a queued) value. */
export class Calls<T> {
  count = 0;
  readonly values: T[] = [];
  #waiters: ((value: T) => void)[] = [];
  #queued: T[] = [];

  hit(value: T): void {
    this.count++;
    this.values.push(value);
    const waiter = this.#waiters.shift();
    if (waiter) waiter(value);
    else this.#queued.push(value);
  }

  next(): Promise<T> {
    const queued = this.#queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}



/** Acknowledges every pending edu cause (D.3); returns the causes. */
export function eduAck(bar: PciRegion): number {
  const status = bar.read32(EDU_REG.IRQ_STATUS);
  if (status !== 0) bar.write32(EDU_REG.IRQ_ACK, status);
  return status;
}

/** Polls until an edu DMA has finished (RUN clear): completion without an interrupt (D.5). */
export async function eduDmaIdle(bar: PciRegion): Promise<boolean> {
  for (let i = 0; i < 1000 && (bar.read32(EDU_REG.DMA_CMD) & EDU_DMA_RUN) !== 0; i++) await new Promise((r) => setTimeout(r, 5));
  return (bar.read32(EDU_REG.DMA_CMD) & EDU_DMA_RUN) === 0;
}
