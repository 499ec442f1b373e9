/**
 * `irq` of the REPL: routes a vector to an IrqLine on first use and waits on it like a read of its
 * eventfd — `wait` returns the fires counted since the previous wait (at once when there are some,
 * e.g. an interrupt raised on the line before), else the next delivery, else a DdkError 'ETIMEDOUT'.
 * Kinds are 'intx' | 'msi' | 'msix' (VFIO's IRQ indices, lib/pci/vfio-indices.ts).
 */
import { DdkError } from '../../errors.ts';
import { IrqLine } from '../../irq/irq-line.ts';
import type { PciDevice } from '../../pci/device.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../pci/vfio-indices.ts';
import type { IrqIndex } from '../../pci/vfio-indices.ts';

export const IRQ_KINDS: Readonly<Record<string, IrqIndex>> = {
  intx: VFIO_PCI_INTX_IRQ_INDEX,
  msi: VFIO_PCI_MSI_IRQ_INDEX,
  msix: VFIO_PCI_MSIX_IRQ_INDEX,
};

export const DEFAULT_WAIT_TIMEOUT_MS = 1000;

export interface IrqWaitResult {
  /** Fires since the previous wait (coalesced, as an eventfd counts them). */
  readonly count: number;
  /** CLOCK_BOOTTIME / CLOCK_MONOTONIC ns of the first of them. */
  readonly bootNs: bigint;
  readonly monoNs: bigint;
}

interface Vector {
  readonly kind: string;
  readonly vector: number;
  readonly line: IrqLine;
  unclaimed: { count: number; bootNs: bigint; monoNs: bigint } | null;
  waiter: ((r: IrqWaitResult | null) => void) | null;
}

function indexOf(kind: unknown): IrqIndex {
  if (typeof kind !== 'string' || !Object.hasOwn(IRQ_KINDS, kind)) {
    throw new DdkError('EINVAL', `irq: kind must be one of ${Object.keys(IRQ_KINDS).join(', ')}, got ${JSON.stringify(kind)}`);
  }
  return IRQ_KINDS[kind] as IrqIndex;
}

export class IrqScope {
  readonly #vectors = new Map<string, Vector>();
  constructor(readonly device: PciDevice) {}

  /** Routes `kind` vector `vector` to a line (idempotent). The device's attach errors pass through. */
  attach(kind: string, vector = 0): string {
    const key = `${kind}:${vector}`;
    if (this.#vectors.has(key)) return key;
    const index = indexOf(kind);
    const line = new IrqLine(`repl ${key}`);
    const entry: Vector = { kind, vector, line, unclaimed: null, waiter: null };
    line.setConsumer({
      fire: (count, stamps) => {
        const bootNs = stamps.bootNs();
        const monoNs = stamps.monoNs();
        const u = entry.unclaimed;
        entry.unclaimed = u === null ? { count, bootNs, monoNs } : { ...u, count: u.count + count };
        if (entry.waiter !== null) this.#claim(entry);
        // INTx is automasked when it fires (VFIO): unmask so the next one is seen too.
        if (index === VFIO_PCI_INTX_IRQ_INDEX) this.device.irq.unmaskIntx();
      },
      detached: () => {
        this.#vectors.delete(key);
        entry.waiter?.(null);
      },
    });
    this.device.irq.attach(index, vector, line);
    this.#vectors.set(key, entry);
    return key;
  }

  #claim(entry: Vector): void {
    const u = entry.unclaimed;
    const waiter = entry.waiter;
    if (u === null || waiter === null) return;
    entry.unclaimed = null;
    entry.waiter = null;
    waiter(u);
  }

  /** Resolves with the fires since the last wait; DdkError 'ETIMEDOUT' after `timeoutMs`. */
  async wait(kind: string, vector = 0, options: { timeoutMs?: number } = {}): Promise<IrqWaitResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`irq.wait: timeoutMs must be a finite number ≥ 0, got ${String(timeoutMs)}`);
    }
    const key = this.attach(kind, vector);
    const entry = this.#vectors.get(key) as Vector;
    if (entry.waiter !== null) throw new DdkError('EBUSY', `irq.wait: ${key} already has a wait pending`);
    return new Promise<IrqWaitResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        entry.waiter = null;
        reject(new DdkError('ETIMEDOUT', `irq.wait: no interrupt on ${key} within ${timeoutMs} ms (attach before the device raises it; is bus master set in PCI_COMMAND?)`));
      }, timeoutMs);
      entry.waiter = (r) => {
        clearTimeout(timer);
        if (r === null) reject(new DdkError('ECANCELED', `irq.wait: ${key} was detached (device closed?)`));
        else resolve(r);
      };
      this.#claim(entry);
    });
  }

  /** Loopback: signals the vector's line as if the device fired it (VFIO ACTION_TRIGGER). */
  trigger(kind: string, vector = 0): void {
    this.attach(kind, vector);
    this.device.irq.trigger(indexOf(kind), vector);
  }

  detach(kind: string, vector = 0): void {
    if (!this.#vectors.has(`${kind}:${vector}`)) return;
    this.device.irq.detach(indexOf(kind), vector);
  }

  /** Per attached vector: fires counted, deliveries made, fires not yet waited for. */
  counts(): { vector: string; fires: number; deliveries: number; unclaimed: number }[] {
    return [...this.#vectors.entries()].map(([key, v]) => ({ vector: key, fires: v.line.fires, deliveries: v.line.deliveries, unclaimed: v.unclaimed?.count ?? 0 }));
  }
}
