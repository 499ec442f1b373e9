/**
 * The demo's timeline: what happened, when (µs since the demo started, on the CLI's monotonic clock),
 * and in which layer (pci, edu driver, dma, zircon, ddi). Printed as aligned text for people or kept
 * as JSON for scripts; each step also records whether its checks passed.
 */
import type { CliContext } from './context.ts';

/** The layer a line comes from, shown in its own column. */
export type DemoLayer = 'emu' | 'vfio' | 'pci' | 'edu' | 'dma' | 'zircon' | 'ddi';

export interface TimelineEvent {
  /** Microseconds since the demo started. */
  readonly atUs: number;
  readonly step: string;
  readonly layer: DemoLayer;
  readonly text: string;
}

export interface StepResult {
  readonly step: string;
  readonly title: string;
  readonly ok: boolean;
  /** Microseconds the step took. */
  readonly durationUs: number;
  /** The failure, with what to do about it (only when !ok). */
  readonly error?: string;
  readonly hint?: string;
}

const MICROS_PER_MS = 1000;

/** "850 µs" below a millisecond, "12.345 ms" above: one unit per magnitude keeps the column readable. */
export function formatElapsed(us: number): string {
  return us < MICROS_PER_MS ? `${us.toFixed(0)} µs` : `${(us / MICROS_PER_MS).toFixed(3)} ms`;
}

export class Timeline {
  readonly events: TimelineEvent[] = [];
  readonly steps: StepResult[] = [];
  readonly #now: () => number;
  readonly #startMs: number;
  /** Prints each event as it happens (text mode); null keeps them for the JSON at the end. */
  readonly #live: ((line: string) => void) | null;
  #step = '';

  constructor(ctx: Pick<CliContext, 'now'>, live: ((line: string) => void) | null) {
    this.#now = ctx.now;
    this.#startMs = ctx.now();
    this.#live = live;
  }

  /** Microseconds since the start, to 0.1 µs (finer digits are clock noise). */
  elapsedUs(): number {
    return Math.round((this.#now() - this.#startMs) * MICROS_PER_MS * 10) / 10;
  }

  /** Marks the start of a step: later events belong to it. */
  begin(step: string): void {
    this.#step = step;
  }

  /** Records one event of the current step. */
  log(layer: DemoLayer, text: string): void {
    const event: TimelineEvent = { atUs: this.elapsedUs(), step: this.#step, layer, text };
    this.events.push(event);
    this.#live?.(formatEvent(event));
  }

  /** Records the outcome of a step. */
  finish(result: StepResult): void {
    this.steps.push(result);
    if (this.#live === null) return;
    const mark = result.ok ? '✓' : '✗';
    this.#live(`${' '.repeat(EVENT_TIME_WIDTH)}  ${mark} ${result.title}${result.ok ? ` (${formatElapsed(result.durationUs)})` : ' FAILED'}`);
  }

  toJSON(): { events: TimelineEvent[]; steps: StepResult[] } {
    return { events: this.events, steps: this.steps };
  }
}

const EVENT_TIME_WIDTH = 11;
const LAYER_WIDTH = 6;

/** "   1.234 ms  zircon  zx_interrupt_wait → ZX_OK" */
export function formatEvent(event: TimelineEvent): string {
  return `${formatElapsed(event.atUs).padStart(EVENT_TIME_WIDTH)}  ${event.layer.padEnd(LAYER_WIDTH)}  ${event.text}`;
}
