/**
 * Which emulated model replays a recorded device (lib/emu: the models of QEMU's edu and NVMe, and the
 * test device), created the way the recording describes the device, and checked against it before
 * anything is replayed: the same BAR sizes and vector counts, or the recording is of a different
 * device than the model (a difference at "open"). An NVMe model takes the serial, model and firmware
 * strings of the Identify Controller data the recorded device wrote (a span at a delivery, traced-dma.ts):
 * they are properties of the QEMU that ran it (Debian's 7.2 reports FR "7.2.22", lib/emu "7.2.0"), as a
 * serial number is.
 */
import type { EmuPciDevice } from '../emu/device.ts';
import { createEduDevice } from '../emu/edu.ts';
import { createNvmeDevice } from '../emu/nvme.ts';
import { createTestDevice, type TestDeviceOptions } from '../emu/test-device.ts';
import { bar0RegistersFor } from '../emu/register-tables.ts';
import { PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_MASKBIT, PCI_STD_NUM_BARS } from '../pci/regs.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import { NVME_ID_CTRL, NVME_ID_CTRL_FR_LENGTH, NVME_ID_CTRL_MN_LENGTH, NVME_ID_CTRL_SN_LENGTH } from '../pci/nvme-regs.ts';
import type { NvmeOptions } from '../emu/nvme-options.ts';
import { CAT, hexString, parseHex, type DeviceInfo, type TraceEvent } from './format.ts';

type MsiVectors = NonNullable<TestDeviceOptions['msi']>['vectors'];

function testDeviceOptions(info: DeviceInfo): TestDeviceOptions {
  const control = info.msiControl ?? 0;
  return {
    intx: info.irqCounts.intx > 0,
    ...(info.irqCounts.msi > 0 ? {
      msi: { vectors: info.irqCounts.msi as MsiVectors, perVectorMask: (control & PCI_MSI_FLAGS_MASKBIT) !== 0, addr64: (control & PCI_MSI_FLAGS_64BIT) !== 0 },
    } : {}),
    ...(info.irqCounts.msix > 0 ? { msix: { vectors: info.irqCounts.msix } } : {}),
  };
}

function identifyText(data: Uint8Array, at: number, length: number): string | null {
  const text = Buffer.from(data.subarray(at, at + length)).toString('latin1').replace(/[ \0]+$/, '');
  return /^[\x20-\x7e]+$/.test(text) ? text : null;
}

/**
 * SN, MN and FR of the first Identify Controller data page the device wrote (a page-aligned span at a
 * delivery that starts with the controller's PCI vendor ID, NVMe 1.4 §5.15.2.2); {} when there is none.
 */
export function nvmeIdentity(info: DeviceInfo, events: readonly TraceEvent[]): NvmeOptions {
  for (const event of events) {
    const a = event.args ?? {};
    if (event.cat !== CAT.dma || event.name !== 'host memory' || a['at'] !== 'deliver') continue;
    const iova = parseHex(a['iova']);
    const data = Buffer.from(String(a['data']), 'base64');
    if (iova === null || (iova & 0xfffn) !== 0n || data.length < NVME_ID_CTRL.FR + NVME_ID_CTRL_FR_LENGTH || data.readUInt16LE(NVME_ID_CTRL.VID) !== info.vendorId) continue;
    const serial = identifyText(data, NVME_ID_CTRL.SN, NVME_ID_CTRL_SN_LENGTH);
    const model = identifyText(data, NVME_ID_CTRL.MN, NVME_ID_CTRL_MN_LENGTH);
    const firmware = identifyText(data, NVME_ID_CTRL.FR, NVME_ID_CTRL_FR_LENGTH);
    return { ...(serial === null ? {} : { serial }), ...(model === null ? {} : { model }), ...(firmware === null ? {} : { firmware }) };
  }
  return {};
}

/**
 * The model for `info` (NVMe: with the identity `events` show), or a sentence saying why there is none. edu's factorial completes on the
 * next turn of the loop (as edu's worker thread does) and its DMA after the model's default 1 ms
 * (the real edu's timer is 100 ms of virtual clock): replay waits for the model, so faster is fine.
 */
export function createModel(info: DeviceInfo, events: readonly TraceEvent[] = []): EmuPciDevice | string {
  // Which model: the one choice lib/emu/register-tables.ts makes (edu and the test device by ID, NVMe by class).
  const model = bar0RegistersFor(info)?.model;
  if (model === 'edu') return createEduDevice();
  if (model === 'test device') return createTestDevice(testDeviceOptions(info));
  if (model === 'NVMe') return createNvmeDevice(nvmeIdentity(info, events));
  const id = `${info.vendorId.toString(16).padStart(4, '0')}:${info.deviceId.toString(16).padStart(4, '0')}`;
  return `no emulated model of ${id} (lib/emu has the edu 1234:11e8, NVMe by class 010802 and the test device 1234:7e57)`;
}

/** Where the model differs from the recorded device before anything runs, or null. */
export function modelMismatch(info: DeviceInfo, model: EmuPciDevice): { where: string; recorded: string; model: string } | null {
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
    let size: string | null = null;
    try { size = hexString(model.bar(i).size); } catch { /* not implemented */ }
    const recorded = info.bars[i] ?? null;
    if (size !== recorded) return { where: `BAR${i} size`, recorded: recorded ?? 'not implemented', model: size ?? 'not implemented' };
  }
  const counts: [string, number, number][] = [
    ['INTx', info.irqCounts.intx, model.irq.info(VFIO_PCI_INTX_IRQ_INDEX).count],
    ['MSI', info.irqCounts.msi, model.irq.info(VFIO_PCI_MSI_IRQ_INDEX).count],
    ['MSI-X', info.irqCounts.msix, model.irq.info(VFIO_PCI_MSIX_IRQ_INDEX).count],
  ];
  for (const [name, recorded, modelled] of counts) {
    if (recorded !== modelled) return { where: `${name} vectors`, recorded: String(recorded), model: String(modelled) };
  }
  return null;
}
