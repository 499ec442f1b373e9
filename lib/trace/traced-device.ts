/**
 * The recording view of one opened device: what `createEduDevice`, `openVfioDevice` … return while a
 * trace records (lib/pci/trace-hook.ts). It is the device itself seen through an overlay
 * (overlay.ts) whose `config`, `bar(i)`, `irq`, `dma`, `reset` and `close` record; everything else —
 * the backend's own extras, `instanceof` — is the device's. Kits given the view (zx_platform_attach,
 * ddi_dev_info) record through it too.
 *
 * At open it writes the device's records (format.ts DeviceInfo): identity, BAR sizes, interrupt
 * counts, the MSI capability's control word, Command, the DMA mask and the model's BAR0 registers as
 * the driver finds them — read from the device directly, not recorded as accesses (a VFIO open has
 * already set Memory Space and Bus Master; an edu keeps what the last driver left: replay starts the
 * model from there, initial-state.ts).
 */
import { findMsi } from '../pci/capabilities.ts';
import type { PciDevice, PciRegion } from '../pci/device.ts';
import { PCI_COMMAND, PCI_MSI_FLAGS, PCI_STD_NUM_BARS } from '../pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import { bar0RegistersFor } from '../emu/register-tables.ts';
import { CAT, DEVICE_META, hexString, TID, type DeviceInfo } from './format.ts';
import { readRegisters } from './initial-state.ts';
import { overlay } from './overlay.ts';
import { RegisterNames } from './register-names.ts';
import { TracedConfig, TracedRegion } from './traced-access.ts';
import { TracedDma } from './traced-dma.ts';
import { traceInterrupts } from './traced-irq.ts';
import { DeviceTracks, type TrackRecorder } from './tracks.ts';

function irqCount(device: PciDevice, index: 0 | 1 | 2): number {
  try {
    return device.irq.info(index).count;
  } catch {
    return 0;
  }
}

function barSize(device: PciDevice, index: number): string | null {
  try {
    return hexString(device.bar(index).size);
  } catch {
    return null;
  }
}

/** What replay needs to know about `device`, read from it directly. */
export function deviceInfo(device: PciDevice): DeviceInfo {
  const { vendorId, deviceId, classCode, revision } = device.identity;
  const msi = findMsi(device.config);
  return {
    bdf: device.bdf,
    backend: device.backend,
    model: bar0RegistersFor(device.identity)?.model ?? null,
    vendorId, deviceId, classCode, revision,
    bars: Array.from({ length: PCI_STD_NUM_BARS }, (_, i) => barSize(device, i)),
    irqCounts: { intx: irqCount(device, VFIO_PCI_INTX_IRQ_INDEX), msi: irqCount(device, VFIO_PCI_MSI_IRQ_INDEX), msix: irqCount(device, VFIO_PCI_MSIX_IRQ_INDEX) },
    msiControl: msi === null ? null : device.config.read16(msi.offset + PCI_MSI_FLAGS),
    command: device.config.read16(PCI_COMMAND),
    dmaMask: hexString(device.dma.mask),
    registers: readRegisters(device),
  };
}

/** The recording view of `device` as pid `pid` of `recorder`'s trace. */
export function traceDevice<T extends PciDevice>(recorder: TrackRecorder, device: T, pid: number): T {
  const info = deviceInfo(device);
  const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
  const name = `${device.bdf} ${info.model ?? `${hex4(info.vendorId)}:${hex4(info.deviceId)}`}`;
  recorder.emit({ name: 'process_name', ph: 'M', pid, args: { name } });
  recorder.emit({ name: 'process_sort_index', ph: 'M', pid, args: { sort_index: pid } });
  recorder.emit({ name: DEVICE_META, ph: 'M', pid, args: info as unknown as Record<string, unknown> });
  const tracks = new DeviceTracks(recorder, pid);
  tracks.name(TID.device, 'device');
  tracks.instant(TID.device, 'open', CAT.device, recorder.nextSeq(), recorder.now(), { bdf: device.bdf, backend: device.backend });

  const names = new RegisterNames(device);
  const dma = new TracedDma(device.dma, tracks);
  const config = new TracedConfig(device.config, tracks, names);
  const regions = new Map<PciRegion, TracedRegion>();
  const irq = traceInterrupts(device.irq, tracks, () => dma.snapshot('deliver'));

  const bar = (index: number): PciRegion => {
    const region = device.bar(index);
    let traced = regions.get(region);
    if (traced === undefined) regions.set(region, traced = new TracedRegion(region, tracks, names, dma));
    return traced;
  };
  const reset = (): void => {
    const seq = recorder.nextSeq();
    const ts = recorder.now();
    device.reset();
    tracks.instant(TID.device, 'reset', CAT.device, seq, ts);
  };
  const close = (): void => device.close();
  device.onClose(() => {
    dma.snapshot('close');
    tracks.instant(TID.device, 'close', CAT.device, recorder.nextSeq(), recorder.now());
  });
  return overlay(device, { config, bar, irq, dma: dma.view, reset, close, [Symbol.dispose]: close });
}
