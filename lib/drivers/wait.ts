/**
 * How a driver waits for one interrupt-signalled completion (edu's FACT_IRQ / DMA_IRQ, an NVMe admin
 * completion): a one-shot waiter that settles once — by the interrupt, by its timeout (DdkError
 * 'ETIMEDOUT'), by the caller's AbortSignal (DdkError 'ABORT_ERR', name 'AbortError' like Node's
 * own, the signal's reason as `cause`) or by close — and on settling removes its timer and its abort
 * listener, so a lost interrupt leaves nothing behind.
 */
import { DdkError } from '../errors.ts';

export interface WaitOptions {
  /** How long the completion interrupt may take, in ms (> 0; Infinity waits forever). */
  readonly timeoutMs?: number;
  /** Aborting it rejects the wait with DdkError 'ABORT_ERR' (and an operation not yet started never starts). */
  readonly signal?: AbortSignal;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && 'aborted' in value && typeof (value as AbortSignal).addEventListener === 'function';
}

/** Validates `options` of the call `where`; TypeError / RangeError naming the bad field. */
export function checkWaitOptions(where: string, options: unknown): WaitOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  const { timeoutMs, signal } = options as { timeoutMs?: unknown; signal?: unknown };
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0)) {
    throw new RangeError(`${where}: timeoutMs must be a number > 0 (Infinity: no limit), got ${String(timeoutMs)}`);
  }
  if (signal !== undefined && !isAbortSignal(signal)) throw new TypeError(`${where}: signal must be an AbortSignal, got ${signal === null ? 'null' : typeof signal}`);
  return options as WaitOptions;
}

/** The error an aborted wait rejects with. */
export function abortError(what: string, signal: AbortSignal): DdkError {
  const error = new DdkError('ABORT_ERR', `${what} was aborted`, { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/** Throws abortError when `signal` is already aborted (checked before an operation touches the device). */
export function throwIfAborted(what: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortError(what, signal);
}

export interface Waiter<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
  readonly settled: boolean;
}

/**
 * A waiter for `what`. `timeoutError` builds the ETIMEDOUT error when `timeoutMs` passes (it can
 * read the device's state then); `onSettle` runs once, however it settles (drop the driver's
 * reference to the waiter there).
 */
export function createWaiter<T>(what: string, options: WaitOptions, timeoutError: (ms: number) => Error, onSettle: () => void): Waiter<T> {
  let settle!: { resolve: (value: T) => void; reject: (error: Error) => void };
  const promise = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let settled = false;
  let timer: NodeJS.Timeout | null = null;
  const signal = options.signal;
  const onAbort = (): void => finish(() => settle.reject(abortError(what, signal as AbortSignal)));
  function finish(action: () => void): void {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    onSettle();
    action();
  }
  const ms = options.timeoutMs;
  if (ms !== undefined && Number.isFinite(ms)) timer = setTimeout(() => finish(() => settle.reject(timeoutError(ms))), ms);
  if (signal !== undefined) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  return {
    promise,
    resolve: (value) => finish(() => settle.resolve(value)),
    reject: (error) => finish(() => settle.reject(error)),
    get settled() {
      return settled;
    },
  };
}
