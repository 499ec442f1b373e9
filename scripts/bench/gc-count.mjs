/**
 * Counting garbage without timing it: the young-generation collections (scavenges) V8 ran while a
 * synchronous loop executed. A scavenge runs whenever the young generation (a few MiB) fills, so 0 over
 * rounds that would fill it many times at a few dozen bytes each means the loop allocates nothing per
 * round — the claim the port-packet row and its test make.
 */
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';

/** Young-generation collections that started while `run()` executed (entries arrive after a turn). */
export async function scavengesDuring(run) {
  const starts = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) starts.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  const from = performance.now();
  run();
  const to = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return starts.filter((start) => start >= from && start <= to).length;
}
