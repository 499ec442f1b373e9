/**
 * Fixture sysfs / procfs / devfs trees in a temp dir, shaped like the kernel's (symlinked `driver` and
 * `iommu_group`, iommu_groups/<N>/devices links, regular files for bind/unbind/driver_override/
 * drivers_probe), plus a tiny "kernel" (`kernelHook`) that reacts to writes the way the PCI core does,
 * so bind/unbind flows can be checked end to end. Not a test file (no .test.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PCI_CAPABILITY_LIST, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CAP_LIST_NEXT, PCI_CLASS_REVISION, PCI_DEVICE_ID,
  PCI_INTERRUPT_PIN, PCI_MSIX_FLAGS, PCI_MSIX_PBA, PCI_MSIX_TABLE, PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_MASKBIT, PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID,
} from '../../lib/pci/regs.ts';

export interface ConfigOptions {
  vendor: number;
  device: number;
  classCode: number;
  revision?: number;
  intxPin?: number;
  msi?: { vectors: 1 | 2 | 4 | 8 | 16 | 32; is64?: boolean; perVectorMask?: boolean };
  msix?: { vectors: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number };
  /** Bytes readable (64 = what a non-root user gets). Default 256. */
  size?: 64 | 256 | 4096;
}

const MSI_AT = 0x40;
const MSIX_AT = 0x60;

/** Config space bytes with the capability list the options describe (MSI at 0x40, MSI-X at 0x60). */
export function buildConfig(o: ConfigOptions): Uint8Array {
  const full = new Uint8Array(4096);
  const v = new DataView(full.buffer);
  v.setUint16(PCI_VENDOR_ID, o.vendor, true);
  v.setUint16(PCI_DEVICE_ID, o.device, true);
  v.setUint32(PCI_CLASS_REVISION, ((o.classCode << 8) | (o.revision ?? 0)) >>> 0, true);
  v.setUint16(PCI_SUBSYSTEM_VENDOR_ID, o.vendor, true);
  v.setUint16(PCI_SUBSYSTEM_ID, 0x1100, true);
  v.setUint8(PCI_INTERRUPT_PIN, o.intxPin ?? 0);
  const caps: number[] = [];
  if (o.msi !== undefined) caps.push(MSI_AT);
  if (o.msix !== undefined) caps.push(MSIX_AT);
  if (caps.length > 0) {
    v.setUint16(PCI_STATUS, PCI_STATUS_CAP_LIST, true);
    v.setUint8(PCI_CAPABILITY_LIST, caps[0] ?? 0);
  }
  caps.forEach((at, i) => v.setUint8(at + PCI_CAP_LIST_NEXT, caps[i + 1] ?? 0));
  if (o.msi !== undefined) {
    v.setUint8(MSI_AT, PCI_CAP_ID_MSI);
    const mmc = Math.log2(o.msi.vectors);
    const control = (mmc << 1) | (o.msi.is64 === true ? PCI_MSI_FLAGS_64BIT : 0) | (o.msi.perVectorMask === true ? PCI_MSI_FLAGS_MASKBIT : 0);
    v.setUint16(MSI_AT + PCI_MSI_FLAGS, control, true);
  }
  if (o.msix !== undefined) {
    v.setUint8(MSIX_AT, PCI_CAP_ID_MSIX);
    v.setUint16(MSIX_AT + PCI_MSIX_FLAGS, o.msix.vectors - 1, true);
    v.setUint32(MSIX_AT + PCI_MSIX_TABLE, (o.msix.tableOffset | o.msix.tableBar) >>> 0, true);
    v.setUint32(MSIX_AT + PCI_MSIX_PBA, (o.msix.pbaOffset | o.msix.pbaBar) >>> 0, true);
  }
  return full.slice(0, o.size ?? 256);
}

export interface FixtureDevice {
  bdf: string;
  config: ConfigOptions;
  driver?: string;
  group?: number;
  numaNode?: number;
  resource?: string;
  /** Driver the fixture kernel binds on a probe without driver_override (its ID-table match). */
  probesTo?: string;
}

export interface Fixture {
  readonly dir: string;
  readonly sys: string;
  readonly proc: string;
  readonly dev: string;
  readonly state: string;
  /** Every write the Sysfs instance reported, in order: "path=value". */
  readonly writes: string[];
  /** Plays the kernel's part of bind/unbind/probe on the fixture tree (pass as Sysfs onWrite). */
  readonly kernelHook: (relativePath: string, value: string) => void;
  devicePath(bdf: string, ...rest: string[]): string;
  read(path: string): string;
  cleanup(): void;
}

const hex = (n: number, w: number): string => `0x${n.toString(16).padStart(w, '0')}`;

/** A proc/interrupts sample with vfio vectors of 0000:00:01.0 (MSI) and 0000:00:02.0 (MSI-X, INTx). */
export const PROC_INTERRUPTS = [
  '           CPU0       CPU1       ',
  '  0:         46          0   IO-APIC   2-edge      timer',
  ' 11:          5          7   IR-IO-APIC   11-fasteoi   uhci_hcd:usb1, vfio-intx(0000:00:02.0)',
  ' 24:        100         20  IR-PCI-MSI-0000:00:01.0    0-edge      vfio-msi[0](0000:00:01.0)',
  ' 25:       1000          0  IR-PCI-MSIX-0000:00:02.0    0-edge      vfio-msix[0](0000:00:02.0)',
  ' 26:          0         30  IR-PCI-MSIX-0000:00:02.0    1-edge      vfio-msix[1](0000:00:02.0)',
  ' 27:          9          9  IR-PCI-MSIX-0000:00:06.0    0-edge      virtio0-config',
  ' 28:          1          1  PCI-MSI 1234-edge      vfio-msi[1](../../etc)',
  'NMI:          0          0   Non-maskable interrupts',
  'LOC:      18332      19673   Local timer interrupts',
  'ERR:          0',
  'garbage line without colon',
  '',
].join('\n');

export const PROC_LIMITS = [
  'Limit                     Soft Limit           Hard Limit           Units     ',
  'Max locked memory         8388608              8388608              bytes     ',
  '',
].join('\n');

/** The standard scenario: see the comment on each device. */
export function standardDevices(): FixtureDevice[] {
  return [
    // Host bridge, unbound, alone in group 0.
    { bdf: '0000:00:00.0', config: { vendor: 0x8086, device: 0x29c0, classCode: 0x060000 }, group: 0 },
    // QEMU edu, bound to vfio-pci: VFIO-ready. MSI 1 vector 64-bit, INTA.
    { bdf: '0000:00:01.0', config: { vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, revision: 0x10, intxPin: 1, msi: { vectors: 1, is64: true } },
      driver: 'vfio-pci', group: 1, numaNode: 0,
      resource: '0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n' + '0x0000000000000000 0x0000000000000000 0x0000000000000000\n'.repeat(6) },
    // QEMU NVMe bound to nvme: bindable. MSI-X 65 vectors, 4 KiB config.
    { bdf: '0000:00:02.0', config: { vendor: 0x1b36, device: 0x0010, classCode: 0x010802, revision: 2, intxPin: 1, size: 4096,
      msix: { vectors: 65, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 } }, driver: 'nvme', group: 2, probesTo: 'nvme' },
    // Two functions of one NIC in group 3, both bound to e1000e: binding one alone must be refused.
    { bdf: '0000:00:03.0', config: { vendor: 0x8086, device: 0x10d3, classCode: 0x020000, intxPin: 1, msi: { vectors: 1 } }, driver: 'e1000e', group: 3, probesTo: 'e1000e' },
    { bdf: '0000:00:03.1', config: { vendor: 0x8086, device: 0x10d3, classCode: 0x020000, intxPin: 2 }, driver: 'e1000e', group: 3, probesTo: 'e1000e' },
    // Unbound test device, config readable only 64 bytes (non-root view): capabilities unknown.
    { bdf: '0000:00:04.0', config: { vendor: 0x1b36, device: 0x0005, classCode: 0x00ff00, intxPin: 1, size: 64, msi: { vectors: 8, perVectorMask: true } }, group: 4 },
    // No IOMMU group.
    { bdf: '0000:00:05.0', config: { vendor: 0x1af4, device: 0x1041, classCode: 0x020000 }, driver: 'virtio-pci' },
    // vfio-pci in group 6 next to a function bound to snd_hda_intel: group not viable.
    { bdf: '0000:00:06.0', config: { vendor: 0x10de, device: 0x1c82, classCode: 0x030000, intxPin: 1 }, driver: 'vfio-pci', group: 6 },
    { bdf: '0000:00:06.1', config: { vendor: 0x10de, device: 0x0fb9, classCode: 0x040300, intxPin: 2 }, driver: 'snd_hda_intel', group: 6, probesTo: 'snd_hda_intel' },
  ];
}

export interface FixtureOptions {
  devices?: FixtureDevice[];
  drivers?: string[];
  /** Whether /sys/kernel/iommu_groups etc. say the IOMMU is on (default true). */
  iommu?: boolean;
  interrupts?: string;
  allowUnsafeInterrupts?: boolean;
  devNodes?: string[];
}

export function makeFixture(options: FixtureOptions = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-fixture-'));
  const sys = join(dir, 'sys');
  const proc = join(dir, 'proc');
  const dev = join(dir, 'dev');
  const devices = options.devices ?? standardDevices();
  const drivers = options.drivers ?? ['vfio-pci', 'nvme', 'e1000e', 'virtio-pci', 'snd_hda_intel'];
  const pci = join(sys, 'bus', 'pci');
  mkdirSync(join(pci, 'devices'), { recursive: true });
  mkdirSync(join(sys, 'kernel', 'iommu_groups'), { recursive: true });
  writeFileSync(join(pci, 'drivers_probe'), '');
  for (const d of drivers) {
    mkdirSync(join(pci, 'drivers', d), { recursive: true });
    for (const f of ['bind', 'unbind', 'new_id']) writeFileSync(join(pci, 'drivers', d, f), '');
  }
  const probesTo = new Map<string, string>();
  for (const d of devices) {
    const p = join(pci, 'devices', d.bdf);
    mkdirSync(p);
    const c = d.config;
    writeFileSync(join(p, 'vendor'), `${hex(c.vendor, 4)}\n`);
    writeFileSync(join(p, 'device'), `${hex(c.device, 4)}\n`);
    writeFileSync(join(p, 'class'), `${hex(c.classCode, 6)}\n`);
    writeFileSync(join(p, 'revision'), `${hex(c.revision ?? 0, 2)}\n`);
    writeFileSync(join(p, 'subsystem_vendor'), `${hex(c.vendor, 4)}\n`);
    writeFileSync(join(p, 'subsystem_device'), '0x1100\n');
    writeFileSync(join(p, 'numa_node'), `${d.numaNode ?? -1}\n`);
    writeFileSync(join(p, 'irq'), '11\n');
    writeFileSync(join(p, 'driver_override'), '(null)\n');
    writeFileSync(join(p, 'config'), buildConfig(c));
    if (d.resource !== undefined) writeFileSync(join(p, 'resource'), d.resource);
    if (d.driver !== undefined) symlinkSync(join('..', '..', 'drivers', d.driver), join(p, 'driver'));
    if (d.group !== undefined && options.iommu !== false) {
      const g = join(sys, 'kernel', 'iommu_groups', String(d.group), 'devices');
      mkdirSync(g, { recursive: true });
      symlinkSync(join('..', '..', '..', '..', 'bus', 'pci', 'devices', d.bdf), join(g, d.bdf));
      symlinkSync(join('..', '..', '..', '..', 'kernel', 'iommu_groups', String(d.group)), join(p, 'iommu_group'));
    }
    if (d.probesTo !== undefined) probesTo.set(d.bdf, d.probesTo);
  }
  if (options.iommu !== false) mkdirSync(join(sys, 'class', 'iommu', 'dmar0', 'intel-iommu'), { recursive: true });
  if (options.iommu !== false) writeFileSync(join(sys, 'class', 'iommu', 'dmar0', 'intel-iommu', 'ecap'), 'f0205e\n');
  if (drivers.includes('vfio-pci')) {
    mkdirSync(join(sys, 'module', 'vfio_iommu_type1', 'parameters'), { recursive: true });
    writeFileSync(join(sys, 'module', 'vfio_iommu_type1', 'parameters', 'allow_unsafe_interrupts'), options.allowUnsafeInterrupts === true ? 'Y\n' : 'N\n');
    mkdirSync(join(sys, 'module', 'vfio_pci'), { recursive: true });
  }
  mkdirSync(join(proc, 'self'), { recursive: true });
  writeFileSync(join(proc, 'interrupts'), options.interrupts ?? PROC_INTERRUPTS);
  writeFileSync(join(proc, 'self', 'limits'), PROC_LIMITS);
  writeFileSync(join(proc, 'cmdline'), 'console=ttyS0 intel_iommu=on quiet\n');
  writeFileSync(join(proc, 'cpuinfo'), 'vendor_id\t: GenuineIntel\n');
  mkdirSync(join(dev, 'vfio'), { recursive: true });
  // The container node must be a character device (doctor checks): /dev/null stands in for it.
  for (const n of options.devNodes ?? ['vfio', '1', '6']) {
    if (n === 'vfio') symlinkSync('/dev/null', join(dev, 'vfio', n));
    else writeFileSync(join(dev, 'vfio', n), '');
  }

  const writes: string[] = [];
  const devicePath = (bdf: string, ...rest: string[]): string => join(pci, 'devices', bdf, ...rest);
  const setDriver = (bdf: string, driver: string): void => {
    if (!existsSync(join(pci, 'drivers', driver))) return;
    try { unlinkSync(devicePath(bdf, 'driver')); } catch { /* was unbound */ }
    symlinkSync(join('..', '..', 'drivers', driver), devicePath(bdf, 'driver'));
  };
  const kernelHook = (rel: string, value: string): void => {
    writes.push(`${rel}=${value}`);
    const bdf = value.trim();
    let m: RegExpExecArray | null;
    if ((m = /^bus\/pci\/devices\/([^/]+)\/driver\/unbind$/.exec(rel)) !== null) {
      unlinkSync(devicePath(m[1] ?? '', 'driver'));
    } else if (rel === 'bus/pci/drivers_probe') {
      if (existsSync(devicePath(bdf, 'driver'))) return;
      const override = readFileSync(devicePath(bdf, 'driver_override'), 'utf8').trim();
      const target = override !== '' && override !== '(null)' ? override : probesTo.get(bdf);
      if (target !== undefined) setDriver(bdf, target);
    } else if ((m = /^bus\/pci\/drivers\/([^/]+)\/bind$/.exec(rel)) !== null) {
      setDriver(bdf, m[1] ?? '');
    }
  };
  return {
    dir, sys, proc, dev, state: join(dir, 'run', 'vfio-ddk'), writes, kernelHook, devicePath,
    read: (path) => readFileSync(path, 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
