#!/usr/bin/env node
/**
 * npm run soak — the leak soak (a report, not a timed test): create/close cycles, then fds
 * (/proc/self/fd), VFIO mappings (/proc/self/maps), locked memory, JS heap and RSS compared with before.
 *
 *   node scripts/soak.mjs                         host: 10⁵ eventfd+watcher cycles, 10⁵ Zircon handle
 *                                                 cycles (virtual interrupt, port, bound), 10⁴ emulated
 *                                                 device cycles with MSI, a Zircon MSI object and DMA
 *   node scripts/soak.mjs --device BDF [--cycles N]   VfioDevice cycles on a real device (in the guest:
 *                                                 node scripts/guest/run.mjs --devices edu -- node scripts/soak.mjs --device '$VFIO_DDK_EDU_BDF')
 *   --seconds S   stop each phase after S seconds (default 120) and report the cycles done
 *
 * Uses dist/ (npm run build:ts). Exit 1 when fds, VFIO mappings or locked (DMA) memory grew, or the JS heap
 * (after a GC) by more than 2 MiB. RSS is printed for information: V8 and the allocator keep freed pages.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(root, 'dist/index.js'))) {
  console.error('soak: dist/ is missing — run `npm run build:ts` first');
  process.exit(2);
}
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : args[at + 1];
};
const seconds = Number(opt('seconds', '120'));
const bdf = opt('device', null);
/** JS heap growth tolerated after a GC (V8 keeps some garbage and caches across cycles). */
const HEAP_SLACK_KB = 2 * 1024;

const fds = () => readdirSync('/proc/self/fd').length;
/** Mappings of VFIO regions (BARs mmapped from the device fd): the JS heap's own mappings come and go. */
const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /vfio-device|\/dev\/vfio/.test(l)).length;
const status = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
/** Locked memory (kB): every DMA buffer is mlocked, so a leaked one shows here. */
const lockedKb = () => status('VmLck');
const rssKb = () => status('VmRSS');
const heapKb = () => Math.round(process.memoryUsage().heapUsed / 1024);
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setImmediate(r));
  }
};

let failed = false;
async function phase(name, cycles, once) {
  await settle();
  const before = { fds: fds(), maps: maps(), locked: lockedKb(), rss: rssKb(), heap: heapKb() };
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  for (; done < cycles && Date.now() < deadline; done++) {
    await once(done);
    if (done % 1000 === 999) await new Promise((r) => setImmediate(r)); // let watchers' close callbacks run
  }
  await settle();
  const after = { fds: fds(), maps: maps(), locked: lockedKb(), rss: rssKb(), heap: heapKb() };
  const grew = after.fds > before.fds || after.maps > before.maps || after.locked > before.locked || after.heap - before.heap > HEAP_SLACK_KB;
  failed ||= grew;
  const d = (a, b) => `${a} → ${b}`;
  console.log(`${grew ? 'LEAK' : 'ok  '} ${name}: ${done}/${cycles} cycles; fds ${d(before.fds, after.fds)}, VFIO mappings ${d(before.maps, after.maps)}, `
    + `locked ${d(before.locked, after.locked)} kB, JS heap ${d(before.heap, after.heap)} kB, RSS ${d(before.rss, after.rss)} kB`);
}

const z = await import(join(root, 'dist/zircon/index.js'));
if (bdf === null) {
  const { tryLoadNative, Eventfd } = await import(join(root, 'dist/native/index.js'));
  const { createTestDevice, TEST_DEV_REGS } = await import(join(root, 'dist/emu/index.js'));
  const addon = tryLoadNative();
  if (addon !== null) {
    await phase('eventfd + watcher create/close', 100_000, () => {
      const e = new Eventfd(addon);
      e.watch(() => {});
      e.close();
    });
  } else console.log('skip eventfd + watcher: native addon not built (npm run build:native)');
  await phase('Zircon handles: virtual interrupt + port, bound, closed', 100_000, () => {
    const irq = { value: 0 };
    const port = { value: 0 };
    z.zx_interrupt_create(0, 0, z.ZX_INTERRUPT_VIRTUAL, irq);
    z.zx_port_create(z.ZX_PORT_BIND_TO_INTERRUPT, port);
    z.zx_interrupt_bind(irq.value, port.value, 1n, z.ZX_INTERRUPT_BIND);
    z.zx_interrupt_trigger(irq.value, 0, 1n);
    z.zx_handle_close(irq.value);
    z.zx_handle_close(port.value);
  });
  await phase('emulated device: open, MSI object + bus-driver programming, DMA buffer, raise, close', 10_000, async () => {
    const device = createTestDevice({ msi: { vectors: 1 } });
    device.config.write16(0x04, device.config.read16(0x04) | 0x4); // PCI_COMMAND |= PCI_COMMAND_MASTER
    await msiRound(device, () => device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0));
    device.dma.alloc(4096).free();
    device.close();
  });
} else {
  const { openVfioDevice } = await import(join(root, 'dist/vfio/index.js'));
  const cycles = Number(opt('cycles', '10000'));
  await phase(`VfioDevice ${bdf}: open, Zircon MSI + wait, DMA 4 KiB, close`, cycles, async () => {
    const device = openVfioDevice(bdf);
    await msiRound(device, () => device.bar(0).write32(0x60, 1)); // edu IRQ_RAISE (spec/edu.md D.3)
    if (device.bar(0).read32(0x24) !== 0) device.bar(0).write32(0x64, device.bar(0).read32(0x24));
    device.dma.alloc(4096).free();
    device.close();
  });
}

/** A Zircon MSI object on the device's capability, the bus driver's programming, one raise → wait. */
async function msiRound(device, raise) {
  const cap = (await import(join(root, 'dist/pci/index.js'))).findMsi(device.config);
  const platform = z.zx_platform_attach(device);
  const vmo = { value: 0 };
  const msi = { value: 0 };
  const irq = { value: 0 };
  z.zx_vmo_create_physical(z.get_root_resource(), platform.ecam, 4096n, vmo);
  z.zx_vmo_set_cache_policy(vmo.value, z.ZX_CACHE_POLICY_UNCACHED_DEVICE);
  z.zx_msi_allocate(z.get_root_resource(), 1, msi);
  z.zx_msi_create(msi.value, 0, 0, vmo.value, cap.offset, irq);
  const info = { value: {} };
  z.zx_object_get_info(msi.value, z.ZX_INFO_MSI, info);
  z.programMsiCapability(device, info.value, 1);
  const waiting = z.zx_interrupt_wait(irq.value, null);
  raise();
  const status = await waiting;
  if (status !== z.ZX_OK) throw new Error(`zx_interrupt_wait returned ${status}`);
  for (const h of [irq.value, msi.value, vmo.value]) z.zx_handle_close(h);
  z.disableMsiCapability(device);
}

console.log(failed ? 'soak: something grew (see LEAK lines)' : 'soak: nothing grew');
process.exit(failed ? 1 : 0);
