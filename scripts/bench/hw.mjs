#!/usr/bin/env node
/**
 * npm run bench:hw — the hardware benchmark against the C baseline, in ONE guest boot:
 *   1. build dist/ (when stale) and the C baseline (cmake → .cache/baseline-build/vfio-baseline);
 *   2. boot the QEMU guest with edu only (1 vCPU, scripts/guest), run `vfio-baseline` and then
 *      hw-tests/bench/js-side.mjs on the same edu; both write into the results share (/run/ddk);
 *   3. pair every JS row with its C row, print the table, write bench-results/hw.json.
 *
 *   npm run bench:hw [-- --iterations 10000] [--storm 100000] [--timeout 600] [--json]
 *   npm run bench:hw -- --node-args '--single-threaded'   (a diagnostic: V8 without background threads)
 *
 * Progress goes to stderr (guest console lines prefixed "[guest]"), the table (or JSON) to stdout.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BASELINE_BINARY, PROJECT_ROOT, RESULTS_DIR, buildBaseline, ensureDist, parseOptions } from './build.mjs';
import { killDescendants } from './children.mjs';
import { evaluateTargets, formatTable, pairWithBaseline, writeResult } from './report.mjs';

export const HW_ROW_ORDER = [
  'eventfd_loopback_watcher', 'msi_roundtrip_watcher', 'msi_roundtrip_irqline', 'msi_roundtrip_zx_interrupt_wait', 'msi_roundtrip_zx_port',
  'msi_roundtrip_ddi_handler', 'msi_roundtrip_native_wait', 'msi_roundtrip_zx_interrupt_wait_blocking', 'msi_roundtrip_zx_port_blocking',
  'msi_roundtrip_ddi_interrupt_thread', 'storm_irqline', 'mmio_read32_view', 'mmio_read32_accessor', 'mmio_write32_view',
  'mmio_write32_accessor', 'dma_map_unmap_4k', 'dma_map_unmap_2m', 'dma_map_unmap_2m_hugetlb', 'intx_roundtrip_irqline',
];

function shellQuote(s) {
  return `'${String(s).replaceAll("'", `'\\''`)}'`;
}

/** The guest command: kernel version, the C baseline, then the JS side, all into /run/ddk. */
function guestCommand({ iterations, storm, nodeArgs }) {
  const counts = `--iterations ${iterations} --storm ${storm}`;
  const node = ['node', ...nodeArgs.map(shellQuote)].join(' ');
  return [
    'uname -r > /run/ddk/kernel',
    // The clock both sides time with: without a TSC clocksource each read is a syscall (µs under TCG).
    'cat /sys/devices/system/clocksource/clocksource0/current_clocksource > /run/ddk/clocksource 2>/dev/null',
    // Page sizes of the DMA rows: 4 KiB unless a row asks for a 2 MiB hugetlb page (two reserved here).
    'cat /sys/kernel/mm/transparent_hugepage/enabled > /run/ddk/thp 2>/dev/null',
    'echo 2 > /proc/sys/vm/nr_hugepages 2>/dev/null',
    'echo "[bench] C baseline: vfio-baseline on $VFIO_DDK_EDU_BDF"',
    `${shellQuote(BASELINE_BINARY)} --bdf "$VFIO_DDK_EDU_BDF" ${counts} > /run/ddk/c.jsonl; c=$?`,
    'cat /run/ddk/c.jsonl',
    'echo "[bench] JS side: hw-tests/bench/js-side.mjs"',
    `${node} hw-tests/bench/js-side.mjs --out /run/ddk/js.json ${counts}; j=$?`,
    'if [ "$c" -ne 0 ]; then exit "$c"; fi',
    'exit "$j"',
  ].join('\n');
}

function readJsonLines(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l));
}

/** Combines the two sides' raw output into the hw result (exported for tests). */
export function combineHw({ cRows, js, meta }) {
  const order = (name) => { const i = HW_ROW_ORDER.indexOf(name); return i < 0 ? HW_ROW_ORDER.length : i; };
  const rows = (js?.rows ?? []).map((r) => pairWithBaseline(r, cRows)).sort((a, b) => order(a.name) - order(b.name));
  return {
    suite: 'hw',
    ...meta,
    node: js?.node ?? process.version,
    timer_ns: js?.timer_ns ?? null,
    errors: js?.errors ?? [],
    baseline_rows: cRows,
    rows,
    targets: evaluateTargets(rows),
  };
}

/** Extra node options for the JS side (diagnostics such as V8's --single-threaded): "--flag[=value]" words. */
export function checkNodeArgs(words) {
  if (!Array.isArray(words)) throw new TypeError('nodeArgs must be an array of strings');
  for (const w of words) {
    if (typeof w !== 'string' || !/^--[\w.,=-]+$/.test(w)) throw new RangeError(`node option ${JSON.stringify(w)} must look like --flag or --flag=value`);
  }
  return words;
}

/**
 * Builds, boots one guest, runs both sides, returns the combined result (and writes hw.json).
 * @param {{ iterations?: number, storm?: number, timeoutMs?: number, nodeArgs?: string[], log?: (m: string) => void, signal?: AbortSignal }} o
 */
export async function runHwBench(o = {}) {
  const iterations = o.iterations ?? 10_000;
  const storm = o.storm ?? 100_000;
  const nodeArgs = checkNodeArgs(o.nodeArgs ?? []);
  const log = o.log ?? ((m) => process.stderr.write(`[bench:hw] ${m}\n`));
  // Ctrl-C (`signal`): the builds are synchronous (the terminal's SIGINT reaches cmake/tsc too), so
  // it is checked after each; during the boot it stops QEMU, whose exit ends runInGuest, and the
  // results folder is removed below before the abort is reported.
  const signal = o.signal;
  signal?.throwIfAborted();
  ensureDist(log);
  signal?.throwIfAborted();
  buildBaseline(log);
  signal?.throwIfAborted();
  const { runInGuest } = await import('../guest/guest.mjs');
  log(`booting the guest (edu, 1 vCPU): C baseline then JS, ${iterations} iterations, storm ${storm}`);
  // Aborted before QEMU is spawned (image still being prepared), a single kill would miss it: keep
  // stopping whatever this process starts until runInGuest returns.
  let killer = null;
  const stopGuest = () => {
    log(`interrupted: stopping the guest (pids ${killDescendants('SIGTERM').join(' ') || 'none yet'})`);
    killer = setInterval(() => killDescendants('SIGTERM'), 250);
  };
  signal?.addEventListener('abort', stopGuest, { once: true });
  const run = await runInGuest({
    command: guestCommand({ iterations, storm, nodeArgs }),
    devices: ['edu'],
    cwd: PROJECT_ROOT,
    timeoutMs: o.timeoutMs ?? 600_000,
    env: { NO_COLOR: '1' },
    keepResults: true,
    log: (m) => log(`guest: ${m}`),
    onOutput: (line) => log(`[guest] ${line}`),
  }).finally(() => {
    signal?.removeEventListener('abort', stopGuest);
    if (killer !== null) clearInterval(killer);
  });
  const dir = run.resultsDir;
  if (typeof dir !== 'string') throw new Error('runInGuest returned no resultsDir: scripts/guest/guest.mjs lacks the keepResults option');
  try {
    signal?.throwIfAborted();
    const cRows = readJsonLines(join(dir, 'c.jsonl'));
    const jsPath = join(dir, 'js.json');
    const js = existsSync(jsPath) ? JSON.parse(readFileSync(jsPath, 'utf8')) : null;
    const text = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').trim() : null);
    const kernel = text('kernel');
    if (cRows.length === 0) log('the C baseline printed no rows (see the guest lines above)');
    if (js === null) log('the JS side wrote no results (see the guest lines above)');
    const result = combineHw({
      cRows, js,
      meta: {
        date: new Date().toISOString(), kernel, clocksource: text('clocksource'), thp: text('thp'), accel: run.accel, vcpus: 1, iterations, storm, node_args: nodeArgs,
        guest_status: run.status, boot_seconds: run.bootSeconds, seconds: run.seconds,
        edu: run.devices.find((d) => d.id === '1234:11e8')?.bdf ?? run.devices[0]?.bdf ?? null,
      },
    });
    writeResult(join(RESULTS_DIR, 'hw.json'), result);
    log(`guest exit ${run.status}, ${result.rows.length} rows → ${relative(PROJECT_ROOT, join(RESULTS_DIR, 'hw.json'))}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const USAGE = 'usage: node scripts/bench/hw.mjs [--iterations N] [--storm N] [--timeout SECONDS] [--json] [--node-args "--single-threaded …"]';

async function main() {
  const o = parseOptions(process.argv.slice(2), { iterations: 'number', storm: 'number', timeout: 'number', json: 'boolean', 'node-args': 'string' }, USAGE);
  const nodeArgs = o['node-args'] === undefined ? [] : o['node-args'].split(/\s+/).filter(Boolean);
  const result = await runHwBench({ iterations: o.iterations, storm: o.storm, nodeArgs, timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000 });
  if (o.json === true) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(formatTable(result, { subjectLabel: 'JS', baselineLabel: 'C' }));
  return result.guest_status === 0 && result.rows.length > 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then((status) => { process.exitCode = status; }, (err) => {
    process.stderr.write(`[bench:hw] ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
