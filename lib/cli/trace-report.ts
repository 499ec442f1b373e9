/**
 * The text `vfio-ddk trace` prints: a recording's summary (lib/trace/summary.ts) as tables, and a
 * replay's outcome (lib/trace/replay.ts) in one line per device plus the first difference.
 */
import type { ReplayResult, TraceSummary } from '../trace/index.ts';
import { formatTable } from './output.ts';

/** Registers listed per device before "… N more". */
const REGISTER_ROWS = 40;

function us(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} s`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(2)} ms`;
  return `${value.toFixed(1)} µs`;
}

function rate(perSecond: number | null): string {
  if (perSecond === null) return '-';
  return perSecond >= 1000 ? `${(perSecond / 1000).toFixed(1)} k/s` : `${perSecond.toFixed(1)}/s`;
}

function bytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} byte${n === 1 ? '' : 's'}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function indent(text: string): string {
  return text.split('\n').map((line) => (line === '' ? line : `  ${line}`)).join('\n');
}

/** The summary of `file` as text (ends with a newline). */
export function formatTraceSummary(file: string, summary: TraceSummary): string {
  const devices = summary.devices.length;
  const lines = [`${file}: ${devices} device${devices === 1 ? '' : 's'}, ${summary.events} events over ${us(summary.durationUs)}`
    + ' (open it in ui.perfetto.dev or chrome://tracing)'];
  for (const device of summary.devices) {
    lines.push('', `${device.name} (${device.backend ?? 'unknown backend'})`);
    const registers = device.registers.slice(0, REGISTER_ROWS).map((r) => [`${r.space} ${r.reg}`, String(r.reads), String(r.writes)]);
    if (registers.length > 0) lines.push(indent(formatTable(['register', 'reads', 'writes'], registers)).trimEnd());
    if (device.registers.length > REGISTER_ROWS) lines.push(`  … ${device.registers.length - REGISTER_ROWS} more registers`);
    if (device.interrupts.length > 0) {
      lines.push(indent(formatTable(['interrupt', 'fires', 'deliveries', 'rate', 'raise → delivery (median / p99 / max)'], device.interrupts.map((i) => [
        i.track, String(i.fires), String(i.deliveries), rate(i.ratePerSecond),
        i.raiseToDelivery === null ? '-' : `${us(i.raiseToDelivery.medianUs)} / ${us(i.raiseToDelivery.p99Us)} / ${us(i.raiseToDelivery.maxUs)} (${plural(i.raiseToDelivery.count, 'raise')})`,
      ]))).trimEnd());
    }
    const d = device.dma;
    if (d.maps > 0) lines.push(`  DMA: ${d.maps} mapping${d.maps === 1 ? '' : 's'} (${bytes(d.bytesMapped)}), ${d.hostMemorySpans} host-memory span${d.hostMemorySpans === 1 ? '' : 's'} (${bytes(d.hostMemoryBytes)})`);
  }
  if (summary.kitCalls.length > 0) {
    lines.push('', formatTable(['kit call', 'calls', 'failed', 'median', 'max'], summary.kitCalls.map((c) => [
      `${c.kit} ${c.name}`, String(c.calls), String(c.failures), us(c.medianUs), us(c.maxUs),
    ])).trimEnd());
  }
  return lines.join('\n') + '\n';
}

/** A replay's outcome as text: a line per device, then the first difference. */
export function formatReplay(file: string, result: ReplayResult): string {
  const d = result.difference;
  const head = d !== null ? 'DIFFERENT' : result.equal ? 'equal' : 'nothing replayed';
  const lines = [`${file}: ${head}`];
  for (const device of result.devices) {
    lines.push(device.skipped !== null ? `  ${device.name}: skipped — ${device.skipped}`
      : `  ${device.name}: ${device.events} events replayed on the emulated ${device.model ?? 'model'}, ${plural(device.reads, 'read')} and ${plural(device.interrupts, 'interrupt')} compared`);
    for (const note of device.notes) lines.push(`    ${note}`);
  }
  if (d !== null) {
    const at = d.seq === null ? 'before the first event' : `event seq ${d.seq}${d.tsUs === null ? '' : ` at ${(d.tsUs / 1000).toFixed(3)} ms`}`;
    lines.push(`first difference (${d.kind}, ${at}) on ${d.device}:`, `  ${d.where}: recorded ${d.recorded}, model ${d.model}`);
  }
  return lines.join('\n') + '\n';
}
