/**
 * The programmatic switch: `startTrace(path)` records every device opened and every kit call made
 * afterwards in this thread (devices opened before stay unrecorded), `stopTrace()` ends it and closes
 * the file. `vfio-ddk trace -o FILE -- command` starts it in the command's node processes through
 * VFIO_DDK_TRACE (auto-start.ts).
 */
import { DdkError } from '../errors.ts';
import { currentTracer, setTracer } from '../pci/trace-hook.ts';
import { TraceRecorder, type RecorderOptions } from './recorder.ts';

/** The variable `vfio-ddk trace` sets for the command it runs: the trace file. */
export const TRACE_ENV = 'VFIO_DDK_TRACE';

/**
 * Starts recording into `path` (created or truncated now, unless `lazy`). DdkError 'EBUSY' when a
 * trace is already recording in this thread; fs errors (ENOENT, EACCES …) as they are.
 */
export function startTrace(path: string, options: RecorderOptions = {}): TraceRecorder {
  if (typeof path !== 'string' || path === '') throw new TypeError('startTrace: path must be a file name');
  if (currentTracer() !== null) throw new DdkError('EBUSY', 'startTrace: a trace is already recording in this thread; stopTrace() first');
  const recorder = new TraceRecorder(path, options);
  setTracer(recorder);
  return recorder;
}

/** Stops the trace that is recording (its file is closed); returns it, or null when none was. */
export function stopTrace(): TraceRecorder | null {
  const tracer = currentTracer();
  if (!(tracer instanceof TraceRecorder)) return null;
  tracer.stop();
  return tracer;
}
