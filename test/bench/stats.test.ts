/**
 * scripts/bench/stats.mjs and report.mjs: the percentile definition shared with the C baseline
 * (hw-tests/baseline/stats.c: sorted[floor(q·n)], clamped), the fixed log histogram grid, ratios,
 * pairing a JS row with its C row, and the targets being reported rather than asserted.
 */
import t from 'tap';
import { HIST_PER_DECADE, Samples, histBin, histEdge, histogram, rank, ratio, summarize } from '../../scripts/bench/stats.mjs';
import { evaluateTargets, formatNs, formatTable, makeRow, pairWithBaseline } from '../../scripts/bench/report.mjs';

t.test('percentiles are nearest-rank as stats.c computes them', async (t) => {
  const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
  t.same(summarize(ten), { min: 1, median: 6, p99: 10, max: 10 }, 'n = 10: median = sorted[5], p99 = sorted[9]');
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.same(summarize(hundred), { min: 1, median: 51, p99: 100, max: 100 }, 'n = 100: p99 = sorted[99]');
  const thousand = Array.from({ length: 1000 }, (_, i) => i);
  t.equal(summarize(thousand).p99, 990, 'n = 1000: p99 = sorted[990]');
  t.equal(summarize(new Float64Array([7])).median, 7, 'one sample is every percentile');
  t.equal(rank(Float64Array.from([1, 2, 3]), 1), 3, 'q = 1 clamps to the last sample');
});

t.test('summarize does not reorder the caller’s samples and refuses bad input', async (t) => {
  const samples = [3, 1, 2];
  summarize(samples);
  t.same(samples, [3, 1, 2]);
  t.throws(() => summarize([]), RangeError);
  t.throws(() => summarize([1, Number.NaN]), RangeError);
  t.throws(() => summarize(null as unknown as number[]), TypeError);
  t.throws(() => rank(Float64Array.from([1]), 1.5), RangeError);
});

t.test('histograms use one fixed log grid, so two sides share bins', async (t) => {
  t.equal(HIST_PER_DECADE, 20);
  t.equal(histBin(100), 40, '100 ns → bin 2 × 20');
  t.equal(histBin(99.9), 39);
  t.ok(Math.abs(histEdge(40) - 100) < 1e-9, 'bin 40 starts at 100 ns');
  const h = histogram([100, 100, 1000, 150]);
  t.equal(h.start, 40);
  t.equal(h.counts.length, 21, 'bins 40…60');
  t.equal(h.counts.reduce((a, b) => a + b, 0), 4, 'every sample counted once');
  t.equal(h.counts[0], 2);
  t.equal(h.counts[20], 1);
  t.same(histogram([]).counts, []);
  t.throws(() => histogram([1], 0), RangeError);
});

t.test('ratio is subject ÷ baseline, null without a usable baseline', async (t) => {
  t.equal(ratio(3, 2), 1.5);
  t.equal(ratio(1, 3), 0.333);
  t.equal(ratio(1, 0), null);
  t.equal(ratio(1, null), null);
  t.equal(ratio(undefined, 1), null);
});

t.test('Samples keeps the first `capacity` values', async (t) => {
  const s = new Samples(2);
  s.record(1);
  s.record(2);
  s.record(3);
  t.same([...s.values()], [1, 2]);
  t.throws(() => new Samples(0), RangeError);
});

t.test('a JS row is paired with its C row; the storm gets a rate ratio', async (t) => {
  const js = makeRow({ name: 'msi_roundtrip_irqline', subject: [200, 200, 300], extra: { pair: 'msi_roundtrip_blocking' } });
  const c = [{ name: 'msi_roundtrip_blocking', n: 3, min: 90, median: 100, p99: 150, max: 150 }];
  const row = pairWithBaseline(js, c);
  t.equal(row.baseline_name, 'msi_roundtrip_blocking');
  t.equal(row.ratio_median, 2);
  t.equal(row.ratio_p99, 2);
  t.equal('pair' in row, false, 'the pairing hint is dropped');
  t.equal(row.histogram?.baseline, null, 'a C row without a histogram (the storm) gives none');
  const cHist = { perDecade: 20, start: 40, counts: [1, 2] };
  const withHist = pairWithBaseline(js, [{ ...c[0], histogram: cHist }]);
  t.same(withHist.histogram?.baseline, cHist, "the C row's histogram (vfio-baseline prints one per latency row) is the baseline's");
  const unpaired = pairWithBaseline(makeRow({ name: 'x', subject: [1], extra: { pair: 'nothing' } }), c);
  t.equal(unpaired.ratio_median, null);
  const storm = pairWithBaseline(
    makeRow({ name: 'storm_irqline', subject: { min: 20, median: 20, p99: 20, max: 20 }, n: 10, lost: 0, extra: { pair: 'storm', rate_per_s: 50 } }),
    [{ name: 'storm', min: 10, median: 10, p99: 10, max: 10, rate_per_s: 100, lost: 0 }],
  );
  t.equal(storm.rate_ratio, 0.5);
  t.same(evaluateTargets([storm]).map((x) => x.status), ['met'], '0 lost at 50 % of C meets the target');
});

t.test('targets are evaluated from the ratios: met and missed both reported', async (t) => {
  const row = (name: string, subject: number[], baseline: number[]) => makeRow({ name, subject, baseline, baselineName: 'b' });
  const targets = evaluateTargets([
    row('zx_interrupt_wait_virtual', [2, 2, 2], [1, 1, 1]),
    row('zx_port_wait_virtual', [4, 4, 4], [1, 1, 1]),
  ]);
  t.same(targets.map((x) => [x.row, x.status]), [['zx_interrupt_wait_virtual', 'met'], ['zx_port_wait_virtual', 'missed']]);
  const text = formatTable({ suite: 'host', rows: [row('zx_port_wait_virtual', [4000], [1000])], targets });
  t.match(text, /zx_port_wait_virtual\s+1\s+4\.00 µs/);
  t.match(text, /×4\.00/);
  t.match(text, /\[MISSED\] virtual trigger → zx_port_wait/);
  const accessors = evaluateTargets([
    row('mmio_read32_view', [50], [40]), row('mmio_read32_accessor', [75], [40]),
    row('mmio_write32_view', [50], [40]), row('mmio_write32_accessor', [76], [40]),
  ]).filter((x) => x.row.endsWith('_accessor'));
  t.same(accessors.map((x) => [x.row, x.status]), [['mmio_read32_accessor', 'met'], ['mmio_write32_accessor', 'missed']],
    'accessors are held to 1.5× the view row of the same run, not to C');
  t.same(evaluateTargets([row('mmio_read32_accessor', [75], [40])]).map((x) => x.status), ['missed'], 'no view row: not met');
  t.equal(formatNs(49.94), '49.9 ns');
  t.equal(formatNs(4_800_000), '4.80 ms');
  t.equal(formatNs(null), '-');
});
