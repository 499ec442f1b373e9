/**
 * The state a device is in when a recording starts. A real device is not at power-on then: the edu
 * has no reset (spec/edu.md D.7) and keeps what the last driver left — STATUS 0x80, a factorial
 * result, DMA_CMD with its interrupt bit — and an NVMe controller may still be enabled. So the
 * recorder reads the model's named BAR0 registers at open (reads without side effects, not recorded
 * as accesses), and replay puts that state into the model where its registers allow — edu: the DMA
 * address and count, LIVENESS (stored inverted), STATUS' interrupt-enable bit, IRQ_STATUS through
 * IRQ_RAISE; NVMe: AQA, ASQ, ACQ, INTMS, then CC — before replaying. A register that still differs
 * (edu FACTORIAL and DMA_CMD can only be set by starting work) is not compared until the recording
 * writes it, and replay says so.
 */
import type { EmuPciDevice } from '../emu/device.ts';
import { bar0RegistersFor, type RegisterTable } from '../emu/register-tables.ts';
import { EDU_REG, EDU_STATUS_IRQFACT } from '../pci/edu-regs.ts';
import type { PciDevice, PciRegion } from '../pci/device.ts';
import { NVME_REG } from '../pci/nvme-regs.ts';
import { hexString, parseHex } from './format.ts';

type Registers = Readonly<Record<string, string>>;

function read(region: PciRegion, offset: number, width: number): bigint {
  return width === 8 ? region.read64(offset) : BigInt(region.read32(offset));
}

/** The named BAR0 registers of `device`'s model as they read now (hex), or null for a device lib/emu does not model. */
export function readRegisters(device: PciDevice): Registers | null {
  const model = bar0RegistersFor(device.identity);
  if (model === null) return null;
  let region: PciRegion;
  try {
    region = device.bar(0);
  } catch {
    return null;
  }
  const out: Record<string, string> = {};
  for (const [name, r] of Object.entries(model.registers)) {
    try { out[name] = hexString(read(region, r.offset, r.width), 2 * r.width); } catch { /* unreadable now: not part of the state */ }
  }
  return out;
}

/** How each restorable register's recorded value is put into a model, in this order. */
type Restore = readonly (readonly [name: string, put: (bar: PciRegion, value: bigint) => void])[];

const EDU_RESTORE: Restore = [
  ['DMA_SRC', (bar, v) => bar.write64(EDU_REG.DMA_SRC, v)],
  ['DMA_DST', (bar, v) => bar.write64(EDU_REG.DMA_DST, v)],
  ['DMA_CNT', (bar, v) => bar.write64(EDU_REG.DMA_CNT, v)],
  ['LIVENESS', (bar, v) => bar.write32(EDU_REG.LIVENESS, ~Number(v) >>> 0)],
  ['STATUS', (bar, v) => bar.write32(EDU_REG.STATUS, Number(v) & EDU_STATUS_IRQFACT)],
  ['IRQ_STATUS', (bar, v) => { if (v !== 0n) bar.write32(EDU_REG.IRQ_RAISE, Number(v)); }],
];

const NVME_RESTORE: Restore = [
  ['AQA', (bar, v) => bar.write32(NVME_REG.AQA, Number(v))],
  ['ASQ', (bar, v) => bar.write64(NVME_REG.ASQ, v)],
  ['ACQ', (bar, v) => bar.write64(NVME_REG.ACQ, v)],
  ['INTMS', (bar, v) => { if (v !== 0n) bar.write32(NVME_REG.INTMS, Number(v)); }],
  ['CC', (bar, v) => bar.write32(NVME_REG.CC, Number(v))],
];

const RESTORE: Readonly<Record<string, Restore>> = { edu: EDU_RESTORE, NVMe: NVME_RESTORE };

/** A register that differs from the recorded device after restoring: its byte range in BAR0. */
export interface StaleRegister {
  readonly name: string;
  readonly offset: number;
  readonly width: number;
  readonly note: string;
}

/**
 * Puts `recorded` (the registers at open) into `model`, lets the model settle (an NVMe enable), and
 * returns the registers that still differ.
 */
export async function restoreRegisters(model: EmuPciDevice, recorded: Registers | null, settle: () => Promise<void>): Promise<StaleRegister[]> {
  const table = bar0RegistersFor(model.identity);
  if (recorded === null || table === null) return [];
  const bar = model.bar(0);
  const registers: RegisterTable = table.registers;
  for (const [name, put] of RESTORE[table.model] ?? []) {
    const value = parseHex(recorded[name]);
    const r = registers[name];
    if (value !== null && r !== undefined && value !== read(bar, r.offset, r.width)) put(bar, value);
  }
  await settle();
  const stale: StaleRegister[] = [];
  for (const [name, r] of Object.entries(table.registers)) {
    const value = parseHex(recorded[name]);
    if (value === null) continue;
    const now = read(bar, r.offset, r.width);
    if (now === value) continue;
    stale.push({
      name, offset: r.offset, width: r.width,
      note: `BAR0 ${name} was ${hexString(value, 2 * r.width)} at open, the model's ${hexString(now, 2 * r.width)}: not compared until the recording writes it`,
    });
  }
  return stale;
}
