#!/usr/bin/env node
/**
 * npm run bench — the host benchmarks (scripts/bench/host-suite.mjs), each row against a baseline
 * measured in the same run. Builds dist/ first when a lib/ source is newer (plain node resolves
 * 'vfio-ddk/*' to dist/), prints the table and writes bench-results/host.json.
 *
 *   npm run bench [-- --iterations 10000] [--json] [--no-build]
 *
 * Progress goes to stderr, the table (or JSON) to stdout.
 */
import { join } from 'node:path';
import { RESULTS_DIR, ensureDist, parseOptions } from './build.mjs';

const USAGE = 'usage: node scripts/bench/host.mjs [--iterations N (≥ 10, default 10000)] [--json] [--no-build]';
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

async function main() {
  const o = parseOptions(process.argv.slice(2), { iterations: 'number', json: 'boolean', 'no-build': 'boolean' }, USAGE);
  if (o['no-build'] !== true) ensureDist(log);
  // Imported after the build so the suite loads the fresh dist/.
  const { runHostSuite } = await import('./host-suite.mjs');
  const { formatTable, writeResult } = await import('./report.mjs');
  const result = await runHostSuite({ iterations: o.iterations ?? 10_000, log });
  const path = join(RESULTS_DIR, 'host.json');
  writeResult(path, result);
  if (o.json === true) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(formatTable(result, { subjectLabel: 'subject', baselineLabel: 'baseline' }));
  log(`${result.rows.length} rows in ${result.seconds.toFixed(1)} s (node ${result.node}, timer ${result.timer_ns} ns per read) → ${path}`);
  return 0;
}

main().then((status) => { process.exitCode = status; }, (err) => {
  log(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exitCode = 1;
});
