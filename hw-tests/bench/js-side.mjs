#!/usr/bin/env node
/**
 * The JS side of the hardware benchmark, run in the guest by scripts/bench/hw.mjs right after the C
 * baseline (same boot, same edu). Measures the baseline's rows through every layer and writes
 * { rows, meta } as JSON to --out (the results share, /run/ddk): the host pairs each row with its C
 * row (`pair`) and divides.
 *
 *   node hw-tests/bench/js-side.mjs --out /run/ddk/js.json [--iterations 10000] [--storm 100000]
 *
 * Plain JavaScript, imports through package specifiers ('vfio-ddk/*' → dist/, built on the host).
 * Progress lines go to stderr (the guest console).
 */
import { writeFileSync } from 'node:fs';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { timerCostNs } from '../../scripts/bench/measure.mjs';
import { rawWatcherRows } from './raw-watcher.mjs';
import { dmaRows, intxRow, irqLineRow, mmioRows, stormRow } from './device-rows.mjs';
import { ddiRow, zxPortRow, zxWaitRow } from './kit-rows.mjs';
import { ddiInterruptThreadRow, zxPortBlockingRow, zxWaitBlockingRow } from './blocking-rows.mjs';

function options(argv) {
  const o = { iterations: 10_000, storm: 100_000, out: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === '--out') o.out = value;
    else if (name === '--iterations' || name === '--storm') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
      o[name.slice(2)] = n;
    } else throw new Error(`unknown option ${name}`);
  }
  if (o.out === null) throw new Error('--out FILE is required');
  return o;
}

async function main() {
  const o = options(process.argv.slice(2));
  const bdf = process.env.VFIO_DDK_EDU_BDF;
  if (!bdf) throw new Error('VFIO_DDK_EDU_BDF is unset: run this in the guest (npm run bench:hw)');
  const log = (m) => process.stderr.write(`[js] ${m}\n`);
  const warmup = Math.min(1000, o.iterations);
  const step = (name) => ({
    iterations: o.iterations,
    warmup,
    progress: (done, total) => { if (done === total || done * 2 === total) log(`${name} ${done}/${total}`); },
  });
  const started = Date.now();
  const rows = [];
  const errors = [];
  // One failing layer must not cost the others' rows: record it and go on.
  const attempt = async (what, fn) => {
    log(what);
    try {
      rows.push(...(await fn()));
    } catch (err) {
      errors.push({ what, message: err instanceof Error ? err.message : String(err) });
      log(`${what} FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  };
  await attempt('raw addon watcher', () => rawWatcherRows(bdf, step));
  const dev = openVfioDevice(bdf);
  try {
    log(`VfioDevice ${dev.bdf} (${dev.iommuKind}), BAR0 view ${dev.bar(0).view === null ? 'absent' : 'mapped'}`);
    // The C baseline's order: MSI rows, storm, MMIO, DMA, INTx last.
    await attempt('IrqLine MSI', async () => [await irqLineRow(dev, step)]);
    await attempt('zx_interrupt_wait MSI', async () => [await zxWaitRow(dev, step)]);
    await attempt('zx_port_wait MSI', async () => [await zxPortRow(dev, step)]);
    await attempt('ddi_intr MSI', async () => [await ddiRow(dev, step)]);
    await attempt('zx_interrupt_wait MSI, blocking', async () => [zxWaitBlockingRow(dev, step)]);
    await attempt('zx_port_wait MSI, blocking', async () => [zxPortBlockingRow(dev, step)]);
    await attempt('ddi interrupt thread MSI', async () => [ddiInterruptThreadRow(dev, step)]);
    await attempt('storm', async () => [await stormRow(dev, o.storm, log)]);
    await attempt('MMIO', async () => mmioRows(dev, step));
    await attempt('DMA', async () => dmaRows(dev, o.iterations, step));
    await attempt('INTx', async () => [await intxRow(dev, step)]);
  } finally {
    dev.close();
  }
  const result = { node: process.version, iterations: o.iterations, storm: o.storm, timer_ns: timerCostNs(), seconds: (Date.now() - started) / 1000, errors, rows };
  writeFileSync(o.out, JSON.stringify(result) + '\n');
  log(`${rows.length} rows in ${result.seconds.toFixed(1)} s → ${o.out}`);
}

main().catch((err) => {
  process.stderr.write(`[js] ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
