/**
 * What replay compares, and what it deliberately does not (replay.ts):
 * * Register values a platform assigns rather than the device: the address bits of the BAR registers
 *   (below a BAR's size the type bits and zeros are compared; an upper half of a 64-bit BAR not at all),
 *   PCI_INTERRUPT_LINE (firmware's routing), and the message address and data of MSI / MSI-X vectors
 *   routed with `irq.attach` — the kernel programs those over VFIO, the backend in the emulation, each
 *   its own (a bus driver's own values, written through config or the MSI-X table, are compared).
 * * Polls: a run of reads of one register with no other access between them is a driver waiting for
 *   the device (edu STATUS while computing, DMA_CMD while transferring, NVMe CSTS.RDY). How many reads
 *   see "busy" depends on timing, so a read before the last of its run may return any value the run
 *   saw; the last must match (replay waits for the model up to a deadline before calling it different).
 */
import type { MsiLayout, MsixLayout } from '../pci/capabilities.ts';
import {
  PCI_BASE_ADDRESS_0, PCI_INTERRUPT_LINE, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_STD_NUM_BARS,
} from '../pci/regs.ts';
import { CAT, parseHex, type DeviceInfo, type TraceEvent } from './format.ts';

export interface Access {
  readonly seq: number;
  readonly ts: number;
  /** 'config', or the BAR index. */
  readonly space: 'config' | number;
  readonly op: 'read' | 'write';
  readonly offset: number;
  readonly width: 1 | 2 | 4 | 8;
  readonly value: bigint;
  readonly reg: string;
}

/** The access an event records, or null for any other event. */
export function accessOf(event: TraceEvent): Access | null {
  if (event.cat !== CAT.config && event.cat !== CAT.bar) return null;
  const a = event.args ?? {};
  const value = parseHex(a['value']);
  const width = a['width'];
  if (value === null || typeof a['offset'] !== 'number' || (width !== 1 && width !== 2 && width !== 4 && width !== 8)) return null;
  if (a['op'] !== 'read' && a['op'] !== 'write') return null;
  const space = event.cat === CAT.config ? 'config' : typeof a['bar'] === 'number' ? a['bar'] : null;
  if (space === null) return null;
  return { seq: Number(a['seq']), ts: event.ts ?? 0, space, op: a['op'], offset: a['offset'], width, value, reg: String(a['reg'] ?? a['offset']) };
}

/** Interrupt routing replay has set up through `irq.attach` (whose message values are the backend's). */
export interface AttachedRouting {
  readonly msi: MsiLayout | null;
  msiAttached: boolean;
  readonly msix: MsixLayout | null;
  readonly msixAttached: Set<number>;
}

function configByteMask(info: DeviceInfo, at: number, routing: AttachedRouting): number {
  const barEnd = PCI_BASE_ADDRESS_0 + 4 * PCI_STD_NUM_BARS;
  if (at >= PCI_BASE_ADDRESS_0 && at < barEnd) {
    const k = (at - PCI_BASE_ADDRESS_0) >> 2;
    const size = info.bars[k] ?? null;
    if (size === null) return k > 0 && (info.bars[k - 1] ?? null) !== null ? 0 : 0xff;
    const below = (BigInt(size) - 1n) & 0xffff_ffffn;
    return Number((below >> BigInt(8 * ((at - PCI_BASE_ADDRESS_0) & 3))) & 0xffn);
  }
  if (at === PCI_INTERRUPT_LINE) return 0;
  const msi = routing.msi;
  if (msi !== null && routing.msiAttached) {
    const inField = (start: number | null, length: number): boolean => start !== null && at >= start && at < start + length;
    if (inField(msi.addressLo, 4) || inField(msi.addressHi, 4) || inField(msi.data, 2)) return 0;
  }
  return 0xff;
}

function barByteMask(bar: number, at: number, routing: AttachedRouting): number {
  const msix = routing.msix;
  if (msix === null || bar !== msix.tableBar || at < msix.tableOffset) return 0xff;
  const vector = Math.floor((at - msix.tableOffset) / PCI_MSIX_ENTRY_SIZE);
  const field = (at - msix.tableOffset) % PCI_MSIX_ENTRY_SIZE;
  // Address (lower, upper) and data of a vector the backend programmed; Vector Control is compared.
  return vector < msix.vectors && routing.msixAttached.has(vector) && field < PCI_MSIX_ENTRY_VECTOR_CTRL ? 0 : 0xff;
}

/** The bits of `access`'s value that replay compares. */
export function comparedBits(info: DeviceInfo, access: Access, routing: AttachedRouting): bigint {
  let mask = 0n;
  for (let b = 0; b < access.width; b++) {
    const at = access.offset + b;
    const byte = access.space === 'config' ? configByteMask(info, at, routing) : barByteMask(access.space, at, routing);
    mask |= BigInt(byte) << BigInt(8 * b);
  }
  return mask;
}

/**
 * For each read that is not the last of its poll run (see the module comment), the values the run
 * saw, by the read's seq.
 */
export function pollRuns(accesses: readonly Access[]): Map<number, ReadonlySet<bigint>> {
  const lenient = new Map<number, ReadonlySet<bigint>>();
  let run: Access[] = [];
  const close = (): void => {
    if (run.length > 1) {
      const values = new Set(run.map((a) => a.value));
      if (values.size > 1) for (const a of run.slice(0, -1)) lenient.set(a.seq, values);
    }
    run = [];
  };
  for (const access of accesses) {
    const previous = run[0];
    const same = previous !== undefined && access.op === 'read' && access.space === previous.space && access.offset === previous.offset && access.width === previous.width;
    if (!same) close();
    if (access.op === 'read') run.push(access);
  }
  close();
  return lenient;
}
