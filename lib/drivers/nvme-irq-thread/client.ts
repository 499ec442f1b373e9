/**
 * The controlling thread's side of the NVMe IRQ thread: commands go to the Worker through the mailbox
 * (a message and an eventfd write, so the blocked thread wakes), completions come back as the Worker's
 * messages and settle the Promise of their request. Its event loop never blocks.
 *
 * `submit()` resolves with the completion whatever its NVMe status; the named commands throw
 * DdkError 'EIO' naming SCT / SC for a failed one. A command still pending when the thread stops
 * rejects with DdkError 'ECLOSED'; one the thread refused rejects with 'EINVAL'; one submitted after
 * `stop()` or after the Worker ended rejects with 'ECLOSED'. `ready` rejects with DdkError 'EIO'
 * carrying the Worker's message when the device could not be opened or brought up.
 */
import type { Worker } from 'node:worker_threads';
import { DdkError } from '../../errors.ts';
import { NVME_FID } from '../../pci/nvme-regs.ts';
import type { IrqThreadSender } from '../irq-thread-mailbox.ts';
import { describeNvmeStatus } from '../nvme-commands.ts';
import type { NvmeControllerInfo, NvmeNamespaceInfo } from '../nvme-identify.ts';
import {
  checkNvmeThreadCommand, type NvmeThreadCommand, type NvmeThreadCompletion, type NvmeThreadEvent, type NvmeThreadReady,
  type NvmeThreadStats,
} from './protocol.ts';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let settle!: { resolve: (value: T) => void; reject: (error: Error) => void };
  const promise = new Promise<T>((resolve, reject) => { settle = { resolve, reject }; });
  promise.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve: (v) => settle.resolve(v), reject: (e) => settle.reject(e) };
}

export class NvmeIrqThreadClient {
  readonly #worker: Worker;
  readonly #sender: IrqThreadSender;
  readonly #pending = new Map<number, Deferred<NvmeThreadCompletion>>();
  readonly #ready = deferred<NvmeThreadReady>();
  readonly #stopped = deferred<NvmeThreadStats>();
  readonly #exited = deferred<number>();
  #nextId = 1;
  #ending = false;
  #error: Error | null = null;

  /** Takes over `worker` (running serveNvmeIrqThread) and the sender of its channel; closes the sender when the Worker exits. */
  constructor(worker: Worker, sender: IrqThreadSender) {
    this.#worker = worker;
    this.#sender = sender;
    // Events come on the Worker's own port: Node delivers everything on it before 'exit'.
    worker.on('message', (event: NvmeThreadEvent) => this.#onEvent(event));
    worker.on('error', (error) => this.#end(error));
    worker.on('exit', (code) => {
      this.#end(new DdkError('ECLOSED', `the NVMe IRQ thread's Worker exited (code ${code})`));
      sender.close();
      this.#exited.resolve(code);
    });
  }

  /** Resolves once the Worker opened the device and brought the controller up. */
  get ready(): Promise<NvmeThreadReady> {
    return this.#ready.promise;
  }

  /** Requests sent and not settled yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Sends one command; resolves with its completion (any NVMe status). */
  submit(command: NvmeThreadCommand): Promise<NvmeThreadCompletion> {
    const checked = checkNvmeThreadCommand(command);
    if (this.#ending) return Promise.reject(new DdkError('ECLOSED', 'the NVMe IRQ thread is stopping or stopped: start a new one'));
    const id = this.#nextId++;
    const request = deferred<NvmeThreadCompletion>();
    this.#pending.set(id, request);
    this.#sender.post({ submit: { id, command: checked } });
    return request.promise;
  }

  async identifyController(): Promise<NvmeControllerInfo> {
    return this.#result(await this.submit({ kind: 'identify-controller' }), 'Identify Controller') as NvmeControllerInfo;
  }

  async identifyNamespace(nsid: number): Promise<NvmeNamespaceInfo> {
    return this.#result(await this.submit({ kind: 'identify-namespace', nsid }), `Identify Namespace ${nsid}`) as NvmeNamespaceInfo;
  }

  async activeNamespaces(): Promise<number[]> {
    return this.#result(await this.submit({ kind: 'active-namespaces' }), 'Identify Active Namespace List') as number[];
  }

  /** Get Features (current value): the feature's DW0. */
  async getFeature(fid: number): Promise<number> {
    const completion = await this.submit({ kind: 'get-features', fid });
    this.#result(completion, `Get Features 0x${fid.toString(16)}`);
    return completion.dw0;
  }

  /** §5.21.1.7 Number of Queues, as counts. */
  async numberOfQueues(): Promise<{ submission: number; completion: number }> {
    const dw0 = await this.getFeature(NVME_FID.NUMBER_OF_QUEUES);
    return { submission: (dw0 & 0xffff) + 1, completion: (dw0 >>> 16) + 1 };
  }

  /**
   * Stops the IRQ thread (its wait returns ZX_ERR_CANCELED), waits until the Worker shut the
   * controller down and exited, and returns the thread's statistics. Requests still pending reject
   * with 'ECLOSED'. Rejects with the Worker's error when it failed.
   */
  async stop(): Promise<NvmeThreadStats> {
    if (!this.#ending) {
      this.#ending = true;
      this.#sender.post({ stop: true });
    }
    await this.#exited.promise;
    return this.#stopped.promise;
  }

  #result(completion: NvmeThreadCompletion, what: string): unknown {
    if (completion.status !== 0) throw new DdkError('EIO', `${what} failed with ${describeNvmeStatus(completion.status)} (NVMe 1.4 §4.6.1.2)`);
    return completion.result;
  }

  #onEvent(event: NvmeThreadEvent): void {
    if ('completion' in event) this.#settle(event.completion.id, (d) => d.resolve(event.completion));
    else if ('abandoned' in event) this.#settle(event.abandoned.id, (d) => d.reject(new DdkError('ECLOSED', 'the NVMe IRQ thread stopped before this command completed')));
    else if ('rejected' in event) this.#settle(event.rejected.id, (d) => d.reject(new DdkError('EINVAL', `the NVMe IRQ thread refused the command: ${event.rejected.reason}`)));
    else if ('ready' in event) this.#ready.resolve(event.ready);
    else if ('stopped' in event) {
      this.#ending = true;
      if (this.#error === null) this.#stopped.resolve(event.stopped);
      else this.#stopped.reject(this.#error);
    } else if ('error' in event) {
      this.#error = new DdkError('EIO', `NVMe IRQ thread: ${event.error}`);
      this.#ready.reject(this.#error);
    }
  }

  #settle(id: number, action: (d: Deferred<NvmeThreadCompletion>) => void): void {
    const request = this.#pending.get(id);
    if (request === undefined) return;
    this.#pending.delete(id);
    action(request);
  }

  /** The Worker is gone (or failed): everything still waiting rejects. */
  #end(error: Error): void {
    this.#ending = true;
    this.#ready.reject(this.#error ?? error);
    this.#stopped.reject(this.#error ?? error);
    for (const request of this.#pending.values()) request.reject(error);
    this.#pending.clear();
  }
}
