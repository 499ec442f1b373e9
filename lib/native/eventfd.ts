/**
 * Thin TS wrappers over the addon's eventfd and watcher: an `Eventfd` owns its fd, and closing it
 * closes its watchers first (a uv_poll must never outlive its fd).
 */
import type { NativeAddon, NativeEventfdWatcher, RecordWatcherCallback, WatcherCallback } from './addon-types.ts';

export class EventfdWatcher implements Disposable {
  readonly #native: NativeEventfdWatcher;

  /**
   * Calls `callback(count, bootNs, monoNs)` once per readable event, on this thread's loop; with a wake
   * `record` (lib/irq/stamps.ts) it writes the timestamps and count there and calls `callback(count)`.
   */
  constructor(addon: NativeAddon, fd: number, callback: WatcherCallback);
  constructor(addon: NativeAddon, fd: number, callback: RecordWatcherCallback, record: Int32Array);
  constructor(addon: NativeAddon, fd: number, callback: WatcherCallback | RecordWatcherCallback, record?: Int32Array) {
    this.#native = record === undefined
      ? new addon.EventfdWatcher(fd, callback as WatcherCallback)
      : new addon.EventfdWatcher(fd, callback as RecordWatcherCallback, record);
  }

  get fd(): number {
    return this.#native.fd;
  }

  get closed(): boolean {
    return this.#native.closed;
  }

  /** Keep the event loop alive while watching (the default). */
  ref(): this {
    this.#native.ref();
    return this;
  }

  /** Let the process exit even though this watcher is open. */
  unref(): this {
    this.#native.unref();
    return this;
  }

  close(): void {
    this.#native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export class Eventfd implements Disposable {
  readonly fd: number;
  readonly #addon: NativeAddon;
  readonly #watchers = new Set<EventfdWatcher>();
  #closed = false;

  constructor(addon: NativeAddon, initial = 0, options?: { nonblock?: boolean; semaphore?: boolean }) {
    this.#addon = addon;
    this.fd = addon.eventfdCreate(initial, { nonblock: true, ...options });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The pending count (0 when none); never blocks. Above Number.MAX_SAFE_INTEGER it throws RangeError
   * 'ERR_OUT_OF_RANGE' with the exact count in `value`; `readBigInt()` never does.
   */
  read(): number {
    return this.#addon.eventfdRead(this.fd);
  }

  /** The pending count as an exact bigint (0n when none); never blocks. */
  readBigInt(): bigint {
    return this.#addon.eventfdRead(this.fd, { bigint: true });
  }

  write(value: number | bigint = 1): void {
    this.#addon.eventfdWrite(this.fd, value);
  }

  watch(callback: WatcherCallback): EventfdWatcher;
  watch(callback: RecordWatcherCallback, record: Int32Array): EventfdWatcher;
  watch(callback: WatcherCallback | RecordWatcherCallback, record?: Int32Array): EventfdWatcher {
    if (this.#closed) throw new RangeError(`eventfd ${this.fd} is closed`);
    const watcher = record === undefined
      ? new EventfdWatcher(this.#addon, this.fd, callback as WatcherCallback)
      : new EventfdWatcher(this.#addon, this.fd, callback as RecordWatcherCallback, record);
    this.#watchers.add(watcher);
    return watcher;
  }

  /** Closes every watcher, then the fd. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers.clear();
    this.#addon.close(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
