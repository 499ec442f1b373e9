/** The shared printers: aligned text tables for people, pretty JSON for scripts. */
import type { CliContext } from './context.ts';

/** Pads columns to their widest cell; the last column is not padded (no trailing spaces). */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** JSON with bigint as decimal strings (BAR addresses do not fit a double exactly). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout(toJson(value));
}

export function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}
