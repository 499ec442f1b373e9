/**
 * What the REPL puts in scope for an opened device: `device`, `cfg`, `bar0…bar5` (the implemented
 * ones), `irq`, `dma` and the two kits `zx` (vfio-ddk/zircon) and `ddi` (vfio-ddk/ddi).
 */
import * as ddi from '../../ddi/index.ts';
import type { PciDevice } from '../../pci/device.ts';
import { PCI_STD_NUM_BARS } from '../../pci/regs.ts';
import * as zx from '../../zircon/index.ts';
import { BarWindow, ConfigWindow } from './accessors.ts';
import { DmaScope } from './dma-scope.ts';
import { IrqScope } from './irq-scope.ts';
import { bar0RegistersFor } from '../../emu/register-tables.ts';

export interface ReplScope {
  readonly device: PciDevice;
  /** The device model whose BAR0 names are known ('edu', 'NVMe', 'test device'), or null. */
  readonly model: string | null;
  readonly cfg: ConfigWindow;
  readonly bars: ReadonlyMap<string, BarWindow>;
  readonly irq: IrqScope;
  readonly dma: DmaScope;
  /** The names and values to define in the REPL's context. */
  readonly globals: Readonly<Record<string, unknown>>;
}

/** A BAR that is not implemented is DdkError 'ENOENT' from PciDevice.bar; only the others get a name. */
function implementedBars(device: PciDevice, model: ReturnType<typeof bar0RegistersFor>): Map<string, BarWindow> {
  const bars = new Map<string, BarWindow>();
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
    let region;
    try {
      region = device.bar(i);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') continue;
      throw err;
    }
    bars.set(`bar${i}`, new BarWindow(region, i === 0 && model !== null ? model.registers : {}));
  }
  return bars;
}

export function buildScope(device: PciDevice): ReplScope {
  const model = bar0RegistersFor(device.identity);
  const cfg = new ConfigWindow(device.config);
  const bars = implementedBars(device, model);
  const irq = new IrqScope(device);
  const dma = new DmaScope(device);
  return {
    device, model: model?.model ?? null, cfg, bars, irq, dma,
    globals: { device, cfg, ...Object.fromEntries(bars), irq, dma, zx, ddi },
  };
}
