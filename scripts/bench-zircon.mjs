#!/usr/bin/env node
// Interrupt round trips through the Zircon kit, next to a bare Promise ping-pong measured in the same
// run (benchmarks report ratios, never bare absolute times: DESIGN.md "Tests").
//
//   npx tsc -p tsconfig.build.json && node scripts/bench-zircon.mjs [iterations]
//
// * baseline: create a Promise, resolve it, await it — the least any wait → wake round trip costs.
// * zx_interrupt_trigger → zx_interrupt_wait on a virtual interrupt (wait mode).
// * zx_interrupt_trigger → zx_port_wait on a bound virtual interrupt, then zx_interrupt_ack (port mode).
import {
  ZX_INTERRUPT_BIND, ZX_INTERRUPT_VIRTUAL, ZX_OK, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE,
  zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create, zx_interrupt_trigger, zx_interrupt_wait,
  zx_port_create, zx_port_wait,
} from 'vfio-ddk/zircon';

const iterations = Number(process.argv[2] ?? 200_000);
if (!Number.isInteger(iterations) || iterations < 1) {
  console.error('usage: node scripts/bench-zircon.mjs [iterations ≥ 1]');
  process.exit(2);
}

function check(status, what) {
  if (status !== ZX_OK) throw new Error(`${what} failed: ${status}`);
}

async function promisePingPong(n) {
  let resolve = null;
  const executor = (r) => { resolve = r; };
  for (let i = 0; i < n; i++) {
    const p = new Promise(executor);
    resolve(0);
    await p;
  }
}

async function interruptWait(n) {
  const irq = { value: 0 };
  check(zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL, irq), 'zx_interrupt_create');
  const ts = { value: 0n };
  for (let i = 0; i < n; i++) {
    const waiting = zx_interrupt_wait(irq.value, ts);
    zx_interrupt_trigger(irq.value, 0, 1n);
    if ((await waiting) !== ZX_OK) throw new Error('zx_interrupt_wait failed');
  }
  zx_handle_close(irq.value);
}

async function portWait(n) {
  const irq = { value: 0 };
  const port = { value: 0 };
  check(zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL, irq), 'zx_interrupt_create');
  check(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), 'zx_port_create');
  check(zx_interrupt_bind(irq.value, port.value, 1n, ZX_INTERRUPT_BIND), 'zx_interrupt_bind');
  const packet = { value: null };
  for (let i = 0; i < n; i++) {
    const waiting = zx_port_wait(port.value, ZX_TIME_INFINITE, packet);
    zx_interrupt_trigger(irq.value, 0, 1n);
    if ((await waiting) !== ZX_OK) throw new Error('zx_port_wait failed');
    zx_interrupt_ack(irq.value);
  }
  zx_handle_close(irq.value);
  zx_handle_close(port.value);
}

async function rate(fn) {
  await fn(Math.min(10_000, iterations)); // warm up (JIT)
  const start = process.hrtime.bigint();
  await fn(iterations);
  const ns = Number(process.hrtime.bigint() - start);
  return iterations / (ns / 1e9);
}

// Interleave the runs so machine noise hits all of them alike; keep the best of three each.
const best = { baseline: 0, wait: 0, port: 0 };
for (let round = 0; round < 3; round++) {
  best.baseline = Math.max(best.baseline, await rate(promisePingPong));
  best.wait = Math.max(best.wait, await rate(interruptWait));
  best.port = Math.max(best.port, await rate(portWait));
}
const fmt = (r) => `${Math.round(r).toLocaleString('en-US')} round trips/s`;
console.log(`iterations per run: ${iterations}`);
console.log(`bare Promise ping-pong:                 ${fmt(best.baseline)}  (ratio 1.00)`);
console.log(`trigger → zx_interrupt_wait:            ${fmt(best.wait)}  (ratio ${(best.wait / best.baseline).toFixed(2)} of baseline)`);
console.log(`trigger → zx_port_wait (+ ack):         ${fmt(best.port)}  (ratio ${(best.port / best.baseline).toFixed(2)} of baseline)`);
