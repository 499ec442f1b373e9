/**
 * What replay compares, and what it deliberately does not (replay.ts):
 * * Register values a platform assigns rather than the device: the address bits of the BAR registers
 *   (below a BAR's size the type bits and zeros are compared; an upper half of a 64-bit BAR not at all),
 *   PCI_INTERRUPT_LINE (firmware's routing), and the message address and data of MSI / MSI-X vectors
 *   routed with `irq.attach` — the kernel programs those over VFIO, the backend in the emulation, each
 *   its own — until a recorded write of the driver puts its own values there (compared from then on).
 * * After MSI / MSI-X is routed with `irq.attach`, the Enable and vector-count bits of MSI Message
 *   Control (Enable and Function Mask of MSI-X's), until the driver writes them: vfio-pci virtualizes them
 *   (drivers/vfio/pci/vfio_pci_config.c, the MSI / MSI-X capability permissions), so over VFIO a driver
 *   reads what it wrote, whatever VFIO_DEVICE_SET_IRQS enabled — recorded on the real edu: 0x0080 right
 *   after the attach — where the emulation's attach shows the capability enabled (0x0081), as the
 *   device itself is.
 * * Polls: a run of reads of one register with no other access between them is a driver waiting for
 *   the device (edu STATUS while computing, DMA_CMD while transferring, NVMe CSTS.RDY). How many reads
 *   see "busy" depends on timing, so a read before the last of its run may return any value the run
 *   saw; the last must match (replay waits for the model up to a deadline before calling it different).
 */
import type { MsiLayout, MsixLayout } from '../pci/capabilities.ts';
import {
  PCI_BASE_ADDRESS_0, PCI_INTERRUPT_LINE, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE, PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, PCI_STD_NUM_BARS,
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

/**
 * The bits of config space and the MSI-X table that hold the backend's values after `irq.attach`
 * (see the module comment), byte by byte, until a recorded write of the driver replaces them.
 */
export class BackendOwned {
  readonly #msi: MsiLayout | null;
  readonly #msix: MsixLayout | null;
  /** Config byte offset → the bits of it the backend owns. */
  readonly #config = new Map<number, number>();
  /** `${bar}:${offset}` → the bits of that BAR byte the backend owns. */
  readonly #bar = new Map<string, number>();

  constructor(msi: MsiLayout | null, msix: MsixLayout | null) {
    this.#msi = msi;
    this.#msix = msix;
  }

  /** `irq.attach(index, vector)` was replayed. */
  attached(index: number, vector: number): void {
    const own = (map: Map<number, number>, start: number | null, length: number, bits = 0xff): void => {
      if (start !== null) for (let i = 0; i < length; i++) map.set(start + i, bits);
    };
    const msi = this.#msi;
    if (index === 1 && msi !== null) {
      own(this.#config, msi.addressLo, 4);
      own(this.#config, msi.addressHi, 4);
      own(this.#config, msi.data, 2);
      own(this.#config, msi.offset + PCI_MSI_FLAGS, 1, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    }
    const msix = this.#msix;
    if (index === 2 && msix !== null) {
      own(this.#config, msix.offset + PCI_MSIX_FLAGS + 1, 1, (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
      // Address (lower, upper) and data of the vector's entry; Vector Control is compared.
      for (let i = 0; i < PCI_MSIX_ENTRY_VECTOR_CTRL; i++) this.#bar.set(`${msix.tableBar}:${msix.tableOffset + vector * PCI_MSIX_ENTRY_SIZE + i}`, 0xff);
    }
  }

  /** A recorded write of the driver: what it wrote is compared from now on. */
  written(access: Access): void {
    for (let b = 0; b < access.width; b++) {
      if (access.space === 'config') this.#config.delete(access.offset + b);
      else this.#bar.delete(`${access.space}:${access.offset + b}`);
    }
  }

  configBits(at: number): number {
    return 0xff & ~(this.#config.get(at) ?? 0);
  }

  barBits(bar: number, at: number): number {
    return 0xff & ~(this.#bar.get(`${bar}:${at}`) ?? 0);
  }
}

function configByteMask(info: DeviceInfo, at: number, owned: BackendOwned): number {
  const barEnd = PCI_BASE_ADDRESS_0 + 4 * PCI_STD_NUM_BARS;
  if (at >= PCI_BASE_ADDRESS_0 && at < barEnd) {
    const k = (at - PCI_BASE_ADDRESS_0) >> 2;
    const size = info.bars[k] ?? null;
    if (size === null) return k > 0 && (info.bars[k - 1] ?? null) !== null ? 0 : 0xff;
    const below = (BigInt(size) - 1n) & 0xffff_ffffn;
    return Number((below >> BigInt(8 * ((at - PCI_BASE_ADDRESS_0) & 3))) & 0xffn);
  }
  if (at === PCI_INTERRUPT_LINE) return 0;
  return owned.configBits(at);
}

/** The bits of `access`'s value that replay compares. */
export function comparedBits(info: DeviceInfo, access: Access, owned: BackendOwned): bigint {
  let mask = 0n;
  for (let b = 0; b < access.width; b++) {
    const at = access.offset + b;
    const byte = access.space === 'config' ? configByteMask(info, at, owned) : owned.barBits(access.space, at);
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
