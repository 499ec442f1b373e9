/**
 * `TraceRecorder`: the tracer (lib/pci/trace-hook.ts) that writes what happens to a trace file
 * (format.ts, writer.ts). It hands out recording views of opened devices (traced-device.ts) and runs
 * kit calls through kit-calls.ts; it owns the clock (µs since it started), the order counter
 * (`args.seq`) and the track ids of the kits.
 *
 * Ending: `stop()` or the process exiting closes the file. A signal that kills the process (Ctrl-C
 * in a program that does not handle it) leaves it without its closing bracket but with every event of
 * the earlier turns of the event loop (writer.ts); no signal handler is installed, so the program's
 * own handling of signals is unchanged.
 */
import { basename, dirname, extname, join } from 'node:path';
import { monoNs } from '../irq/clock.ts';
import type { PciDevice } from '../pci/device.ts';
import { currentTracer, setTracer, type KitFunction, type Tracer } from '../pci/trace-hook.ts';
import { FIRST_DEVICE_PID, KITS_PID, TRACE_FORMAT, TRACE_FORMAT_VERSION, TRACE_META, type TraceEvent, type TraceInfo } from './format.ts';
import { recordKitCall } from './kit-calls.ts';
import { traceDevice } from './traced-device.ts';
import { TraceWriter } from './writer.ts';

export interface RecorderOptions {
  /**
   * Create the file at the first event instead of now, claiming it exclusively: of several processes
   * started with the same VFIO_DDK_TRACE, the first to open a device or call a kit writes it, and a
   * later one writes FILE.<pid>.json beside it (said on stderr). Default false.
   */
  lazy?: boolean;
}

export class TraceRecorder implements Tracer {
  /** The file asked for. */
  readonly requestedPath: string;
  readonly #lazy: boolean;
  /** ts 0: when the recorder started, or (lazy) when its file was created, at its first event. */
  #startNs = monoNs();
  #writer: TraceWriter | null = null;
  #seq = 0;
  #nextPid = FIRST_DEVICE_PID;
  #asyncIds = 0;
  readonly #kitTracks = new Map<string, number>();
  #stopped = false;
  readonly #stopActions: (() => void)[] = [];

  constructor(path: string, options: RecorderOptions = {}) {
    this.requestedPath = path;
    this.#lazy = options.lazy === true;
    if (!this.#lazy) this.#open();
  }

  /** The file being written (FILE.<pid>.json when another process had FILE), null before the first event of a lazy recorder. */
  get path(): string | null {
    return this.#writer?.path ?? null;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  onStop(action: () => void): void {
    if (this.#stopped) action();
    else this.#stopActions.push(action);
  }

  /** Events written so far. */
  get events(): number {
    return this.#writer?.events ?? 0;
  }

  /** µs since the recorder started. */
  now(): number {
    return Number(monoNs() - this.#startNs) / 1000;
  }

  /** The next value of `args.seq`: take it before doing what the event records. */
  nextSeq(): number {
    return this.#seq++;
  }

  nextAsyncId(): number {
    return ++this.#asyncIds;
  }

  emit(event: TraceEvent): void {
    if (this.#stopped) return;
    (this.#writer ?? this.#open()).write(event);
  }

  traceDevice<T extends PciDevice>(device: T): T {
    if (this.#stopped) return device;
    return traceDevice(this, device, this.#nextPid++);
  }

  kitCall(kit: string, name: string, fn: KitFunction, self: unknown, args: IArguments): unknown {
    if (this.#stopped) return fn.apply(self, args as unknown as unknown[]);
    return recordKitCall(this, kit, name, fn, self, args);
  }

  /** The track (tid in the kits' pid) of `kit`, named on first use. */
  kitTrack(kit: string): number {
    let tid = this.#kitTracks.get(kit);
    if (tid === undefined) {
      tid = this.#kitTracks.size + 1;
      this.#kitTracks.set(kit, tid);
      this.emit({ name: 'thread_name', ph: 'M', pid: KITS_PID, tid, args: { name: kit } });
      this.emit({ name: 'thread_sort_index', ph: 'M', pid: KITS_PID, tid, args: { sort_index: tid } });
    }
    return tid;
  }

  /** Stops recording: tracing off (if this recorder was on), the file closed. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (currentTracer() === this) setTracer(null);
    for (const action of this.#stopActions.splice(0)) action();
    this.#writer?.close();
  }

  #open(): TraceWriter {
    if (this.#lazy) this.#startNs = monoNs();
    let writer: TraceWriter;
    try {
      writer = new TraceWriter(this.requestedPath, { exclusive: this.#lazy });
    } catch (err) {
      if (!this.#lazy || (err as { code?: unknown }).code !== 'EEXIST') throw err;
      const ext = extname(this.requestedPath);
      const other = join(dirname(this.requestedPath), `${basename(this.requestedPath, ext)}.${process.pid}${ext || '.json'}`);
      writer = new TraceWriter(other);
      process.stderr.write(`vfio-ddk trace: ${this.requestedPath} was taken by another process; this one (pid ${process.pid}) records into ${other}\n`);
    }
    this.#writer = writer;
    const info: TraceInfo = {
      format: TRACE_FORMAT, version: TRACE_FORMAT_VERSION, startMonoNs: this.#startNs.toString(), node: process.version,
      pid: process.pid, argv: process.argv,
    };
    writer.write({ name: TRACE_META, ph: 'M', pid: KITS_PID, args: info as unknown as Record<string, unknown> });
    writer.write({ name: 'process_name', ph: 'M', pid: KITS_PID, args: { name: 'vfio-ddk kits' } });
    writer.write({ name: 'process_sort_index', ph: 'M', pid: KITS_PID, args: { sort_index: 1000 } });
    return writer;
  }
}
