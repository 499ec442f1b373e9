/**
 * Messages to an IRQ thread while it is blocked: a MessagePort plus an eventfd that the sender writes
 * after each post. The receiving thread registers the eventfd as one of its native interrupt sources
 * (lib/irq/blocking.ts), so every blocking wait there — zx_interrupt_wait, zx_port_wait,
 * ddi_intr_thread_run — polls it together with the device's VFIO vectors, and when it fires runs
 * `onMessage` for each message waiting, on the blocked stack, then goes back to waiting.
 *
 * This is what another CPU does for a Zircon driver while its IRQ thread sleeps in zx_interrupt_wait:
 * rings a doorbell, or zx_interrupt_destroy()s the interrupt to end the wait with ZX_ERR_CANCELED.
 * Here the device's mappings and handles live in the Worker, so that work runs there, in `onMessage`.
 * It must not throw (report errors by message) and must not block.
 *
 * `createIrqThreadChannel()` (controlling thread) makes both ends; send `worker` to the Worker in
 * workerData with `worker.port` in the transfer list. Needs the native addon (eventfd): DdkError
 * 'ERR_ADDON_MISSING' otherwise. The sender closes the eventfd only after the Worker has exited.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Eventfd } from '../native/eventfd.ts';
import { loadNative } from '../native/loader.ts';
import { addNativeSource, removeNativeSource, type NativeIrqSource } from '../irq/blocking.ts';

/** What the Worker receives (structured-clonable; `port` goes in the transfer list). */
export interface IrqThreadChannelEnd {
  readonly port: MessagePort;
  readonly wakeFd: number;
}

/** The controlling thread's end: post a message and wake the IRQ thread. */
export class IrqThreadSender {
  readonly port: MessagePort;
  readonly #wake: Eventfd;

  constructor(port: MessagePort, wake: Eventfd) {
    this.port = port;
    this.#wake = wake;
  }

  /** Posts `message`, then writes the eventfd (in that order: the woken thread finds the message). */
  post(message: unknown): void {
    if (this.#wake.closed) throw new RangeError('IrqThreadSender: closed');
    this.port.postMessage(message);
    this.#wake.write(1);
  }

  /** Closes the port and the eventfd. Call after the Worker exited (it polls the eventfd until then). */
  close(): void {
    this.port.close();
    this.#wake.close();
  }
}

/** Both ends of a new channel. */
export function createIrqThreadChannel(): { sender: IrqThreadSender; worker: IrqThreadChannelEnd } {
  const wake = new Eventfd(loadNative());
  const { port1, port2 } = new MessageChannel();
  return { sender: new IrqThreadSender(port1, wake), worker: { port: port2, wakeFd: wake.fd } };
}

/** The IRQ thread's end: while it is open, blocking waits on this thread deliver messages to `onMessage`. */
export class IrqThreadMailbox {
  readonly #port: MessagePort;
  readonly #onMessage: (message: unknown) => void;
  readonly #source: NativeIrqSource;
  #open = true;
  /** Messages handed to onMessage. */
  received = 0;

  constructor(end: IrqThreadChannelEnd, onMessage: (message: unknown) => void) {
    if (!Number.isInteger(end.wakeFd) || end.wakeFd < 0) throw new TypeError(`IrqThreadMailbox: wakeFd must be an eventfd number, got ${String(end.wakeFd)}`);
    this.#port = end.port;
    this.#onMessage = onMessage;
    // The native wait has read (and so reset) the eventfd before calling deliver.
    this.#source = { fd: end.wakeFd, deliver: () => { this.drain(); } };
    addNativeSource(this.#source, loadNative());
  }

  /** Hands every message waiting to onMessage now; returns how many. */
  drain(): number {
    let count = 0;
    while (this.#open) {
      const next = receiveMessageOnPort(this.#port);
      if (next === undefined) break;
      count++;
      this.received++;
      this.#onMessage(next.message);
    }
    return count;
  }

  /** Stops polling the eventfd (messages still waiting stay in the port). Idempotent. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    removeNativeSource(this.#source);
  }
}
