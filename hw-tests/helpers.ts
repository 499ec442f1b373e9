/**
 * Helpers for the hardware suites. They run inside the QEMU guest (scripts/test-hw.mjs), compiled to
 * JavaScript on the host: the library is imported only through package specifiers ('vfio-ddk',
 * 'vfio-ddk/vfio'), which resolve to dist/, so there is exactly one instance of every module.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { IrqLine } from 'vfio-ddk';

/** The BDF the guest bound to vfio-pci for a device ('edu', 'nvme'), or null outside the guest. */
export function guestBdf(device: 'edu' | 'nvme'): string | null {
  const value = process.env[`VFIO_DDK_${device.toUpperCase()}_BDF`];
  return value === undefined || value === '' ? null : value;
}

/** Why a suite is skipped when its device is not there (e.g. run on the host by mistake). */
export function skipReason(device: 'edu' | 'nvme'): string {
  return `no ${device} bound to vfio-pci (VFIO_DDK_${device.toUpperCase()}_BDF unset): run it with npm run test:hw`;
}

/** One device the guest bound to vfio-pci, as VFIO_DDK_DEVICES describes it (scripts/guest/guest.mjs). */
export interface GuestDevice {
  /** The QEMU -device string it was created with (with its id=). */
  spec: string;
  /** Its QEMU id (for QMP device_del). */
  id: string;
  /** The QEMU bus it sits on: its root port ("ddkrp0") for a --device, pcie.0 for edu/nvme (QMP device_add). */
  bus: string;
  bdf: string;
  group: string;
  /** "8086:10d3" */
  vendorDevice: string;
  /** sysfs class, hex without 0x: "020000" */
  class: string;
}

/** Every device bound to vfio-pci in this guest ([] outside it). */
export function guestDevices(): GuestDevice[] {
  const raw = process.env['VFIO_DDK_DEVICES'];
  if (raw === undefined || raw === '') return [];
  return JSON.parse(raw) as GuestDevice[];
}

/** The first device with this vendor:device ("8086:10d3") among VFIO_DDK_DEVICES, or null. */
export function guestDeviceById(vendorDevice: string): GuestDevice | null {
  return guestDevices().find((d) => d.vendorDevice === vendorDevice) ?? null;
}

/** The run folder as the guest sees it (the results share, scripts/guest/init.sh). */
const RUN_DIR = '/run/ddk';
const QMP_POLL_MS = 100;

/**
 * One QMP command on the guest's QEMU, asked through the results share (protocol: scripts/guest/
 * qmp-relay.mjs): resolves with its "return", rejects (code EQMP, qmpClass, qmpDesc) with its error.
 * device_del resolves once QEMU emitted DEVICE_DELETED (the guest released the slot).
 */
export async function qmp(command: string, args?: Record<string, unknown>, timeoutMs = 60_000): Promise<unknown> {
  if (!existsSync(RUN_DIR)) throw new Error(`${RUN_DIR} is missing: qmp() works only in the guest of scripts/guest/guest.mjs`);
  const request = `${RUN_DIR}/qmp-request.json`;
  const reply = `${RUN_DIR}/qmp-reply.json`;
  if (existsSync(request)) throw new Error('another QMP request is pending (one at a time)');
  writeFileSync(`${request}.tmp`, JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args }));
  renameSync(`${request}.tmp`, request);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(reply)) {
      const answer = JSON.parse(readFileSync(reply, 'utf8')) as { return?: unknown; error?: { class: string; desc: string } };
      rmSync(reply, { force: true });
      if (answer.error) throw Object.assign(new Error(`QMP ${command}: ${answer.error.desc}`), { code: 'EQMP', qmpClass: answer.error.class, qmpDesc: answer.error.desc });
      return answer.return;
    }
    if (Date.now() > deadline) throw new Error(`QMP ${command}: no reply within ${timeoutMs / 1000} s`);
    await sleep(QMP_POLL_MS);
  }
}

/**
 * The VFIO IOMMU path this guest kernel must give a device, as scripts/test-hw.mjs sets it per kernel
 * (VFIO_DDK_HW_IOMMU: 'type1' on Debian 6.1, 'iommufd' on the 6.12 built with IOMMUFD + VFIO cdev),
 * or null (a user's own kernel, or run by hand: the tests then assert nothing path-specific).
 */
export function expectedIommu(): 'type1' | 'iommufd' | null {
  const value = process.env['VFIO_DDK_HW_IOMMU'];
  if (value === 'type1' || value === 'iommufd') return value;
  if (value !== undefined && value !== '') throw new Error(`VFIO_DDK_HW_IOMMU=${value}: expected type1 or iommufd`);
  return null;
}

/** The guest kernel the runner booted (VFIO_DDK_GUEST_KERNEL: debian, iommufd or a path), for messages. */
export function guestKernel(): string {
  return process.env['VFIO_DDK_GUEST_KERNEL'] ?? 'unknown';
}

/**
 * The MSI-X vectors of `bdf` the kernel has an interrupt requested for: the `vfio-msix[N](BDF)` actions
 * in /proc/interrupts (vfio_pci_intrs.c names them so), sorted.
 */
export function vfioMsixVectors(bdf: string): number[] {
  const text = readFileSync('/proc/interrupts', 'utf8');
  return [...text.matchAll(/vfio-msix\[(\d+)\]\(([^)]+)\)/g)].filter((m) => m[2] === bdf).map((m) => Number(m[1])).sort((a, b) => a - b);
}

/**
 * How many interrupts the kernel took for MSI-X vector `vector` of `bdf` (its /proc/interrupts line,
 * every CPU's column summed), or null when that vector has no interrupt requested.
 */
export function vfioMsixInterruptCount(bdf: string, vector: number): number | null {
  const action = `vfio-msix[${vector}](${bdf})`;
  const line = readFileSync('/proc/interrupts', 'utf8').split('\n').find((l) => l.trimEnd().endsWith(action));
  if (line === undefined) return null;
  let total = 0;
  for (const column of line.trim().split(/\s+/).slice(1)) {
    if (!/^\d+$/.test(column)) break;
    total += Number(column);
  }
  return total;
}

/** Open file descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * What this process holds of VFIO: the targets of its fds that are VFIO, iommufd or eventfd fds
 * (/proc/self/fd), its mappings of VFIO devices — BARs, by their anon inode or cdev (/proc/self/maps) —
 * and its locked memory in kB (VmLck: the DMA buffers, /proc/self/status). Compare with a snapshot.
 */
export function vfioFootprint(): { fds: string[]; maps: number; lockedKb: number } {
  const fds: string[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${name}`);
      if (/vfio|iommu|eventfd/.test(target)) fds.push(target);
    } catch { /* closed meanwhile (the readdir's own fd) */ }
  }
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /vfio-device|\/dev\/vfio/.test(l)).length;
  const locked = /VmLck:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return { fds: fds.sort(), maps, lockedKb: Number(locked?.[1] ?? -1) };
}

/** The sysfs folder of a PCI function. */
export function sysfsDevice(bdf: string): string {
  return `/sys/bus/pci/devices/${bdf}`;
}

/** Polls until `cond` holds (pciehp works asynchronously) or `ms` pass; resolves whether it held. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The -device string as device_add's arguments: "e1000e,id=ddkdev0" → { driver, id, bus }. */
export function deviceAddArgs(spec: string, bus: string): Record<string, string> {
  const [driver, ...props] = spec.split(',');
  const args: Record<string, string> = { driver: driver ?? '' };
  for (const p of props) {
    const eq = p.indexOf('=');
    if (eq > 0) args[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return { ...args, bus };
}

/**
 * device_add of a device removed with device_del: pciehp finds it again at the same BDF, and it is
 * bound to vfio-pci as init.sh binds it (a hot-added function gets its default driver first). Resolves
 * whether it is back on vfio-pci.
 */
export async function plugBack(device: GuestDevice): Promise<boolean> {
  await qmp('device_add', deviceAddArgs(device.spec, device.bus));
  const dev = sysfsDevice(device.bdf);
  if (!(await until(() => existsSync(dev), 15_000))) return false;
  if (existsSync(`${dev}/driver`)) writeFileSync(`${dev}/driver/unbind`, device.bdf);
  writeFileSync(`${dev}/driver_override`, 'vfio-pci');
  writeFileSync('/sys/bus/pci/drivers_probe', device.bdf);
  return existsSync(`${dev}/driver`) && readlinkSync(`${dev}/driver`).split('/').at(-1) === 'vfio-pci';
}

/**
 * A line whose deliveries resolve promises: `next()` resolves with the count of the next delivery,
 * `onFire` runs first on each delivery (the driver's ack — before anything awaits).
 */
export class LineProbe {
  readonly line: IrqLine;
  deliveries = 0;
  fires = 0;
  detached = false;
  #waiters: ((count: number) => void)[] = [];
  #queued: number[] = [];

  constructor(name: string, onFire: (count: number) => void = () => {}) {
    this.line = new IrqLine(name);
    this.line.setConsumer({
      fire: (count) => {
        this.deliveries++;
        this.fires += count;
        onFire(count);
        const waiter = this.#waiters.shift();
        if (waiter) waiter(count);
        else this.#queued.push(count);
      },
      detached: () => {
        this.detached = true;
      },
    });
  }

  /** The next delivery's count (or one already queued). */
  next(): Promise<number> {
    const queued = this.#queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Median and 99th percentile of nanosecond samples, in microseconds. */
export function percentiles(samples: bigint[]): { medianUs: number; p99Us: number; minUs: number } {
  const sorted = [...samples].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const at = (q: number): number => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0n) / 1000;
  return { medianUs: at(0.5), p99Us: at(0.99), minUs: at(0) };
}
