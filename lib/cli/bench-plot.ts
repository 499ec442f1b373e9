/**
 * `vfio-ddk bench --plot FILE.svg`: latency histograms of every row as one self-contained SVG, no
 * dependencies. One panel per row: the subject's histogram (JS) and the baseline's (host suite) on
 * a shared logarithmic time axis, each normalised to its own sample count; when the baseline has
 * only a summary (the C baseline prints no samples) its median and p99 are drawn as lines instead.
 */
import type { BenchHistogram, BenchResult, BenchRow, BenchSummary } from './bench-types.ts';
import { escapeXml, svgNumber as fmt } from '../svg.ts';

const PANEL_W = 460;
const PANEL_H = 170;
const MARGIN = { left: 44, right: 12, top: 34, bottom: 28 };
const COLUMNS = 2;
const SUBJECT_COLOR = '#2563eb';
const BASELINE_COLOR = '#ea580c';

export interface PlotLabels {
  readonly subject: string;
  readonly baseline: string;
}

export { escapeXml } from '../svg.ts';

/** "10 ns", "1 µs", "100 ms" for a power of ten in ns. */
function decadeLabel(exponent: number): string {
  const units: [number, string][] = [[9, 's'], [6, 'ms'], [3, 'µs'], [0, 'ns']];
  for (const [base, unit] of units) if (exponent >= base) return `${10 ** (exponent - base)} ${unit}`;
  return `${10 ** exponent} ns`;
}

/** "3.2 µs" for a log10(ns) position. */
function decadeLabelAt(log: number): string {
  const ns = 10 ** log;
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(2)} µs`;
  return `${ns.toPrecision(2)} ns`;
}

function validHistogram(h: BenchHistogram | null | undefined): h is BenchHistogram {
  return h !== null && h !== undefined && Number.isInteger(h.perDecade) && h.perDecade > 0 && Number.isInteger(h.start)
    && Array.isArray(h.counts) && h.counts.length > 0 && h.counts.every((c) => Number.isFinite(c) && c >= 0);
}

function log10ns(ns: number): number {
  return Math.log10(Math.max(ns, 0.01));
}

interface Axis {
  readonly lo: number;
  readonly hi: number;
  x(log: number): number;
}

/**
 * The panel's x range in log10(ns): from the smallest minimum to half a decade past the larger p99,
 * so the body of both distributions is readable; the far tail (GC pauses, preemption) is counted in
 * the panel instead of stretching the axis.
 */
function axisFor(row: BenchRow, x0: number, width: number): Axis {
  let lo = Infinity;
  let hi = -Infinity;
  const points: (BenchSummary | null)[] = [row.subject, row.baseline];
  for (const s of points) {
    if (s === null) continue;
    lo = Math.min(lo, log10ns(s.min));
    hi = Math.max(hi, log10ns(s.p99) + 0.5);
  }
  lo = Math.floor(lo * 2) / 2;
  hi = Math.max(lo + 0.5, Math.ceil(hi * 2) / 2);
  return { lo, hi, x: (log) => x0 + ((log - lo) / (hi - lo)) * width };
}

function bars(h: BenchHistogram, axis: Axis, yBase: number, height: number, peak: number, side: 'subject' | 'baseline'): string[] {
  const color = side === 'subject' ? SUBJECT_COLOR : BASELINE_COLOR;
  const opacity = side === 'subject' ? 0.6 : 0.55;
  const total = h.counts.reduce((a, b) => a + b, 0);
  const out: string[] = [];
  h.counts.forEach((count, j) => {
    if (count === 0 || total === 0 || (h.start + j) / h.perDecade >= axis.hi) return;
    const x1 = axis.x((h.start + j) / h.perDecade);
    const x2 = axis.x((h.start + j + 1) / h.perDecade);
    const barH = ((count / total) / peak) * height;
    out.push(`<rect class="bar-${side}" x="${fmt(x1)}" y="${fmt(yBase - barH)}" width="${fmt(Math.max(0.5, x2 - x1 - 0.5))}" height="${fmt(barH)}" fill="${color}" fill-opacity="${opacity}"/>`);
  });
  return out;
}

function marker(log: number, axis: Axis, top: number, bottom: number, color: string, dash: string, label: string): string {
  const x = fmt(axis.x(log));
  return `<line x1="${x}" x2="${x}" y1="${fmt(top)}" y2="${fmt(bottom)}" stroke="${color}" stroke-width="1.5" stroke-dasharray="${dash}"><title>${escapeXml(label)}</title></line>`;
}

function panel(row: BenchRow, ox: number, oy: number, labels: PlotLabels): string[] {
  const subject = validHistogram(row.histogram?.subject) ? (row.histogram?.subject as BenchHistogram) : null;
  const baseline = validHistogram(row.histogram?.baseline) ? (row.histogram?.baseline as BenchHistogram) : null;
  const plotX = ox + MARGIN.left;
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const top = oy + MARGIN.top;
  const bottom = oy + PANEL_H - MARGIN.bottom;
  const axis = axisFor(row, plotX, plotW);
  const fraction = (h: BenchHistogram | null): number => {
    if (h === null) return 0;
    const total = h.counts.reduce((a, b) => a + b, 0);
    return total === 0 ? 0 : Math.max(...h.counts) / total;
  };
  const peak = Math.max(fraction(subject), fraction(baseline), 1e-9);
  // The baseline's row name is in the tooltip (and the JSON): in the title it would run into the next panel.
  const ratio = row.ratio_median === null ? '' : ` — median ×${row.ratio_median.toFixed(2)}`;
  const out = [
    `<g class="panel"><title>${escapeXml(row.baseline_name ? `${row.name} vs ${row.baseline_name}` : row.name)}</title>`,
    `<text x="${fmt(ox + MARGIN.left)}" y="${fmt(oy + 16)}" class="title">${escapeXml(row.name + ratio)}</text>`,
    `<line x1="${fmt(plotX)}" x2="${fmt(plotX + plotW)}" y1="${fmt(bottom)}" y2="${fmt(bottom)}" class="axis"/>`,
  ];
  for (let e = Math.ceil(axis.lo); e <= Math.floor(axis.hi); e++) {
    const x = fmt(axis.x(e));
    out.push(`<line x1="${x}" x2="${x}" y1="${fmt(top)}" y2="${fmt(bottom + 3)}" class="grid"/>`);
    out.push(`<text x="${x}" y="${fmt(bottom + 15)}" class="tick">${escapeXml(decadeLabel(e))}</text>`);
  }
  if (baseline !== null) out.push(...bars(baseline, axis, bottom, bottom - top, peak, 'baseline'));
  if (subject !== null) out.push(...bars(subject, axis, bottom, bottom - top, peak, 'subject'));
  const beyond = subject === null ? 0 : subject.counts.reduce((sum, c, j) => ((subject.start + j) / subject.perDecade >= axis.hi ? sum + c : sum), 0);
  if (beyond > 0) out.push(`<text x="${fmt(plotX + plotW)}" y="${fmt(top + 10)}" class="note">${escapeXml(`${beyond} ${labels.subject} sample${beyond === 1 ? '' : 's'} beyond ${decadeLabelAt(axis.hi)}`)}</text>`);
  if (subject === null) out.push(marker(log10ns(row.subject.median), axis, top, bottom, SUBJECT_COLOR, '0', `${labels.subject} median`));
  if (row.baseline !== null && baseline === null) {
    out.push(marker(log10ns(row.baseline.median), axis, top, bottom, BASELINE_COLOR, '0', `${labels.baseline} median`));
    out.push(marker(log10ns(row.baseline.p99), axis, top, bottom, BASELINE_COLOR, '4 3', `${labels.baseline} p99`));
  }
  out.push('</g>');
  return out;
}

/**
 * The SVG document for `result` (rows without any histogram still get a panel with their summary
 * lines). Labels name the two sides in the legend. TypeError when `result` has no rows array.
 */
export function renderBenchSvg(result: BenchResult, labels: PlotLabels = { subject: 'JS', baseline: 'C' }): string {
  if (typeof result !== 'object' || result === null || !Array.isArray(result.rows)) throw new TypeError('renderBenchSvg: result.rows must be an array');
  const rows = result.rows.filter((r) => typeof r?.name === 'string' && typeof r.subject?.median === 'number');
  const panelRows = Math.max(1, Math.ceil(rows.length / COLUMNS));
  const width = PANEL_W * COLUMNS;
  const height = 40 + panelRows * PANEL_H;
  const suite = typeof result.suite === 'string' ? result.suite : 'bench';
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    '<style>.title{font-size:12px;font-weight:bold}.tick{font-size:10px;text-anchor:middle;fill:#444}.axis{stroke:#333}.grid{stroke:#ddd}.legend{font-size:12px}.note{font-size:10px;text-anchor:end;fill:#444}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" class="title">${escapeXml(`vfio-ddk bench (${suite}): latency histograms, fraction of samples per bin`)}</text>`,
    `<rect x="${width - 250}" y="11" width="12" height="12" fill="${SUBJECT_COLOR}" fill-opacity="0.6"/>`,
    `<text x="${width - 234}" y="22" class="legend">${escapeXml(labels.subject)}</text>`,
    `<rect x="${width - 130}" y="11" width="12" height="12" fill="${BASELINE_COLOR}" fill-opacity="0.55"/>`,
    `<text x="${width - 114}" y="22" class="legend">${escapeXml(labels.baseline)}</text>`,
  ];
  rows.forEach((row, i) => {
    out.push(...panel(row, (i % COLUMNS) * PANEL_W, 40 + Math.floor(i / COLUMNS) * PANEL_H, labels));
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
