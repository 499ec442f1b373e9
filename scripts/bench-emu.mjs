#!/usr/bin/env node
/**
 * Emulation benchmark: emulated register reads/s and emulated MSI deliveries/s, each next to a
 * baseline measured in the same run (DESIGN.md "Benchmarks report ratios … never a bare absolute time"):
 *   * register read  vs a bare method call returning a field (the floor of any JS accessor);
 *   * MSI delivery   (write RAISE → IrqLine → consumer → Promise resolves) vs a bare Promise resolved
 *     from setImmediate (the floor of any event-loop delivery, since IrqLine delivers on setImmediate).
 *
 * Run from the package directory after `npm run build:ts` (plain node resolves 'vfio-ddk/emu' to dist/):
 *   node scripts/bench-emu.mjs [--seconds 1]
 * Or against the sources: node --conditions=vfio-ddk-source --import <a TS loader> scripts/bench-emu.mjs
 */
import { createTestDevice, createEduDevice } from 'vfio-ddk/emu';
import { IrqLine, PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER, VFIO_PCI_MSI_IRQ_INDEX } from 'vfio-ddk';

const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 1;
const BUDGET_NS = BigInt(Math.round(SECONDS * 1e9));

/** Runs `batch` (which does `n` operations) until the time budget is spent; returns ops/s. */
function rateSync(batch, n) {
  for (let i = 0; i < 3; i++) batch(n); // warm-up / JIT
  let ops = 0;
  const start = process.hrtime.bigint();
  let now = start;
  while (now - start < BUDGET_NS) {
    batch(n);
    ops += n;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

async function rateAsync(once) {
  for (let i = 0; i < 1000; i++) await once();
  let ops = 0;
  const start = process.hrtime.bigint();
  let now = start;
  while (now - start < BUDGET_NS) {
    for (let i = 0; i < 256; i++) await once();
    ops += 256;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

// ---- register reads ----
class BareRegisters {
  constructor() { this.id = 0x010000ed; }
  read32(offset) { return offset === 0 ? this.id : 0xffffffff; }
}
const bare = new BareRegisters();
let sink = 0;
const bareRead = rateSync((n) => { for (let i = 0; i < n; i++) sink ^= bare.read32(i & 0); }, 100_000);

const edu = createEduDevice();
const eduBar = edu.bar(0);
const eduRead = rateSync((n) => { for (let i = 0; i < n; i++) sink ^= eduBar.read32(0); }, 100_000);
const configRead = rateSync((n) => { for (let i = 0; i < n; i++) sink ^= edu.config.read32(0); }, 100_000);

// ---- MSI deliveries ----
const bareDelivery = await rateAsync(() => new Promise((resolve) => setImmediate(resolve)));

const dev = createTestDevice({ msi: { vectors: 1 } });
dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
const line = new IrqLine('bench');
let waiter = null;
line.setConsumer({ fire: () => { const w = waiter; waiter = null; w?.(); } });
dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, line);
const testBar = dev.bar(0);
const msiDelivery = await rateAsync(() => new Promise((resolve) => { waiter = resolve; testBar.write32(0x04, 0); }));

edu.close();
dev.close();

const rows = [
  { what: 'bare method call (baseline)', perSecond: bareRead, ratio: 1 },
  { what: 'emulated edu BAR0 read32', perSecond: eduRead, ratio: eduRead / bareRead },
  { what: 'emulated config read32', perSecond: configRead, ratio: configRead / bareRead },
  { what: 'bare Promise via setImmediate (baseline)', perSecond: bareDelivery, ratio: 1 },
  { what: 'emulated MSI raise → IrqLine → Promise', perSecond: msiDelivery, ratio: msiDelivery / bareDelivery },
];
for (const row of rows) {
  console.log(`${row.what.padEnd(44)} ${Math.round(row.perSecond).toLocaleString('en-US').padStart(14)} /s   ×${row.ratio.toFixed(3)} of baseline`);
}
console.log(JSON.stringify({ node: process.version, seconds: SECONDS, rows, sink: sink & 1 }));
