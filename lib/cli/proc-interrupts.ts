/**
 * Parsing /proc/interrupts (fs/proc/interrupts.c → show_interrupts): a header of CPU names, then per
 * IRQ "N: <count per CPU> <chip> <hwirq-type> <action names, comma-separated>". vfio-pci names its
 * actions "vfio-msi[N](BDF)", "vfio-msix[N](BDF)" and "vfio-intx(BDF)" (drivers/vfio/pci/vfio_pci_intrs.c),
 * which is how irqtop finds the vectors of VFIO devices. Lines that do not parse are skipped.
 */
import { isBdf, normalizeBdf } from '../vfio/bdf.ts';

export type VectorKind = 'intx' | 'msi' | 'msix';

export interface InterruptVector {
  /** The IRQ number (first column). */
  readonly irq: string;
  readonly bdf: string;
  readonly kind: VectorKind;
  /** Vector within the index (0 for INTx). */
  readonly vector: number;
  /** Sum over CPUs. */
  readonly total: number;
  readonly perCpu: readonly number[];
  /** The action name as printed (e.g. "vfio-msix[3](0000:00:02.0)"). */
  readonly name: string;
  readonly vfio: boolean;
}

const VFIO_ACTION = /vfio-(msix|msi|intx)(?:\[(\d+)\])?\(([^()\s]{1,16})\)/g;
/** Kernel ≥ 6.2 per-device MSI domains name the chip after the device: "PCI-MSIX-0000:00:04.0". */
const PCI_MSI_CHIP = /(?:^|\s)(?:IR-)?PCI-(MSIX|MSI)-([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\s+(\d+)-\S+\s+(.*)$/;

/**
 * The vectors in a /proc/interrupts text: every vfio action; with `allPci`, also every MSI/MSI-X
 * vector whose chip names its device (any driver), so irqtop is useful before anything is bound.
 */
export function parseProcInterrupts(text: string, allPci = false): InterruptVector[] {
  const lines = text.split('\n');
  const cpus = (lines[0] ?? '').trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
  const out: InterruptVector[] = [];
  for (const line of lines.slice(1)) {
    const m = /^\s*([^\s:]+):(.*)$/.exec(line);
    if (m === null || cpus === 0) continue;
    const fields = (m[2] ?? '').trim().split(/\s+/);
    const counts = fields.slice(0, cpus);
    if (counts.length < cpus || !counts.every((c) => /^\d+$/.test(c))) continue;
    const perCpu = counts.map(Number);
    const total = perCpu.reduce((a, b) => a + b, 0);
    const rest = (m[2] ?? '').trim().split(/\s+/).slice(cpus).join(' ');
    const irq = m[1] ?? '';
    let found = false;
    for (const a of rest.matchAll(VFIO_ACTION)) {
      const bdf = a[3] ?? '';
      if (!isBdf(bdf)) continue;
      const kind = a[1] as VectorKind;
      found = true;
      out.push({ irq, bdf: normalizeBdf(bdf), kind, vector: a[2] === undefined ? 0 : Number(a[2]), total, perCpu, name: a[0], vfio: true });
    }
    if (found || !allPci) continue;
    const chip = PCI_MSI_CHIP.exec(rest);
    if (chip !== null) {
      out.push({
        irq, bdf: normalizeBdf(chip[2] ?? ''), kind: chip[1] === 'MSIX' ? 'msix' : 'msi', vector: Number(chip[3]),
        total, perCpu, name: (chip[4] ?? '').trim(), vfio: false,
      });
    }
  }
  return out;
}

export interface VectorRate extends InterruptVector {
  /** Interrupts per second over the sample interval. */
  readonly rate: number;
  /** Interrupts counted during the interval. */
  readonly delta: number;
}

/** Rates between two samples taken `seconds` apart; vectors missing from `before` count from zero. */
export function vectorRates(before: readonly InterruptVector[], after: readonly InterruptVector[], seconds: number): VectorRate[] {
  const key = (v: InterruptVector): string => `${v.irq}/${v.bdf}/${v.kind}/${v.vector}`;
  const prior = new Map(before.map((v) => [key(v), v.total]));
  return after.map((v) => {
    const delta = Math.max(0, v.total - (prior.get(key(v)) ?? 0));
    return { ...v, delta, rate: seconds > 0 ? delta / seconds : 0 };
  });
}
