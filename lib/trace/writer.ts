/**
 * Streams trace events into a file (format.ts): events are buffered and written in blocks — at the
 * end of each turn of the event loop that produced any, at 64 KiB, and on close — so a trace of
 * millions of register accesses never sits in memory, and what earlier turns recorded is on disk
 * whatever happens next. The file is valid JSON once closed; closing happens on `close()` and on the
 * process's 'exit' event. A process killed outright (SIGKILL, or a signal nothing handles) leaves the
 * array without its closing bracket, which the reader (reader.ts) and Chrome's importer both accept;
 * `repairTraceFile` adds it (`vfio-ddk trace` does for a command it saw die).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { TraceEvent } from './format.ts';

const FLUSH_BYTES = 64 * 1024;

export class TraceWriter {
  readonly path: string;
  readonly #fd: number;
  #chunks: string[] = [];
  #buffered = 0;
  #events = 0;
  #closed = false;
  #flushScheduled = false;
  readonly #flushAtTurnEnd = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };
  readonly #onExit = (): void => this.close();

  /**
   * Creates (truncates) `path`, or with `exclusive` fails with EEXIST when it exists — how one process
   * of several started with the same VFIO_DDK_TRACE claims the file. fs errors are thrown as they are.
   */
  constructor(path: string, options: { exclusive?: boolean } = {}) {
    this.path = path;
    this.#fd = openSync(path, options.exclusive === true ? 'wx' : 'w');
    writeSync(this.#fd, '[\n');
    process.on('exit', this.#onExit);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Events written so far. */
  get events(): number {
    return this.#events;
  }

  write(event: TraceEvent): void {
    if (this.#closed) return;
    const line = (this.#events === 0 ? '' : ',\n') + JSON.stringify(event);
    this.#events++;
    this.#chunks.push(line);
    this.#buffered += line.length;
    if (this.#buffered >= FLUSH_BYTES) this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flushAtTurnEnd).unref();
    }
  }

  flush(): void {
    if (this.#closed || this.#chunks.length === 0) return;
    const text = this.#chunks.join('');
    this.#chunks = [];
    this.#buffered = 0;
    writeSync(this.#fd, text);
  }

  /** Writes what is buffered and the closing bracket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    process.off('exit', this.#onExit);
    writeSync(this.#fd, '\n]\n');
    closeSync(this.#fd);
  }
}

/** How much of a file's end `repairTraceFile` looks at: far more than one event line. */
const REPAIR_WINDOW = 1 << 20;

/**
 * Ends a trace whose writer never closed it (the process was killed): a last event line cut in the
 * middle of a write is dropped, then the closing bracket is added. Returns true when the file was
 * changed, false when it was complete already (or is not this recorder's array form).
 */
export function repairTraceFile(path: string): boolean {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, REPAIR_WINDOW);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const tail = buffer.toString('latin1');
    const first = Buffer.alloc(1);
    readSync(fd, first, 0, 1, 0);
    if (first.toString('latin1') !== '[' || tail.trimEnd().endsWith(']')) return false;
    // Lines are "[", then one event per line, each but the last followed by ",".
    let end = tail.trimEnd().length;
    const lastBreak = tail.lastIndexOf('\n', end - 1);
    const lastLine = tail.slice(lastBreak + 1, end).replace(/,$/, '');
    if (lastBreak >= 0 && !parses(lastLine)) end = lastBreak;
    let keep = size - length + end;
    // Drop the separator the cut line would have followed.
    while (keep > 1 && /[\s,]/.test(tail[keep - (size - length) - 1] ?? '')) keep--;
    ftruncateSync(fd, keep);
    writeSync(fd, '\n]\n', keep);
    return true;
  } finally {
    closeSync(fd);
  }
}

function parses(line: string): boolean {
  if (line.trim() === '[') return true;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
