/**
 * What the demo's steps share: the device being driven, the edu driver while it is open, the timeline,
 * and the runner that executes steps in order, stops at the first failure and always closes the
 * device. A step is one small async function; it logs what it does and throws `DemoCheckError` when a
 * result is not what the spec says it must be.
 */
import type { PciDevice } from '../pci/device.ts';
import type { EduDriver } from '../drivers/edu.ts';
import { EDU_REG } from '../pci/edu-regs.ts';
import type { DemoLayer, Timeline } from './demo-timeline.ts';

/** How the device was obtained: the emulated edu (lib/emu) or a real one through VFIO. */
export interface OpenedDemoDevice {
  readonly device: PciDevice;
  readonly layer: Extract<DemoLayer, 'emu' | 'vfio'>;
  /** One line saying what was opened, e.g. "emulated edu at 0000:80:00.0". */
  readonly description: string;
}

export interface DemoSession {
  readonly timeline: Timeline;
  /** A step still running after this long fails (a lost interrupt must not hang the demo). */
  readonly stepTimeoutMs: number;
  /** Opens the device (the `open` step calls it once). */
  readonly openDevice: () => Promise<OpenedDemoDevice>;
  device: PciDevice | null;
  driver: EduDriver | null;
}

export interface DemoStep {
  /** Short id shown when the step fails and in the JSON ("factorial"). */
  readonly id: string;
  /** What the step shows, one line. */
  readonly title: string;
  /** What to do when it fails (a function when it depends on the error). */
  readonly hint: string | ((error: unknown) => string);
  run(session: DemoSession): Promise<void>;
}

/** A result that differs from what the spec promises. */
export class DemoCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoCheckError';
  }
}

/** Throws DemoCheckError(`message`) unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new DemoCheckError(message);
}

/** The open device, or a DemoCheckError when an earlier step did not open it. */
export function deviceOf(session: DemoSession): PciDevice {
  check(session.device !== null && !session.device.closed, 'the device is not open (the open step did not run)');
  return session.device;
}

/** spec/edu.md D.3: writing a cause to IRQ_RAISE sets it in IRQ_STATUS and sends one MSI. */
export function raiseEduInterrupt(device: PciDevice, cause: number): void {
  device.bar(0).write32(EDU_REG.IRQ_RAISE, cause);
}

/** D.3: read the causes and write exactly those to IRQ_ACK (what every edu handler does). */
export function ackEduInterrupt(device: PciDevice): number {
  const bar = device.bar(0);
  const status = bar.read32(EDU_REG.IRQ_STATUS);
  if (status !== 0) bar.write32(EDU_REG.IRQ_ACK, status);
  return status;
}

/** "0x00001234" */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = 'code' in err && typeof err.code === 'string' ? `${err.code}: ` : '';
    return `${code}${err.message}`;
  }
  return String(err);
}

/** Closes whatever is still open; never throws (it runs after a failure too). */
function closeAll(session: DemoSession): void {
  try { session.driver?.close(); } catch { /* already closed */ }
  try { session.device?.close(); } catch { /* already closed */ }
}

function roundUs(us: number): number {
  return Math.round(us * 10) / 10;
}

/** `work`, or a DemoCheckError when it has not settled after `ms` (the timer never outlives it). */
async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DemoCheckError(`no result after ${ms / 1000} s (an interrupt that never came?)`)), ms);
  });
  try {
    await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `steps` in order; the first failure is recorded with its hint and ends the run. The device is
 * closed at the end whatever happened. Returns true when every step passed.
 */
export async function runDemoSteps(session: DemoSession, steps: readonly DemoStep[]): Promise<boolean> {
  const { timeline } = session;
  try {
    for (const step of steps) {
      timeline.begin(step.id);
      const started = timeline.elapsedUs();
      try {
        await withTimeout(step.run(session), session.stepTimeoutMs);
      } catch (err) {
        const hint = typeof step.hint === 'function' ? step.hint(err) : step.hint;
        timeline.finish({ step: step.id, title: step.title, ok: false, durationUs: roundUs(timeline.elapsedUs() - started), error: errorMessage(err), hint });
        return false;
      }
      timeline.finish({ step: step.id, title: step.title, ok: true, durationUs: roundUs(timeline.elapsedUs() - started) });
    }
    return true;
  } finally {
    closeAll(session);
  }
}
