/**
 * The host benchmarks (no device, no guest): each row next to a baseline measured in the same run
 * (DESIGN.md "Benchmarks report ratios … never a bare absolute time"). Imports the package by its
 * specifiers, so plain node measures dist/ and tap (custom condition vfio-ddk-source) the sources.
 *
 *   zx_interrupt_wait_virtual   trigger → zx_interrupt_wait            vs promise_pingpong
 *   zx_port_wait_virtual        trigger → zx_port_wait + zx_interrupt_ack vs promise_pingpong
 *   zx_port_wait_into_buffer    blocking zx_port_wait into a PortPacketBuffer vs a new packet (host-port-packet.mjs)
 *   emu_msi_delivery            test-device RAISE_MSI → IrqLine → Promise  vs setimmediate_promise
 *   emu_bar_read32 / emu_config_read32   per read (batches of 64)     vs bare_method_read32
 *   ddi_intr_setup_per_vector_N  (alloc + add_handler + enable) / N, N = 256…2048 vs the N = 256 row
 *   zx_handle_dup_close / zx_get_info_basic at 10^5 live handles (batches of 64) vs a 10^5-entry Map
 *
 * Subject and baseline are measured interleaved (iteration by iteration, batch by batch, round by
 * round), so a loaded machine slows both alike. Folds in the former scripts/bench-emu.mjs, bench-ddi.mjs and bench-zircon.mjs.
 */
import {
  ZX_INFO_HANDLE_BASIC, ZX_INTERRUPT_BIND, ZX_INTERRUPT_VIRTUAL, ZX_OK, ZX_PORT_BIND_TO_INTERRUPT, ZX_RIGHT_SAME_RIGHTS,
  ZX_TIME_INFINITE, zx_handle_close, zx_handle_duplicate, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create,
  zx_interrupt_trigger, zx_interrupt_wait, zx_object_get_info, zx_port_create, zx_port_wait, zx_vmo_create, PortPacketBuffer,
} from 'vfio-ddk/zircon';
import {
  ddi_dev_info, ddi_intr_alloc, ddi_intr_add_handler, ddi_intr_enable, ddi_intr_disable, ddi_intr_remove_handler,
  ddi_intr_free, DDI_INTR_TYPE_MSIX, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_SUCCESS,
} from 'vfio-ddk/ddi';
import { createEduDevice, createTestDevice, TEST_DEV_REGS } from 'vfio-ddk/emu';
import { IrqLine, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, VFIO_PCI_MSI_IRQ_INDEX } from 'vfio-ddk';
import { measureAsyncInterleaved, measureBatchedInterleaved, timerCostNs } from './measure.mjs';
import { evaluateTargets, makeRow } from './report.mjs';
import { portPacketRows } from './host-port-packet.mjs';

export const DDI_SIZES = [256, 512, 1024, 2048];
export const LIVE_HANDLES = 100_000;

function check(status, what) {
  if (status !== ZX_OK && status !== DDI_SUCCESS) throw new Error(`${what} failed with status ${status}`);
}

function outOf(initial) {
  return { value: initial };
}

// ---- wait → wake round trips ----

function promisePingPong() {
  let resolve = null;
  const executor = (r) => { resolve = r; };
  return () => {
    const p = new Promise(executor);
    resolve(0);
    return p;
  };
}

async function virtualWaitRows(opts) {
  const irq = outOf(0);
  check(zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL, irq), 'zx_interrupt_create');
  const ts = outOf(0n);
  const irq2 = outOf(0);
  const port = outOf(0);
  check(zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL, irq2), 'zx_interrupt_create');
  check(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), 'zx_port_create');
  check(zx_interrupt_bind(irq2.value, port.value, 1n, ZX_INTERRUPT_BIND), 'zx_interrupt_bind');
  const packet = new PortPacketBuffer().out; // a driver's packet storage, filled in place
  try {
    const [baseline, wait, portWait] = await measureAsyncInterleaved([
      { once: promisePingPong() },
      {
        once: () => {
          const waiting = zx_interrupt_wait(irq.value, ts);
          zx_interrupt_trigger(irq.value, 0, 1n);
          return waiting;
        },
        after: (status) => check(status, 'zx_interrupt_wait'),
      },
      {
        once: () => {
          const waiting = zx_port_wait(port.value, ZX_TIME_INFINITE, packet);
          zx_interrupt_trigger(irq2.value, 0, 1n);
          return waiting;
        },
        after: (status) => { check(status, 'zx_port_wait'); zx_interrupt_ack(irq2.value); },
      },
    ], opts.step('promise_pingpong / zx_interrupt_wait_virtual / zx_port_wait_virtual'));
    return [
      makeRow({ name: 'zx_interrupt_wait_virtual', subject: wait, baseline, baselineName: 'promise_pingpong' }),
      makeRow({ name: 'zx_port_wait_virtual', subject: portWait, baseline, baselineName: 'promise_pingpong' }),
    ];
  } finally {
    zx_handle_close(irq.value);
    zx_handle_close(irq2.value);
    zx_handle_close(port.value);
  }
}

// ---- emulated MSI delivery and register reads ----

async function emulationRows(opts) {
  const dev = createTestDevice({ msi: { vectors: 1 } });
  const edu = createEduDevice();
  try {
    dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const line = new IrqLine('bench');
    let waiter = null;
    line.setConsumer({ fire: () => { const w = waiter; waiter = null; w?.(); } });
    dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, line);
    const bar = dev.bar(0);
    const raise = (resolve) => { waiter = resolve; bar.write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 0); };
    const later = (resolve) => setImmediate(resolve);
    const [baseline, delivery] = await measureAsyncInterleaved([
      { once: () => new Promise(later) },
      { once: () => new Promise(raise) },
    ], opts.step('setimmediate_promise / emu_msi_delivery'));
    await opts.checkpoint();

    // Register reads: per read over batches of 64, against the floor of any JS accessor.
    let sink = 0;
    const bare = { id: 0x010000ed, read32(offset) { return offset === 0 ? this.id : 0xffffffff; } };
    const eduBar = edu.bar(0);
    const [bareRead, barRead, configRead] = measureBatchedInterleaved([
      (k) => { for (let i = 0; i < k; i++) sink ^= bare.read32(i & 0); },
      (k) => { for (let i = 0; i < k; i++) sink ^= eduBar.read32(0); },
      (k) => { for (let i = 0; i < k; i++) sink ^= edu.config.read32(0); },
    ], opts.step('bare_method_read32 / emu_bar_read32 / emu_config_read32'));
    if (sink === 0.5) console.log(sink); // keep the reads observable
    return [
      makeRow({ name: 'emu_msi_delivery', subject: delivery, baseline, baselineName: 'setimmediate_promise' }),
      makeRow({ name: 'emu_bar_read32', subject: barRead, baseline: bareRead, baselineName: 'bare_method_read32' }),
      makeRow({ name: 'emu_config_read32', subject: configRead, baseline: bareRead, baselineName: 'bare_method_read32' }),
    ];
  } finally {
    dev.close();
    edu.close();
  }
}

// ---- ddi_intr setup scaling ----

const claim = () => DDI_INTR_CLAIMED;

/** ns per vector of alloc + add_handler + enable for `n` MSI-X vectors (teardown not timed). */
function ddiRound(n) {
  const device = createTestDevice({ msix: { vectors: DDI_SIZES[DDI_SIZES.length - 1] } });
  try {
    const handles = [];
    const t0 = performance.now();
    check(ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSIX, 0, n, outOf(0), DDI_INTR_ALLOC_STRICT), 'ddi_intr_alloc');
    for (let i = 0; i < n; i++) check(ddi_intr_add_handler(handles[i], claim, i, null), 'ddi_intr_add_handler');
    for (let i = 0; i < n; i++) check(ddi_intr_enable(handles[i]), 'ddi_intr_enable');
    const t1 = performance.now();
    for (let i = 0; i < n; i++) {
      check(ddi_intr_disable(handles[i]), 'ddi_intr_disable');
      check(ddi_intr_remove_handler(handles[i]), 'ddi_intr_remove_handler');
      check(ddi_intr_free(handles[i]), 'ddi_intr_free');
    }
    return ((t1 - t0) * 1e6) / n;
  } finally {
    device.close();
  }
}

async function ddiRows(opts) {
  const rounds = opts.ddiRounds;
  for (let i = 0; i < 2; i++) ddiRound(DDI_SIZES[DDI_SIZES.length - 1]); // JIT warm-up at the largest size
  // Round-robin over the sizes, so load and GC fall on every size alike.
  const perSize = DDI_SIZES.map(() => new Float64Array(rounds));
  for (let r = 0; r < rounds; r++) {
    await opts.checkpoint(); // between rounds, outside the timed region
    DDI_SIZES.forEach((n, i) => { perSize[i][r] = ddiRound(n); });
    if ((r + 1) % Math.max(1, Math.ceil(rounds / 5)) === 0) opts.log(`ddi_intr_setup_per_vector_{${DDI_SIZES.join(',')}} round ${r + 1}/${rounds}`);
  }
  const base = perSize[0];
  return DDI_SIZES.map((n, i) => makeRow({
    name: `ddi_intr_setup_per_vector_${n}`, subject: perSize[i], baseline: base, baselineName: `ddi_intr_setup_per_vector_${DDI_SIZES[0]}`,
  }));
}

// ---- handle table at 10^5 live handles ----

async function handleRows(opts) {
  const live = opts.liveHandles;
  opts.log(`creating ${live} live handles`);
  const vmo = outOf(0);
  check(zx_vmo_create(4096n, 0, vmo), 'zx_vmo_create');
  const handles = new Uint32Array(live);
  const dup = outOf(0);
  for (let i = 0; i < live; i++) {
    check(zx_handle_duplicate(vmo.value, ZX_RIGHT_SAME_RIGHTS, dup), 'zx_handle_duplicate');
    handles[i] = dup.value;
  }
  const map = new Map();
  for (let i = 0; i < live; i++) map.set(handles[i], { koid: i, rights: 0 });
  try {
    let cursor = 0;
    const next = () => { cursor = (cursor * 1103515245 + 12345) >>> 0; return handles[cursor % live]; };
    let sink = 0;
    // Fresh keys each time, as the handle table's counter gives: re-inserting one recently deleted key
    // walks V8's bucket chain of deleted entries (µs per op at 10^5 entries), which no table does.
    let key = 0x1000_0000;
    const [mapChurn, dupClose] = measureBatchedInterleaved([
      (k) => { for (let i = 0; i < k; i++) { key = (key + 4) & 0x3fff_ffff; map.set(key, dup); map.delete(key); } },
      (k) => {
        for (let i = 0; i < k; i++) {
          zx_handle_duplicate(vmo.value, ZX_RIGHT_SAME_RIGHTS, dup);
          zx_handle_close(dup.value);
        }
      },
    ], opts.step('map_set_delete / zx_handle_dup_close'));
    await opts.checkpoint();
    const info = outOf({});
    const [mapGet, getInfo] = measureBatchedInterleaved([
      (k) => { for (let i = 0; i < k; i++) sink += map.get(next()).koid; },
      (k) => { for (let i = 0; i < k; i++) sink += zx_object_get_info(next(), ZX_INFO_HANDLE_BASIC, info); },
    ], opts.step('map_get / zx_get_info_basic'));
    if (sink === 0.5) console.log(sink);
    return [
      makeRow({ name: 'zx_handle_dup_close', subject: dupClose, baseline: mapChurn, baselineName: 'map_set_delete', extra: { live_handles: live } }),
      makeRow({ name: 'zx_get_info_basic', subject: getInfo, baseline: mapGet, baselineName: 'map_get', extra: { live_handles: live } }),
    ];
  } finally {
    for (let i = 0; i < live; i++) zx_handle_close(handles[i]);
    zx_handle_close(vmo.value);
  }
}

/**
 * Runs every host row. `log(line)` gets progress lines. Returns { rows, targets, meta-ish fields }.
 * `signal` (Ctrl-C in `vfio-ddk bench`): checked at every progress step and between measurements,
 * each preceded by a turn of the event loop so a SIGINT handler gets to run; an abort rejects with
 * the signal's reason once the current measurement's cleanup (handle close, device close) has run.
 * @param {{ iterations?: number, log?: (line: string) => void, liveHandles?: number, ddiRounds?: number, signal?: AbortSignal }} o
 */
export async function runHostSuite(o = {}) {
  const iterations = o.iterations ?? 10_000;
  if (!Number.isInteger(iterations) || iterations < 10) throw new RangeError(`iterations must be an integer ≥ 10, got ${iterations}`);
  const log = o.log ?? (() => {});
  const signal = o.signal;
  const warmup = Math.min(1000, iterations);
  const opts = {
    log,
    liveHandles: o.liveHandles ?? LIVE_HANDLES,
    ddiRounds: o.ddiRounds ?? Math.min(100, Math.max(5, Math.round(iterations / 200))),
    gcRounds: 20 * iterations,
    checkpoint: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
    },
    step: (name) => ({
      iterations,
      warmup,
      signal,
      progress: (done, total) => {
        signal?.throwIfAborted();
        log(`${name} ${Math.round((100 * done) / total)} % (${done}/${total})`);
      },
    }),
  };
  const started = Date.now();
  const rows = [];
  for (const group of [virtualWaitRows, portPacketRows, emulationRows, ddiRows, handleRows]) {
    await opts.checkpoint();
    rows.push(...(await group(opts)));
  }
  return {
    suite: 'host',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    iterations,
    ddi_rounds: opts.ddiRounds,
    live_handles: opts.liveHandles,
    timer_ns: timerCostNs(),
    seconds: (Date.now() - started) / 1000,
    rows,
    targets: evaluateTargets(rows),
  };
}
