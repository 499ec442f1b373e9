/**
 * The part of `info` that opens the device through VFIO. It loads lib/vfio/index.ts dynamically and
 * uses `openVfioDevice(bdf, { enableBusMaster: false, sysfs, vfioDir })` only if that build exports
 * it, so `info` works (sysfs only) without it. Only the `PciDevice` contract (lib/pci/device.ts) is
 * relied on; the device is closed before returning.
 */
import { join } from 'node:path';
import type { IrqInfo, PciDevice } from '../../pci/device.ts';
import { IRQ_INDEX_NAMES, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../pci/vfio-indices.ts';
import { PCI_STD_NUM_BARS } from '../../pci/regs.ts';
import type { IrqIndex } from '../../pci/vfio-indices.ts';
import type { CliContext } from '../context.ts';

export interface VfioView {
  /** 'opened' with details, or why not ('unavailable': no VfioDevice in this build; 'error'). */
  readonly status: 'opened' | 'unavailable' | 'error' | 'skipped';
  readonly message: string;
  readonly bars?: { index: number; size: bigint }[];
  /** `dynamic`: vectors can be added to the enabled index (MSI-X without VFIO_IRQ_INFO_NORESIZE). */
  readonly irqs?: { index: string; count: number; maskable: boolean; automasked: boolean; eventfd: boolean; noresize: boolean; dynamic: boolean }[];
}

/** "CODE: first line of the message" (module-resolution errors append a multi-line require stack). */
function errorText(err: unknown): string {
  const first = (text: string): string => text.split('\n')[0] ?? '';
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? `${err.code}: ${first(err.message)}` : first(err.message);
  return first(String(err));
}

/** Opens `bdf` through VFIO and reads its regions and IRQ indices. Never throws. */
export async function vfioView(ctx: CliContext, bdf: string): Promise<VfioView> {
  let mod: Record<string, unknown>;
  try {
    mod = await ctx.importVfio();
  } catch (err) {
    return { status: 'unavailable', message: `cannot load vfio-ddk/vfio: ${errorText(err)}` };
  }
  const open = mod['openVfioDevice'];
  if (typeof open !== 'function') {
    return { status: 'unavailable', message: 'this build has no VfioDevice (vfio-ddk/vfio does not export openVfioDevice yet)' };
  }
  let device: PciDevice;
  try {
    // Read-only look: do not turn on bus mastering; use the same sysfs and /dev roots as the CLI.
    const options = { enableBusMaster: false, sysfs: ctx.sysfs, vfioDir: join(ctx.devRoot, 'vfio'), iommuPath: join(ctx.devRoot, 'iommu') };
    device = (await (open as (b: string, o: object) => unknown)(bdf, options)) as PciDevice;
  } catch (err) {
    return { status: 'error', message: `could not open through VFIO: ${errorText(err)}` };
  }
  try {
    const bars: { index: number; size: bigint }[] = [];
    for (let i = 0; i < PCI_STD_NUM_BARS; i += 1) {
      try {
        bars.push({ index: i, size: device.bar(i).size });
      } catch { /* BAR not implemented */ }
    }
    const indices: readonly IrqIndex[] = [VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX];
    const irqs = indices.map((index) => {
      const info: IrqInfo = device.irq.info(index);
      return {
        index: IRQ_INDEX_NAMES[index] ?? String(index), count: info.count, maskable: info.maskable, automasked: info.automasked, eventfd: info.eventfd,
        noresize: info.noresize, dynamic: index === VFIO_PCI_MSIX_IRQ_INDEX && info.count > 0 && !info.noresize,
      };
    });
    // VfioDevice says which IOMMU interface it got; PciDevice in general does not.
    const kind = (device as { iommuKind?: unknown }).iommuKind;
    const via = typeof kind === 'string' ? `, ${kind} IOMMU path` : '';
    return { status: 'opened', message: `opened through VFIO (backend ${device.backend}${via})`, bars, irqs };
  } catch (err) {
    return { status: 'error', message: `opened, but reading it failed: ${errorText(err)}` };
  } finally {
    try { device.close(); } catch { /* already closed */ }
  }
}
