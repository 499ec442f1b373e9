/** Shared helpers for the emulation tests. */
import { IrqLine } from '../../lib/irq/irq-line.ts';

/** A line that records each delivery's coalesced count. */
export function recordingLine(name = 'line'): { line: IrqLine; counts: number[]; total: () => number } {
  const line = new IrqLine(name);
  const counts: number[] = [];
  line.setConsumer({ fire: (count) => { counts.push(count); } });
  return { line, counts, total: () => counts.reduce((a, b) => a + b, 0) };
}

/** Lets scheduled deliveries run (IrqLine delivers on a setImmediate). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const closedError = { name: 'DdkError', code: 'ECLOSED' };

/** Waits (by turns of the event loop, timers included) until `condition` holds; fails after `turns` tries. */
export async function until(condition: () => boolean, turns = 1000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error('condition never became true');
}
