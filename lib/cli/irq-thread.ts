/**
 * Runs the edu IRQ thread (lib/drivers/edu-irq-thread.ts) in a Worker and relays its reports to this
 * thread as messages: the main thread's event loop stays free while the worker blocks in
 * zx_interrupt_wait. `bdf` null: an emulated edu (opened inside the worker, as devices must be: handle
 * tables and device routing are per thread).
 */
import { Worker } from 'node:worker_threads';
import type { EduIrqReport } from '../drivers/edu-irq-thread.ts';

export function runIrqThreadWorker(options: { bdf: string | null; rounds: number; kit?: 'zircon' | 'ddi'; onReport?: (r: EduIrqReport) => void }): Promise<EduIrqReport[]> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const worker = new Worker(new URL(`./irq-thread-worker${ext}`, import.meta.url), { workerData: { bdf: options.bdf, rounds: options.rounds, kit: options.kit ?? 'zircon' } });
  const reports: EduIrqReport[] = [];
  return new Promise((resolve, reject) => {
    worker.on('message', (m: { report?: EduIrqReport; done?: boolean; error?: string }) => {
      if (m.report !== undefined) {
        reports.push(m.report);
        options.onReport?.(m.report);
      } else if (m.done === true) resolve(reports);
      else if (m.error !== undefined) reject(new Error(`irq thread: ${m.error}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`irq thread worker exited with ${code}`));
      else resolve(reports);
    });
  });
}
