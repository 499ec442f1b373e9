/**
 * Worker of msix-dynamic.test.ts: writes one value to one BAR0 register again and again — an interrupt
 * source that runs while the test's thread reconfigures MSI-X, which a single JS thread cannot be.
 *
 * The library has no BAR handle another thread can use, so this worker maps BAR0 itself through the
 * VFIO device fd the test's VfioDevice holds (the only one open in this process: an anon inode
 * "[vfio-device]" on the type1 path, /dev/vfio/devices/vfioN on the cdev path), with the native addon's
 * own mmap — the access VfioRegion makes, one 32-bit store per write. Test plumbing, not an API.
 *
 * workerData: { register, value, intervalMs, control } — a write every `intervalMs` at least (the
 * worker sleeps in between, so the test's thread gets the CPU of a 1-vCPU guest); control is an
 * Int32Array over a SharedArrayBuffer: [RAISER_STOP] set by the test to stop, [RAISER_WRITES] the
 * writes done so far (counted after each). Posts { writes } when stopped (the mapping is gone by
 * then), or { error }.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

export const RAISER_STOP = 0;
export const RAISER_WRITES = 1;
const BAR0_REGION_INDEX = 0;

/** The few addon calls used here (lib/native/addon-types.ts has the full contract). */
interface RaiserAddon {
  vfioDeviceGetRegionInfo(fd: number, index: number): { offset: bigint; size: bigint };
  mmapRegion(fd: number, regionOffset: bigint, regionSize: bigint, offset: bigint, size: bigint): ArrayBuffer;
  munmapRegion(buffer: ArrayBuffer): void;
}

function loadAddon(): RaiserAddon {
  const require = createRequire(import.meta.url);
  const override = process.env['VFIO_DDK_ADDON'];
  const root = dirname(require.resolve('vfio-ddk/package.json'));
  return require(override !== undefined && override !== '' ? override : join(root, 'build', 'Release', 'vfio_ddk.node')) as RaiserAddon;
}

function vfioDeviceFd(): number {
  const fds = readdirSync('/proc/self/fd').map(Number).filter((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target === 'anon_inode:[vfio-device]' || /^\/dev\/vfio\/devices\/vfio\d+$/.test(target);
    } catch {
      return false; // the fd readdir itself used, already closed
    }
  });
  if (fds.length !== 1) throw new Error(`expected one open VFIO device fd, found ${fds.length}`);
  return fds[0] as number;
}

if (parentPort !== null) {
  const port = parentPort;
  const { register, value, intervalMs, control } = workerData as { register: number; value: number; intervalMs: number; control: Int32Array };
  const sleeper = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  try {
    const addon = loadAddon();
    const fd = vfioDeviceFd();
    const bar0 = addon.vfioDeviceGetRegionInfo(fd, BAR0_REGION_INDEX);
    const page = 4096n;
    const buffer = addon.mmapRegion(fd, bar0.offset, bar0.size, 0n, page);
    const words = new Uint32Array(buffer);
    const at = register >>> 2;
    while (Atomics.load(control, RAISER_STOP) === 0) {
      words[at] = value;
      Atomics.add(control, RAISER_WRITES, 1);
      Atomics.wait(sleeper, 0, 0, intervalMs); // a futex sleep: never shorter than asked
    }
    addon.munmapRegion(buffer);
    port.postMessage({ writes: Atomics.load(control, RAISER_WRITES) });
  } catch (error) {
    port.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
}
