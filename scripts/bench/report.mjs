/**
 * Benchmark rows, targets, the text table and the JSON files (bench-results/host.json, hw.json).
 *
 * A row: { name, unit, n, subject: {min, median, p99, max}, baseline: {…} | null, baseline_name,
 * ratio_median, ratio_p99, lost, histogram: { subject, baseline } (stats.mjs grid; null where a side
 * has no samples, e.g. the C baseline prints only its summary), plus row-specific extras }.
 * Ratios are subject ÷ baseline: below 1 the subject is faster.
 *
 * Targets (issue "Benchmarks") are reported as met / missed, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { histogram, ratio, summarize } from './stats.mjs';

/**
 * Builds a row from samples (arrays of ns) or ready summaries (the C side).
 * @param {object} o { name, unit?, subject: samples|summary, baseline?: samples|summary|null,
 *   baselineName?, n?, lost?, extra? }
 */
export function makeRow(o) {
  if (typeof o?.name !== 'string' || o.name === '') throw new TypeError('makeRow: name is required');
  const side = (value) => {
    if (value === null || value === undefined) return { summary: null, hist: null, n: 0 };
    if (typeof value.length === 'number') return { summary: summarize(value), hist: histogram(value), n: value.length };
    return { summary: { min: value.min, median: value.median, p99: value.p99, max: value.max }, hist: null, n: value.n ?? 0 };
  };
  const s = side(o.subject);
  if (s.summary === null) throw new TypeError(`makeRow ${o.name}: subject is required`);
  const b = side(o.baseline);
  return {
    name: o.name,
    unit: o.unit ?? 'ns',
    n: o.n ?? s.n,
    subject: s.summary,
    baseline: b.summary,
    baseline_name: b.summary === null ? null : (o.baselineName ?? null),
    ratio_median: ratio(s.summary.median, b.summary?.median),
    ratio_p99: ratio(s.summary.p99, b.summary?.p99),
    lost: o.lost ?? null,
    ...(o.extra ?? {}),
    histogram: { subject: s.hist, baseline: b.hist },
  };
}

/**
 * Pairs a JS row from the guest (its `pair` names the C row) with the C baseline's printed row
 * ({ name, n, min, median, p99, max, … }): baseline, ratios, and for the storm the rate ratio.
 */
export function pairWithBaseline(jsRow, cRows) {
  const c = cRows.find((r) => r.name === jsRow.pair) ?? null;
  const row = { ...jsRow, histogram: { subject: jsRow.histogram?.subject ?? null, baseline: c?.histogram ?? null } };
  delete row.pair;
  if (c === null) return { ...row, baseline: null, baseline_name: null, ratio_median: null, ratio_p99: null };
  const baseline = { min: c.min, median: c.median, p99: c.p99, max: c.max };
  const paired = { ...row, baseline, baseline_name: c.name, ratio_median: ratio(row.subject.median, c.median), ratio_p99: ratio(row.subject.p99, c.p99) };
  if (typeof c.rate_per_s === 'number') {
    paired.baseline_rate_per_s = c.rate_per_s;
    paired.baseline_lost = c.lost ?? null;
    paired.rate_ratio = typeof row.rate_per_s === 'number' ? ratio(row.rate_per_s, c.rate_per_s) : null;
  }
  return paired;
}

/** The targets: row name → check(row, rows). Rows absent from a run are "not measured". */
const medianAtMost = (x) => (r) => r.ratio_median !== null && r.ratio_median <= x;
/** An accessor row against the raw typed-array view's row of the same run. */
const accessorWithin = (viewRow, x) => (r, rows) => {
  const view = rows.find((v) => v.name === viewRow);
  return view !== undefined && r.subject.median <= x * view.subject.median;
};

export const TARGETS = [
  { row: 'msi_roundtrip_zx_interrupt_wait_blocking', text: 'MSI via blocking zx_interrupt_wait: median ≤ 1.3× C blocking read, p99 ≤ 2×',
    check: (r) => r.ratio_median !== null && r.ratio_median <= 1.3 && r.ratio_p99 !== null && r.ratio_p99 <= 2 },
  { row: 'msi_roundtrip_zx_interrupt_wait', text: 'MSI via async zx_interrupt_wait: median ≤ 3× C blocking read',
    check: medianAtMost(3) },
  { row: 'msi_roundtrip_zx_port', text: 'MSI via async zx_port_wait + ack: median ≤ 3× C', check: medianAtMost(3) },
  { row: 'msi_roundtrip_ddi_handler', text: 'MSI via a ddi_intr handler on the event loop: median ≤ 3× C', check: medianAtMost(3) },
  { row: 'mmio_read32_view', text: 'MMIO read32 through the BAR view: median ≤ 1.2× C',
    check: (r) => r.ratio_median !== null && r.ratio_median <= 1.2 },
  { row: 'mmio_write32_view', text: 'MMIO write32 through the BAR view: median ≤ 1.2× C',
    check: (r) => r.ratio_median !== null && r.ratio_median <= 1.2 },
  { row: 'mmio_read32_accessor', text: 'MMIO read32 through bar(0).read32: median ≤ 1.5× the view row\'s',
    check: accessorWithin('mmio_read32_view', 1.5) },
  { row: 'mmio_write32_accessor', text: 'MMIO write32 through bar(0).write32: median ≤ 1.5× the view row\'s',
    check: accessorWithin('mmio_write32_view', 1.5) },
  { row: 'dma_map_unmap_4k', text: 'DMA map + unmap of 4 KiB: median ≤ 1.5× C', check: medianAtMost(1.5) },
  { row: 'storm_irqline', text: 'MSI storm: 0 lost, rate ≥ 50 % of C',
    check: (r) => r.lost === 0 && typeof r.rate_ratio === 'number' && r.rate_ratio >= 0.5 },
  { row: 'zx_interrupt_wait_virtual', text: 'virtual trigger → zx_interrupt_wait: median ≤ 3× bare Promise ping-pong',
    check: (r) => r.ratio_median !== null && r.ratio_median <= 3 },
  { row: 'zx_port_wait_virtual', text: 'virtual trigger → zx_port_wait + ack: median ≤ 3× bare Promise ping-pong',
    check: (r) => r.ratio_median !== null && r.ratio_median <= 3 },
];

/** [{ row, text, status: 'met' | 'missed' }] for the targets whose row was measured. */
export function evaluateTargets(rows) {
  const out = [];
  for (const target of TARGETS) {
    const row = rows.find((r) => r.name === target.row);
    if (row === undefined) continue;
    out.push({ row: target.row, text: target.text, status: target.check(row, rows) ? 'met' : 'missed' });
  }
  return out;
}

/** A duration in ns as people read it: "49.9 ns", "7.81 µs", "4.80 ms". */
export function formatNs(ns) {
  if (typeof ns !== 'number' || !Number.isFinite(ns)) return '-';
  if (ns < 1e3) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

function formatRatio(r) {
  return r === null || r === undefined ? '-' : `×${r.toFixed(2)}`;
}

function pad(cells, widths, rightAligned) {
  return cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
}

/** The text table: one line per row, subject and baseline side by side, then the targets. */
export function formatTable(result, { subjectLabel = 'JS', baselineLabel = 'C' } = {}) {
  const headers = ['row', 'n', `${subjectLabel} min`, 'median', 'p99', 'max', `${baselineLabel} (row)`, 'median', 'p99', 'ratio med', 'ratio p99', 'lost'];
  const right = [false, true, true, true, true, true, false, true, true, true, true, true];
  const lines = result.rows.map((r) => [
    r.name, String(r.n), formatNs(r.subject.min), formatNs(r.subject.median), formatNs(r.subject.p99), formatNs(r.subject.max),
    r.baseline_name ?? '-', formatNs(r.baseline?.median), formatNs(r.baseline?.p99),
    formatRatio(r.ratio_median), formatRatio(r.ratio_p99), r.lost === null || r.lost === undefined ? '' : String(r.lost),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const out = [pad(headers, widths, right), ...lines.map((l) => pad(l, widths, right))];
  for (const r of result.rows) if (r.note) out.push(`  ${r.name}: ${r.note}`);
  const targets = result.targets ?? [];
  if (targets.length > 0) {
    out.push('', 'Targets (reported, not asserted):');
    for (const t of targets) out.push(`  [${t.status === 'met' ? 'met   ' : 'MISSED'}] ${t.text}`);
  }
  const meta = [
    ['suite', result.suite], ['node', result.node], ['kernel', result.kernel], ['accel', result.accel], ['clocksource', result.clocksource], ['THP', result.thp],
    ['iterations', result.iterations], ['timer ns/read', result.timer_ns], ['date', result.date],
  ].filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k} ${v}`);
  if (meta.length > 0) out.push('', meta.join(', '));
  for (const e of result.errors ?? []) out.push(`not measured: ${e.what}: ${e.message}`);
  return out.join('\n') + '\n';
}

/** Writes `result` as pretty JSON to `path` (creating the folder). */
export function writeResult(path, result) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
}
