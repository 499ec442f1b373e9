#!/usr/bin/env node
// Benchmark: ddi_intr_alloc + ddi_intr_add_handler + ddi_intr_enable of N MSI-X vectors on the emulated
// test device (and the matching teardown), for N = 256, 512, 1024, 2048. Prints the time per phase and
// the cost per vector: a flat per-vector cost means setup grows linearly with N.
//
// Run after building:  npx tsc -p tsconfig.build.json && node scripts/bench-ddi.mjs [--rounds 5]
// Times are the median of the rounds (after a warm-up), in milliseconds.
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable, ddi_intr_remove_handler,
  ddi_intr_free, DDI_INTR_TYPE_MSIX, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_SUCCESS,
} from 'vfio-ddk/ddi';
import { createTestDevice } from 'vfio-ddk/emu';

const SIZES = [256, 512, 1024, 2048];
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('bench-ddi: --rounds must be a positive integer');
  process.exit(2);
}

const handler = () => DDI_INTR_CLAIMED;
const now = () => Number(process.hrtime.bigint()) / 1e6;

function check(status, what) {
  if (status !== DDI_SUCCESS) throw new Error(`${what} failed with ${status}`);
}

/** One round for n vectors: returns { alloc, add, enable, teardown } in ms. */
function round(n) {
  const device = createTestDevice({ msix: { vectors: 2048 } });
  try {
    const dip = ddi_dev_info(device);
    const handles = [];
    const actual = { value: 0 };
    const t0 = now();
    check(ddi_intr_alloc(dip, handles, DDI_INTR_TYPE_MSIX, 0, n, actual, DDI_INTR_ALLOC_STRICT), 'ddi_intr_alloc');
    const t1 = now();
    for (let i = 0; i < n; i++) check(ddi_intr_add_handler(handles[i], handler, i, null), 'ddi_intr_add_handler');
    const t2 = now();
    for (let i = 0; i < n; i++) check(ddi_intr_enable(handles[i]), 'ddi_intr_enable');
    const t3 = now();
    for (let i = 0; i < n; i++) {
      check(ddi_intr_disable(handles[i]), 'ddi_intr_disable');
      check(ddi_intr_remove_handler(handles[i]), 'ddi_intr_remove_handler');
      check(ddi_intr_free(handles[i]), 'ddi_intr_free');
    }
    const t4 = now();
    return { alloc: t1 - t0, add: t2 - t1, enable: t3 - t2, teardown: t4 - t3 };
  } finally {
    device.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`ddi MSI-X setup on the emulated test device (median of ${ROUNDS} rounds, ms; µs/vector = (alloc+add+enable)/N)`);
console.log('     N    alloc  add_handler   enable   total  µs/vector   teardown');
// Warm-up: let the JIT optimise every path at the largest size first, so small N are not measured cold.
for (let i = 0; i < 3; i++) round(SIZES[SIZES.length - 1]);
const perVector = [];
for (const n of SIZES) {
  const rounds = Array.from({ length: ROUNDS }, () => round(n));
  const m = (key) => median(rounds.map((r) => r[key]));
  const total = m('alloc') + m('add') + m('enable');
  perVector.push((total * 1000) / n);
  console.log(
    `${String(n).padStart(6)} ${m('alloc').toFixed(2).padStart(8)} ${m('add').toFixed(2).padStart(12)} ` +
    `${m('enable').toFixed(2).padStart(8)} ${total.toFixed(2).padStart(7)} ${((total * 1000) / n).toFixed(2).padStart(10)} ` +
    `${m('teardown').toFixed(2).padStart(10)}`,
  );
}
const ratio = perVector[perVector.length - 1] / perVector[0];
console.log(`per-vector cost at N=${SIZES[SIZES.length - 1]} vs N=${SIZES[0]}: ×${ratio.toFixed(2)} (≈1 means linear growth)`);
