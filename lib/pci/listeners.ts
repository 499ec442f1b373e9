/**
 * The device's lifecycle listeners — close, reset, removal request — as both backends keep them: a set
 * that runs every listener even when one throws (a driver's failure must not keep the device from
 * being released or the other drivers from hearing of a reset) and then hands back the first error.
 */
export class DeviceListeners<A extends unknown[] = []> {
  readonly #what: string;
  readonly #set = new Set<(...args: A) => void>();

  /** `what` names the registration in TypeErrors ("onReset"). */
  constructor(what: string) {
    this.#what = what;
  }

  /** Registers `listener`; returns a function that unregisters it. TypeError for a non-function. */
  add(listener: (...args: A) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`${this.#what}: listener must be a function`);
    this.#set.add(listener);
    return () => { this.#set.delete(listener); };
  }

  /** Runs every listener registered now (in order); returns the first error thrown, or null. */
  emit(...args: A): unknown {
    let first: unknown = null;
    for (const listener of [...this.#set]) {
      try {
        listener(...args);
      } catch (error) {
        first ??= error;
      }
    }
    return first;
  }

  clear(): void {
    this.#set.clear();
  }
}
