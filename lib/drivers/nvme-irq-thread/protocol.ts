/**
 * The messages between the controlling thread and the NVMe IRQ thread in its Worker (thread.ts,
 * serve.ts, client.ts). Everything here is structured-clonable.
 *
 * controlling thread → IRQ thread (through the mailbox, irq-thread-mailbox.ts): `{ submit }`, `{ stop }`.
 * IRQ thread → controlling thread (its port): `{ ready }` once, `{ completion }` per command (or
 * `{ rejected }` for a malformed one, `{ abandoned }` for one still pending at the stop), `{ stopped }`
 * at the end, or `{ error }` when the thread could not start or failed.
 */
import type { NvmeControllerInfo, NvmeNamespaceInfo } from '../nvme-identify.ts';

/** The admin commands the IRQ thread issues (NVMe 1.4 §5.15 Identify, §5.14 Get Features). */
export type NvmeThreadCommand =
  | { readonly kind: 'identify-controller' }
  | { readonly kind: 'identify-namespace'; readonly nsid: number }
  | { readonly kind: 'active-namespaces' }
  | { readonly kind: 'get-features'; readonly fid: number };

export type NvmeThreadRequest =
  | { readonly submit: { readonly id: number; readonly command: NvmeThreadCommand } }
  | { readonly stop: true };

export interface NvmeThreadCompletion {
  /** The request's id. */
  readonly id: number;
  /** The CID it ran under. */
  readonly cid: number;
  /** The Status Field (§4.6.1): 0 = success. */
  readonly status: number;
  /** Command specific DW0 (Get Features: the feature's value). */
  readonly dw0: number;
  /** Identify data parsed (controller / namespace / active NSIDs); null for Get Features or a failed command. */
  readonly result: NvmeControllerInfo | NvmeNamespaceInfo | number[] | null;
  /**
   * SQ tail doorbell write → the IRQ thread running again after the zx_interrupt_wait that reaped it
   * (CLOCK_MONOTONIC ns; for a command submitted during that pass and reaped in it: → when it was reaped).
   */
  readonly latencyNs: number;
  /** Which wake of zx_interrupt_wait (1, 2, …) reaped it. */
  readonly wake: number;
}

export interface NvmeThreadReady {
  readonly bdf: string;
  /** Admin queue entries (the IRQ thread keeps up to entries − 1 commands in flight). */
  readonly queueEntries: number;
}

export interface NvmeThreadStats {
  readonly submitted: number;
  readonly completed: number;
  /** zx_interrupt_wait returns with ZX_OK. */
  readonly wakes: number;
  /** Wakes that found no new completion entry. */
  readonly spuriousWakes: number;
  /** Completion entries whose CID matched no command in flight. */
  readonly unexpected: number;
  /** Commands in flight or queued when the thread stopped (reported as completions never came). */
  readonly abandoned: number;
  /** The status that ended the loop: 'ZX_ERR_CANCELED' after a stop (zx_interrupt_destroy) or a device close. */
  readonly endStatus: string;
}

export type NvmeThreadEvent =
  | { readonly ready: NvmeThreadReady }
  | { readonly completion: NvmeThreadCompletion }
  | { readonly abandoned: { readonly id: number } }
  | { readonly rejected: { readonly id: number; readonly reason: string } }
  | { readonly stopped: NvmeThreadStats }
  | { readonly error: string };

const MAX_NSID = 0xffff_fffe;
const MAX_FID = 0xff;

/** Validates a command (the controlling thread checks before posting): TypeError / RangeError naming the field. */
export function checkNvmeThreadCommand(command: unknown): NvmeThreadCommand {
  if (command === null || typeof command !== 'object') throw new TypeError(`NVMe IRQ thread: a command must be an object, got ${command === null ? 'null' : typeof command}`);
  const c = command as { kind?: unknown; nsid?: unknown; fid?: unknown };
  switch (c.kind) {
    case 'identify-controller':
    case 'active-namespaces':
      return { kind: c.kind };
    case 'identify-namespace':
      if (typeof c.nsid !== 'number' || !Number.isInteger(c.nsid) || c.nsid < 1 || c.nsid > MAX_NSID) {
        throw new RangeError(`NVMe IRQ thread: identify-namespace needs an nsid in 1..0xfffffffe, got ${String(c.nsid)}`);
      }
      return { kind: c.kind, nsid: c.nsid };
    case 'get-features':
      if (typeof c.fid !== 'number' || !Number.isInteger(c.fid) || c.fid < 1 || c.fid > MAX_FID) {
        throw new RangeError(`NVMe IRQ thread: get-features needs a Feature Identifier in 1..255, got ${String(c.fid)}`);
      }
      return { kind: c.kind, fid: c.fid };
    default:
      throw new TypeError(`NVMe IRQ thread: unknown command kind ${JSON.stringify(c.kind)} (identify-controller, identify-namespace, active-namespaces, get-features)`);
  }
}
