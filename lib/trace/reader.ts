/**
 * Reading trace files: this recorder's one-event-per-line array (streamed, a block at a time, so a
 * large trace is never parsed whole), and any other Chrome trace-event JSON — the array form or
 * `{"traceEvents": [...]}` — parsed whole. Like Chrome's importer, an array without its closing
 * bracket (a recording process that was killed) is read up to its last complete event.
 *
 * Errors: DdkError with code 'ENOENT' / 'EACCES' … when the file cannot be read, and
 * 'ERR_NOT_A_TRACE' when it is not trace-event JSON.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { DdkError } from '../errors.ts';
import { DEVICE_META, TRACE_META, type DeviceInfo, type TraceEvent, type TraceInfo } from './format.ts';

const BLOCK = 1 << 20;

function isEvent(value: unknown): value is TraceEvent {
  return typeof value === 'object' && value !== null && typeof (value as { ph?: unknown }).ph === 'string';
}

function notATrace(path: string, why: string): DdkError {
  return new DdkError('ERR_NOT_A_TRACE', `${path} is not a trace-event JSON file (${why}); give a file that \`vfio-ddk trace -o\` wrote`);
}

function openTrace(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'EIO';
    throw new DdkError(code, `cannot read ${path} (${code})`, { cause: err });
  }
}

/** The whole-file way, for trace-event JSON laid out some other way. */
function parseWhole(path: string, visit: (event: TraceEvent) => void): void {
  let text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('[') && !text.endsWith(']')) text = `${text.replace(/,\s*$/, '')}]`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw notATrace(path, `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const events = Array.isArray(parsed) ? parsed
    : typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { traceEvents?: unknown }).traceEvents)
      ? (parsed as { traceEvents: unknown[] }).traceEvents : null;
  if (events === null) throw notATrace(path, 'neither an array of events nor an object with "traceEvents"');
  for (const event of events) if (isEvent(event)) visit(event);
}

/** Parses one line of this recorder's layout: an event, or undefined for "[" / "]" / a cut last line. */
function parseLine(line: string): TraceEvent | null | undefined {
  const text = line.trim().replace(/,$/, '');
  if (text === '' || text === '[' || text === ']') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isEvent(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Streams this recorder's layout; returns false (having visited nothing) when the file is laid out
 * some other way, so the caller parses it whole.
 */
function streamLines(fd: number, path: string, visit: (event: TraceEvent) => void): boolean {
  const buffer = Buffer.alloc(BLOCK);
  let carry = '';
  let first = true;
  let seen = 0;
  let read: number;
  while ((read = readSync(fd, buffer, 0, BLOCK, null)) > 0) {
    const text = carry + buffer.toString('utf8', 0, read);
    if (first) {
      first = false;
      if (!/^\s*\[\s*(\n|$)/.test(text)) return false;
    }
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseLine(line);
      if (event === undefined) continue;
      if (event === null) {
        if (seen === 0) return false;
        throw notATrace(path, `line ${seen + 2} is not an event`);
      }
      seen++;
      visit(event);
    }
  }
  if (first) throw notATrace(path, 'it is empty');
  // The last line: complete, or cut by a killed writer (then dropped, as Chrome drops it).
  const last = parseLine(carry);
  if (last) visit(last);
  return true;
}

/**
 * Calls `visit` for every event of the trace at `path`, in file order. Returns the number of events.
 * Throws DdkError (see the module comment).
 */
export function forEachTraceEvent(path: string, visit: (event: TraceEvent) => void): number {
  let count = 0;
  const counted = (event: TraceEvent): void => { count++; visit(event); };
  const fd = openTrace(path);
  let streamed: boolean;
  try {
    streamed = streamLines(fd, path, counted);
  } finally {
    closeSync(fd);
  }
  if (!streamed) parseWhole(path, counted);
  return count;
}

/** A trace read whole: its records and every event. */
export interface TraceContent {
  /** The recorder's record; null for trace-event JSON from elsewhere. */
  readonly info: TraceInfo | null;
  /** Device records by pid, with the name Chrome shows for the pid. */
  readonly devices: ReadonlyMap<number, DeviceInfo & { readonly name: string }>;
  /** Track names by pid, then tid. */
  readonly processNames: ReadonlyMap<number, string>;
  readonly threadNames: ReadonlyMap<number, ReadonlyMap<number, string>>;
  readonly events: readonly TraceEvent[];
}

/** The names and records a trace's metadata events carry, gathered while visiting them. */
export class TraceMetadata {
  info: TraceInfo | null = null;
  readonly devices = new Map<number, DeviceInfo & { readonly name: string }>();
  readonly processNames = new Map<number, string>();
  readonly threadNames = new Map<number, Map<number, string>>();

  /** Takes what `event` says when it is a metadata event; returns whether it was one. */
  take(event: TraceEvent): boolean {
    if (event.ph !== 'M') return false;
    const args = event.args ?? {};
    if (event.name === TRACE_META) this.info = args as unknown as TraceInfo;
    else if (event.name === 'process_name' && typeof args['name'] === 'string') this.processNames.set(event.pid, args['name']);
    else if (event.name === 'thread_name' && typeof args['name'] === 'string' && event.tid !== undefined) {
      let names = this.threadNames.get(event.pid);
      if (names === undefined) this.threadNames.set(event.pid, names = new Map());
      names.set(event.tid, args['name']);
    } else if (event.name === DEVICE_META) {
      this.devices.set(event.pid, { ...(args as unknown as DeviceInfo), name: this.processNames.get(event.pid) ?? String(args['bdf']) });
    }
    return true;
  }
}

/** Reads the whole trace at `path` (for replay, which needs the events in order). */
export function readTrace(path: string): TraceContent {
  const meta = new TraceMetadata();
  const events: TraceEvent[] = [];
  forEachTraceEvent(path, (event) => { if (!meta.take(event)) events.push(event); });
  return { info: meta.info, devices: meta.devices, processNames: meta.processNames, threadNames: meta.threadNames, events };
}
