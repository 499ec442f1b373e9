/**
 * Reading trace files: this recorder's one-event-per-line array (streamed, a block at a time, so a
 * large trace is never parsed whole), and any other Chrome trace-event JSON — the array form or
 * `{"traceEvents": [...]}` — parsed whole. Like Chrome's importer, an array without its closing
 * bracket (a recording process that was killed) is read up to its last complete event.
 *
 * Errors: DdkError with code 'ENOENT' / 'EACCES' … when the file cannot be read, 'ERR_NOT_A_TRACE'
 * when it is not a regular file of trace-event JSON, 'EFBIG' past the whole-file reader's limit.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { DdkError, errnoCode, fileKind } from '../errors.ts';
import { DEVICE_META, TRACE_META, type DeviceInfo, type TraceEvent, type TraceInfo } from './format.ts';

const BLOCK = 1 << 20;

function isEvent(value: unknown): value is TraceEvent {
  return typeof value === 'object' && value !== null && typeof (value as { ph?: unknown }).ph === 'string';
}

function notATrace(path: string, why: string): DdkError {
  return new DdkError('ERR_NOT_A_TRACE', `${path} is not a trace-event JSON file (${why}); give a file that \`vfio-ddk trace -o\` wrote`);
}

/** The whole-file reader's limit: a trace laid out another way is parsed in memory. */
const MAX_WHOLE_BYTES = 512 << 20;
/** One event per line: a line longer than this is not one of the recorder's events. */
const MAX_LINE_CHARS = 16 << 20;

/** Opens a regular file (O_NONBLOCK: a FIFO given by mistake cannot block the open) and its size. */
function openTrace(path: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err, 'EIO');
    throw new DdkError(code, `cannot read ${path} (${code})`, { cause: err });
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw notATrace(path, `it is ${fileKind(st)}, not a regular file`);
  }
  return { fd, size: st.size };
}

/** The whole-file way, for trace-event JSON laid out some other way. */
function parseWhole(path: string, size: number, visit: (event: TraceEvent) => void): void {
  if (size > MAX_WHOLE_BYTES) {
    throw new DdkError('EFBIG', `${path}: ${size} bytes of trace-event JSON in a layout other than \`vfio-ddk trace -o\`'s ` +
      `one event per line would be parsed whole; at most ${MAX_WHOLE_BYTES >> 20} MiB are`);
  }
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
    if (carry.length > MAX_LINE_CHARS) throw notATrace(path, `line ${seen + 2} is longer than ${MAX_LINE_CHARS >> 20} Mi characters`);
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
  const { fd, size } = openTrace(path);
  let streamed: boolean;
  try {
    streamed = streamLines(fd, path, counted);
  } finally {
    closeSync(fd);
  }
  if (!streamed) parseWhole(path, size, counted);
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

const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isHex = (v: unknown): boolean => typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v);

/** What is wrong with a recorder's trace record, or null: the fields the readers use are checked. */
function traceInfoProblem(a: Record<string, unknown>): string | null {
  return Array.isArray(a['argv']) && a['argv'].every((w) => typeof w === 'string') ? null : 'argv is not an array of strings';
}

/** The same for a device record. */
function deviceInfoProblem(a: Record<string, unknown>): string | null {
  if (typeof a['bdf'] !== 'string') return 'bdf is not a string';
  for (const key of ['vendorId', 'deviceId', 'classCode', 'revision', 'command']) if (!isCount(a[key])) return `${key} is not a count`;
  const bars = a['bars'];
  if (!Array.isArray(bars) || bars.length > 6 || !bars.every((b) => b === null || isHex(b))) return 'bars is not 6 hex sizes or nulls';
  const irq = a['irqCounts'] as Record<string, unknown> | null | undefined;
  if (typeof irq !== 'object' || irq === null || !['intx', 'msi', 'msix'].every((k) => isCount(irq[k]))) return 'irqCounts is not { intx, msi, msix } counts';
  if (a['msiControl'] !== null && !isCount(a['msiControl'])) return 'msiControl is not a count or null';
  if (!isHex(a['dmaMask'])) return 'dmaMask is not a hex string';
  return null;
}

/** The names and records a trace's metadata events carry, gathered while visiting them. */
export class TraceMetadata {
  info: TraceInfo | null = null;
  readonly devices = new Map<number, DeviceInfo & { readonly name: string }>();
  readonly processNames = new Map<number, string>();
  readonly threadNames = new Map<number, Map<number, string>>();

  /** `path`: the file being read, for the error a malformed record gets. */
  constructor(readonly path: string) {}

  /**
   * Takes what `event` says when it is a metadata event; returns whether it was one. A recorder record
   * (trace or device) whose fields are not what the recorder writes is ERR_NOT_A_TRACE.
   */
  take(event: TraceEvent): boolean {
    if (event.ph !== 'M') return false;
    const args = event.args ?? {};
    const problem = event.name === TRACE_META ? traceInfoProblem(args) : event.name === DEVICE_META ? deviceInfoProblem(args) : null;
    if (problem !== null) throw notATrace(this.path, `its ${event.name} record is damaged: ${problem}`);
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
  const meta = new TraceMetadata(path);
  const events: TraceEvent[] = [];
  forEachTraceEvent(path, (event) => { if (!meta.take(event)) events.push(event); });
  return { info: meta.info, devices: meta.devices, processNames: meta.processNames, threadNames: meta.threadNames, events };
}
