/**
 * The lowest JS layer: edu opened with the addon's raw calls (container → group → IOMMU → device fd,
 * spec/pci-vfio.md C.5, the same steps as hw-tests/baseline/vfio_edu.c), BAR0 mmapped, one eventfd
 * routed to MSI vector 0 with VFIO_DEVICE_SET_IRQS, and the addon's EventfdWatcher resolving a
 * Promise. Everything above it (IrqLine, the kits) adds to this. Its blocking twin,
 * msi_roundtrip_native_wait, is the addon's blocking wait (eventfdWaitAny: poll + read + the wake
 * record, native/blocking_wait.cc) called straight from JS — the floor of every blocking row.
 *
 * The device is closed again before VfioDevice opens it (a group fd is exclusive).
 */
import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import {
  EDU_REG, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
} from 'vfio-ddk';
// The native layer has no package export; this is the same module instance dist/vfio uses.
import { loadNative, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../../dist/native/index.js';
import { measureAsync, measureSync } from '../../scripts/bench/measure.mjs';
import { makeRow } from '../../scripts/bench/report.mjs';

function openRaw(addon, bdf) {
  const group = Number(basename(readlinkSync(`/sys/bus/pci/devices/${bdf}/iommu_group`)));
  const fds = [];
  try {
    const container = addon.vfioOpenContainer();
    fds.push(container);
    const groupFd = addon.vfioOpenGroup(group);
    fds.push(groupFd);
    addon.vfioGroupSetContainer(groupFd, container);
    addon.vfioSetIommu(container);
    const device = addon.vfioGroupGetDeviceFd(groupFd, bdf);
    fds.push(device);
    const cfg = addon.vfioDeviceGetRegionInfo(device, VFIO_PCI_CONFIG_REGION_INDEX);
    const command = addon.regionRead(device, cfg.offset, cfg.size, PCI_COMMAND, 2);
    addon.regionWrite(device, cfg.offset, cfg.size, PCI_COMMAND, 2, command | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const bar = addon.vfioDeviceGetRegionInfo(device, VFIO_PCI_BAR0_REGION_INDEX);
    const buffer = addon.mmapRegion(device, bar.offset, bar.size, 0n, bar.size);
    return { device, buffer, regs: new Uint32Array(buffer), fds };
  } catch (error) {
    for (const fd of fds.reverse()) addon.close(fd);
    throw error;
  }
}

/** ZX_TIME_INFINITE for the native wait's CLOCK_MONOTONIC deadline. */
const NO_DEADLINE = 0x7fff_ffff_ffff_ffffn;

/** msi_roundtrip_native_wait: write IRQ_RAISE → the addon's blocking wait on the eventfd → write IRQ_ACK. */
function nativeWaitRow(addon, raw, step) {
  const efd = addon.eventfdCreate(0, { nonblock: true });
  const fds = Int32Array.of(efd);
  const record = new Int32Array(6);
  const raise = EDU_REG.IRQ_RAISE >>> 2;
  const ack = EDU_REG.IRQ_ACK >>> 2;
  const regs = raw.regs;
  try {
    addon.vfioDeviceSetIrqs(raw.device, { index: VFIO_PCI_MSI_IRQ_INDEX, flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 1, fds: [efd] });
    const samples = measureSync(() => {
      regs[raise] = 1;
      if (addon.eventfdWaitAny(fds, 1, NO_DEADLINE, -1, record) !== 0) throw new Error('eventfdWaitAny: not the MSI eventfd');
      regs[ack] = 1;
    }, step('msi_roundtrip_native_wait'));
    return makeRow({ name: 'msi_roundtrip_native_wait', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    addon.vfioDeviceSetIrqs(raw.device, { index: VFIO_PCI_MSI_IRQ_INDEX, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 0 });
    addon.close(efd);
  }
}

/** msi_roundtrip_watcher: write IRQ_RAISE → eventfd → native watcher → Promise → write IRQ_ACK. */
export async function rawWatcherRows(bdf, step) {
  const addon = loadNative();
  const raw = openRaw(addon, bdf);
  let efd = -1;
  let watcher = null;
  try {
    const nativeWait = nativeWaitRow(addon, raw, step); // before the watcher exists: nothing else reads the MSI
    efd = addon.eventfdCreate(0, { nonblock: true });
    let resolve = null;
    watcher = new addon.EventfdWatcher(efd, (count) => { const r = resolve; resolve = null; r?.(count); });
    const executor = (r) => { resolve = r; };
    const raise = EDU_REG.IRQ_RAISE >>> 2;
    const ack = EDU_REG.IRQ_ACK >>> 2;
    const regs = raw.regs;
    addon.vfioDeviceSetIrqs(raw.device, { index: VFIO_PCI_MSI_IRQ_INDEX, flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 1, fds: [efd] });
    const samples = await measureAsync(() => {
      const p = new Promise(executor);
      regs[raise] = 1;
      return p;
    }, { ...step('msi_roundtrip_watcher'), after: () => { regs[ack] = 1; } });
    addon.vfioDeviceSetIrqs(raw.device, { index: VFIO_PCI_MSI_IRQ_INDEX, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 0 });
    // The same loop with no device: JS writes the eventfd itself. What is left of the MSI row after
    // this one is the device, the IOMMU and the kernel's interrupt path (C pays those too).
    const loopback = await measureAsync(() => {
      const p = new Promise(executor);
      addon.eventfdWrite(efd, 1);
      return p;
    }, step('eventfd_loopback_watcher'));
    return [
      nativeWait,
      makeRow({ name: 'msi_roundtrip_watcher', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } }),
      makeRow({ name: 'eventfd_loopback_watcher', subject: loopback, extra: { pair: 'msi_roundtrip_blocking' } }),
    ];
  } finally {
    watcher?.close();
    if (efd >= 0) addon.close(efd);
    addon.munmapRegion(raw.buffer);
    for (const fd of raw.fds.reverse()) addon.close(fd);
  }
}
