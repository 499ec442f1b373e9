/**
 * `vfio-ddk trace --plot FILE.svg`: a trace drawn as a timeline, one self-contained SVG (no
 * dependencies, in the style of bench --plot) for reading a recording without a browser. One row
 * per track — per device its config space, BARs, DMA and each interrupt vector, then each kit — on a
 * shared time axis. Register accesses are slices (reads blue, writes orange), fires red ticks,
 * deliveries purple slices as long as the handler ran, kit calls cyan (waits as thin spans), DMA
 * green; a slice wide enough for its name is labelled.
 *
 * The file is read twice, streaming (reader.ts): once for the tracks and the time range, once to
 * paint time bins per track. Events are binned (plot-axis.ts BINS per track), so a trace of millions
 * of accesses draws as fast, and as large, as a short one; long quiet stretches become break bands.
 */
import { basename } from 'node:path';
import { escapeXml, svgNumber as fmt } from '../svg.ts';
import { CAT, KITS_PID, type TraceEvent } from './format.ts';
import { forEachTraceEvent, TraceMetadata } from './reader.ts';
import { BINS, binOf, tickStep, timeAxis, type TimeAxis } from './plot-axis.ts';

const WIDTH = 1000;
const LABEL_W = 200;
const RIGHT = 16;
const PLOT_W = WIDTH - LABEL_W - RIGHT;
const HEADER_H = 52;
const AXIS_H = 22;
const ROW_H = 20;
const GROUP_H = 22;
const LEGEND_ROW_H = 18;
/** Average glyph width of the 9 px and 11 px sans-serif text, for fitting labels. */
const CHAR_W_SMALL = 5.2;
const CHAR_W = 6.3;
/** Labelled slices kept per track (the first ones wide enough). */
const LABELS_PER_TRACK = 60;
/** Tick labels closer than this (px) to the last one drawn are left out. */
const TICK_LABEL_GAP = 56;

/** Paint kinds in drawing priority (a pixel column shows the highest one present). */
const KINDS = [
  { key: 'span', color: '#67e8f9', label: 'kit wait (Promise)' },
  { key: 'config', color: '#64748b', label: 'config access' },
  { key: 'read', color: '#2563eb', label: 'BAR read' },
  { key: 'write', color: '#ea580c', label: 'BAR write' },
  { key: 'dma', color: '#16a34a', label: 'DMA map / host memory' },
  { key: 'kit', color: '#0891b2', label: 'kit call' },
  { key: 'deliver', color: '#9333ea', label: 'delivery (handler)' },
  { key: 'mark', color: '#6b7280', label: 'attach / mask / open / close' },
  { key: 'fire', color: '#dc2626', label: 'interrupt fire / message' },
] as const;
type Kind = (typeof KINDS)[number]['key'];
const LEGEND_ORDER: readonly Kind[] = ['read', 'write', 'config', 'dma', 'fire', 'deliver', 'kit', 'span', 'mark'];
const KIND_BIT: Readonly<Record<Kind, number>> = Object.fromEntries(KINDS.map((k, i) => [k.key, 1 << i])) as Record<Kind, number>;

function kindOf(event: TraceEvent): Kind {
  const a = event.args ?? {};
  switch (event.cat) {
    case CAT.config: return 'config';
    case CAT.bar: return a['op'] === 'write' ? 'write' : 'read';
    case CAT.dma: return 'dma';
    case CAT.kit: return event.ph === 'X' ? 'kit' : 'span';
    case CAT.irq: return event.name === 'deliver' ? 'deliver' : event.name === 'fire' || event.name === 'message' ? 'fire' : 'mark';
    default: return event.name === 'deliver' ? 'deliver' : event.ph === 'X' ? 'kit' : 'mark';
  }
}

interface Track {
  readonly pid: number;
  readonly tid: number;
  events: number;
  /** Per time bin: the kinds painted there (KIND_BIT bits). */
  bins: Uint16Array;
  /** Slices long enough to carry their name, in µs. */
  labels: { from: number; to: number; text: string; dark: boolean }[];
}

function fit(text: string, width: number, charW: number): string {
  const max = Math.floor(width / charW);
  return text.length <= max ? text : max <= 1 ? '' : `${text.slice(0, max - 1)}…`;
}

function timeLabel(us: number, step: number): string {
  if (step >= 1e6) return `${fmt(us / 1e6)} s`;
  if (step >= 1e3) return `${(us / 1e3).toFixed(step >= 1e4 ? 0 : 1).replace(/\.0$/, '')} ms`;
  return `${us.toFixed(step >= 1 ? 0 : 1)} µs`;
}

/** The SVG document for the trace at `path` (the reader's errors for a file that is not a trace). */
export function renderTraceSvg(path: string): string {
  // Pass 1: names, tracks, time range.
  const meta = new TraceMetadata(path);
  const tracks = new Map<string, Track>();
  let t0 = Infinity;
  let t1 = -Infinity;
  let total = 0;
  forEachTraceEvent(path, (event) => {
    if (meta.take(event) || event.ts === undefined) return;
    total++;
    t0 = Math.min(t0, event.ts);
    t1 = Math.max(t1, event.ts + (event.dur ?? 0));
    const tid = event.tid ?? 0;
    const key = `${event.pid}:${tid}`;
    const track = tracks.get(key) ?? { pid: event.pid, tid, events: 0, bins: new Uint16Array(BINS), labels: [] };
    track.events++;
    tracks.set(key, track);
  });
  if (!Number.isFinite(t0)) { t0 = 0; t1 = 1; }
  if (t1 <= t0) t1 = t0 + 1;
  // Pass 2: paint time bins; keep the slices long enough to name (placed once the axis is known).
  const asyncStarts = new Map<number, number>();
  const busy = new Uint8Array(BINS);
  const paint = (track: Track, kind: Kind, from: number, to: number, text: string | null): void => {
    const a = binOf(from, t0, t1);
    const b = Math.max(a, binOf(to, t0, t1));
    for (let c = a; c <= b; c++) {
      track.bins[c] = (track.bins[c] as number) | KIND_BIT[kind];
      // A Promise waiting is not activity: a long wait may still become a break band.
      if (kind !== 'span') busy[c] = 1;
    }
    // Candidates for a label: ones that could fit once quiet stretches are squeezed (checked when drawn).
    if (text !== null && track.labels.length < LABELS_PER_TRACK && to - from >= ((text.length + 1) * CHAR_W_SMALL * (t1 - t0)) / PLOT_W / 10) {
      track.labels.push({ from, to, text, dark: kind === 'span' });
    }
  };
  forEachTraceEvent(path, (event) => {
    if (event.ph === 'M' || event.ts === undefined) return;
    const track = tracks.get(`${event.pid}:${event.tid ?? 0}`);
    if (track === undefined) return;
    const kind = kindOf(event);
    if (event.ph === 'b' && event.id !== undefined) { asyncStarts.set(event.id, event.ts); return; }
    if (event.ph === 'e' && event.id !== undefined) {
      const from = asyncStarts.get(event.id) ?? event.ts;
      asyncStarts.delete(event.id);
      paint(track, 'span', from, event.ts, event.name);
      return;
    }
    paint(track, kind, event.ts, event.ts + (event.dur ?? 0), event.ph === 'X' ? event.name : null);
  });

  // Rows: devices in pid order, each with its tracks in tid order; the kits last.
  const pids = [...new Set([...tracks.values()].map((t) => t.pid))].sort((a, b) => (a === KITS_PID ? 1 : b === KITS_PID ? -1 : a - b));
  const rowsHeight = pids.reduce((h, pid) => h + GROUP_H + [...tracks.values()].filter((t) => t.pid === pid).length * ROW_H, 0);
  const legendHeight = LEGEND_ROW_H * (Math.max(...legendLayout(0).map((i) => i.y)) / LEGEND_ROW_H + 1) + 12;
  const height = HEADER_H + AXIS_H + rowsHeight + legendHeight;
  const plotTop = HEADER_H + AXIS_H;
  const devices = [...meta.devices.keys()].length;
  const command = meta.info?.argv.slice(1).map((w) => (w.includes('/') ? basename(w) : w)).join(' ') ?? '';
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    '<style>.title{font-size:13px;font-weight:bold}.sub{font-size:11px;fill:#444}.group{font-size:11px;font-weight:bold}.track{font-size:11px;fill:#222}.count{font-size:9px;fill:#777;text-anchor:end}.tick{font-size:10px;text-anchor:middle;fill:#444}.grid{stroke:#e5e7eb}.break{fill:#f3f4f6;stroke:#d1d5db;stroke-dasharray:3 3}.break-label{font-style:italic;fill:#777}.label{font-size:9px;fill:#fff}.label-dark{font-size:9px;fill:#155e75}.legend{font-size:11px}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="20" class="title">${escapeXml(fit(`vfio-ddk trace — ${basename(path)}: ${devices} device${devices === 1 ? '' : 's'}, ${total} events in ${timeLabel(t1 - t0, tickStep(t1 - t0, 1))}`, WIDTH - 24, 7.4))}</text>`,
    `<text x="12" y="38" class="sub">${escapeXml(fit(command === '' ? 'recorded elsewhere (no vfio-ddk record)' : `recorded from: ${command}`, WIDTH - 24, CHAR_W))}</text>`,
  ];
  const axis = timeAxis(t0, t1, busy, PLOT_W);
  // Break labels first; a tick label too close to one already placed is left out (its line stays).
  const placed: number[] = [];
  for (const gap of axis.breaks) {
    const bx = LABEL_W + gap.x;
    const length = timeLabel(gap.us, tickStep(gap.us, 1));
    out.push(`<rect x="${fmt(bx)}" y="${plotTop}" width="${gap.width}" height="${rowsHeight}" class="break"><title>${escapeXml(`nothing happened for ${length}`)}</title></rect>`);
    out.push(`<text x="${fmt(bx + gap.width / 2)}" y="${plotTop - 8}" class="tick break-label">${escapeXml(`+${length}`)}</text>`);
    placed.push(gap.x + gap.width / 2);
  }
  for (const tick of axis.ticks) {
    const tx = LABEL_W + tick.x;
    out.push(`<line x1="${fmt(tx)}" x2="${fmt(tx)}" y1="${plotTop - 4}" y2="${plotTop + rowsHeight}" class="grid"/>`);
    if (placed.some((p) => Math.abs(p - tick.x) < TICK_LABEL_GAP)) continue;
    placed.push(tick.x);
    out.push(`<text x="${fmt(tx)}" y="${plotTop - 8}" class="tick">${escapeXml(timeLabel(tick.at, axis.step))}</text>`);
  }
  let y = plotTop;
  for (const pid of pids) {
    const name = meta.processNames.get(pid) ?? `pid ${pid}`;
    out.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${GROUP_H}" fill="#f3f4f6"/>`);
    out.push(`<text x="8" y="${y + 15}" class="group">${escapeXml(fit(name, WIDTH - 16, 7))}</text>`);
    y += GROUP_H;
    for (const track of [...tracks.values()].filter((t) => t.pid === pid).sort((a, b) => a.tid - b.tid)) {
      const trackName = meta.threadNames.get(pid)?.get(track.tid) ?? `track ${track.tid}`;
      out.push(`<text x="16" y="${y + 14}" class="track">${escapeXml(fit(trackName, LABEL_W - 60, CHAR_W))}</text>`);
      out.push(`<text x="${LABEL_W - 8}" y="${y + 14}" class="count">${track.events}</text>`);
      out.push(`<line x1="${LABEL_W}" x2="${WIDTH - RIGHT}" y1="${y + ROW_H - 0.5}" y2="${y + ROW_H - 0.5}" class="grid"/>`);
      out.push(...columnsToRects(columnsOf(track.bins, axis), LABEL_W, y + 3, ROW_H - 6));
      let labelEnd = -Infinity;
      for (const label of track.labels) {
        const lx = axis.x(label.from);
        const w = axis.x(label.to) - lx;
        const text = fit(label.text, w - 4, CHAR_W_SMALL);
        if (lx < labelEnd || text === '' || text.endsWith('…')) continue;
        out.push(`<text x="${fmt(LABEL_W + lx + 2)}" y="${y + 13}" class="${label.dark ? 'label-dark' : 'label'}">${escapeXml(text)}</text>`);
        labelEnd = lx + w;
      }
      y += ROW_H;
    }
  }
  for (const item of legendLayout(height - legendHeight + 18)) {
    out.push(`<rect x="${item.x}" y="${item.y - 10}" width="12" height="12" fill="${item.color}"/>`);
    out.push(`<text x="${item.x + 16}" y="${item.y}" class="legend">${escapeXml(item.label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Where the legend's swatches go: left to right, wrapping at the picture's width; `top` is the first row's baseline. */
function legendLayout(top: number): { x: number; y: number; color: string; label: string }[] {
  const items: { x: number; y: number; color: string; label: string }[] = [];
  let x = 12;
  let y = top;
  for (const key of LEGEND_ORDER) {
    const kind = KINDS.find((k) => k.key === key) as (typeof KINDS)[number];
    const width = 16 + kind.label.length * CHAR_W + 14;
    if (x + width > WIDTH - 12) { x = 12; y += LEGEND_ROW_H; }
    items.push({ x, y, color: kind.color, label: kind.label });
    x += width;
  }
  return items;
}

/** The time bins painted into pixel columns through the axis (a column shows every kind of its bins). */
function columnsOf(bins: Uint16Array, axis: TimeAxis): Uint16Array {
  const columns = new Uint16Array(PLOT_W);
  const binUs = (axis.t1 - axis.t0) / BINS;
  for (let b = 0; b < BINS; b++) {
    const bits = bins[b] as number;
    if (bits === 0) continue;
    const from = Math.min(PLOT_W - 1, Math.floor(axis.x(axis.t0 + b * binUs)));
    const to = Math.min(PLOT_W - 1, Math.max(from, Math.ceil(axis.x(axis.t0 + (b + 1) * binUs)) - 1));
    for (let c = from; c <= to; c++) columns[c] = (columns[c] as number) | bits;
  }
  return columns;
}

/** Runs of equal painted columns as rects, coloured by the highest-priority kind in each column. */
function columnsToRects(columns: Uint16Array, x0: number, y: number, h: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (let c = 1; c <= columns.length; c++) {
    const prev = columns[c - 1] as number;
    if (c < columns.length && columns[c] === prev) continue;
    if (prev !== 0) {
      const top = 31 - Math.clz32(prev);
      const kind = KINDS[top] as (typeof KINDS)[number];
      const thin = kind.key === 'span';
      out.push(`<rect x="${x0 + start}" y="${fmt(thin ? y + h / 2 - 2 : y)}" width="${c - start}" height="${fmt(thin ? 4 : h)}" fill="${kind.color}"><title>${escapeXml(kind.label)}</title></rect>`);
    }
    start = c;
  }
  return out;
}
