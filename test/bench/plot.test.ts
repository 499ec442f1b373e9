/** lib/cli/bench-plot.ts: the self-contained SVG of latency histograms. */
import t from 'tap';
import { escapeXml, renderBenchSvg } from '../../lib/cli/bench-plot.ts';
import type { BenchResult, BenchRow } from '../../lib/cli/bench-types.ts';

function row(name: string, over: Partial<BenchRow> = {}): BenchRow {
  return {
    name, unit: 'ns', n: 4,
    subject: { min: 100, median: 120, p99: 900, max: 1000 },
    baseline: { min: 50, median: 60, p99: 70, max: 80 },
    baseline_name: 'c_row', ratio_median: 2, ratio_p99: 12.86, lost: null,
    histogram: { subject: { perDecade: 20, start: 40, counts: [2, 0, 1, 1] }, baseline: null },
    ...over,
  };
}

const result = (rows: BenchRow[]): BenchResult => ({ suite: 'hw', rows, targets: [] });

t.test('one panel per row; one bar per occupied bin of each histogram', async (t) => {
  const svg = renderBenchSvg(result([
    row('a'),
    row('b', { histogram: { subject: { perDecade: 20, start: 40, counts: [1] }, baseline: { perDecade: 20, start: 30, counts: [1, 1, 0, 5] } } }),
  ]));
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /<\/svg>\n$/);
  t.equal(svg.match(/<g class="panel">/g)?.length, 2);
  t.equal(svg.match(/<rect class="bar-subject"/g)?.length, 3 + 1, 'subject bars: 3 + 1');
  t.equal(svg.match(/<rect class="bar-baseline"/g)?.length, 3, 'baseline bars of panel b');
  t.notMatch(svg, /NaN|Infinity|undefined/);
});

t.test('a baseline with only a summary (C) is drawn as median and p99 lines', async (t) => {
  const svg = renderBenchSvg(result([row('only-c')]), { subject: 'JS', baseline: 'C' });
  t.match(svg, /<title>C median<\/title>/);
  t.match(svg, /<title>C p99<\/title>/);
  t.match(svg, /100 ns/, 'decade ticks are labelled');
});

t.test('the tallest bar is the same height whichever side has it (normalised fractions)', async (t) => {
  const svg = renderBenchSvg(result([row('x', { histogram: { subject: { perDecade: 20, start: 40, counts: [10] }, baseline: { perDecade: 20, start: 41, counts: [1, 1] } } })]));
  const heights = (side: string): number[] => [...svg.matchAll(new RegExp(`class="bar-${side}"[^>]* height="([\\d.]+)"`, 'g'))].map((m) => Number(m[1]));
  const subject = heights('subject');
  const baseline = heights('baseline');
  t.equal(subject.length, 1);
  t.equal(baseline.length, 2);
  t.ok((subject[0] ?? 0) > 0);
  t.equal(baseline[0], (subject[0] ?? 0) / 2, 'a bin holding half the baseline is half as tall as one holding all the subject');
});

t.test('names are escaped; bad input is refused', async (t) => {
  t.equal(escapeXml(`<a&"b'>`), '&lt;a&amp;&quot;b&#39;&gt;');
  const svg = renderBenchSvg(result([row('<script>&')]));
  t.notMatch(svg, /<script>/);
  t.match(svg, /&lt;script&gt;&amp;/);
  t.throws(() => renderBenchSvg(null as unknown as BenchResult), TypeError);
  t.throws(() => renderBenchSvg({ suite: 'hw' } as unknown as BenchResult), TypeError);
  const broken = renderBenchSvg(result([row('h', { histogram: { subject: { perDecade: 0, start: 1, counts: [1] }, baseline: null } })]));
  t.notMatch(broken, /NaN/, 'an invalid histogram is skipped, the summary still drawn');
  t.match(broken, /<title>JS median<\/title>/);
});
