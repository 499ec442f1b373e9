/**
 * The bus driver's legacy (INTx) interrupt handling, as src/devices/bus/drivers/pci/bus.cc does it:
 * one physical interrupt per platform vector (zx_interrupt_create on the IRQ resource), bound to the
 * bus's port with the vector as key; a worker waits on the port and, for each function in legacy mode
 * on that vector whose Status register has Interrupt Status set, triggers that function's *virtual*
 * interrupt (the one drivers get from MapInterrupt) and sets Interrupt Disable — LEGACY until the driver
 * calls AckInterrupt, LEGACY_NOACK only past kMaxIrqsPerNoAckPeriod fires in one kLegacyNoAckPeriod —
 * then acks the physical interrupt (Bus::LegacyIrqWorker). Interrupt Disable makes the function
 * deassert its pin (PCI 3.0 §6.2.2), so the re-armed level interrupt stays quiet until the driver is
 * done. The worker runs while any function uses legacy mode (StartIrqWorker / StopIrqWorker).
 */
import { ZX_INTERRUPT_BIND, ZX_PKT_TYPE_INTERRUPT, ZX_PKT_TYPE_USER, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE } from '../constants/options.ts';
import { ZX_OK } from '../constants/status.ts';
import { zx_handle_close } from '../syscalls/handle.ts';
import { zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create, zx_interrupt_destroy } from '../syscalls/interrupt.ts';
import { zx_port_create, zx_port_queue, zx_port_wait } from '../syscalls/port.ts';
import { PortPacketBuffer } from '../objects/port-packet-buffer.ts';

/** A function on a shared vector: the bus device's legacy service routine. */
export interface LegacyIrqClient {
  /** Checks Interrupt Status and, if set, signals the driver's interrupt (bus.cc's per-device body). */
  serviceLegacyIrq(timestamp: bigint): void;
}

interface SharedVector {
  readonly interrupt: number;
  readonly list: Set<LegacyIrqClient>;
}

const sharedIrqs = new Map<number, SharedVector>();
let workerPort = 0;

async function legacyIrqWorker(port: number): Promise<void> {
  const packet = new PortPacketBuffer(); // bus.cc's zx_port_packet_t on the worker's stack
  for (;;) {
    const status = await zx_port_wait(port, ZX_TIME_INFINITE, packet.out);
    if (status !== ZX_OK || packet.status !== ZX_OK || packet.type === ZX_PKT_TYPE_USER) break;
    if (packet.type !== ZX_PKT_TYPE_INTERRUPT) continue;
    const shared = sharedIrqs.get(Number(packet.key));
    if (shared === undefined) continue; // vector removed while its packet was queued
    const timestamp = packet.interrupt?.timestamp ?? 0n;
    for (const client of shared.list) client.serviceLegacyIrq(timestamp);
    // Re-arm the vector now that every function on it was checked.
    zx_interrupt_ack(shared.interrupt);
  }
  zx_handle_close(port);
}

function startIrqWorker(): number {
  const port = { value: 0 };
  const status = zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port);
  if (status !== ZX_OK) return status;
  workerPort = port.value;
  void legacyIrqWorker(workerPort);
  return ZX_OK;
}

function stopIrqWorker(): void {
  zx_port_queue(workerPort, { key: 0n, type: ZX_PKT_TYPE_USER, status: ZX_OK, user: { u64: [0n, 0n, 0n, 0n] } });
  workerPort = 0;
}

/**
 * Bus::AddToSharedIrqList: the first function on `vector` creates and binds its physical interrupt.
 * Returns what zx_interrupt_create returns (ALREADY_BOUND when someone else owns the vector).
 */
export function addToSharedIrqList(client: LegacyIrqClient, root: number, vector: number): number {
  let shared = sharedIrqs.get(vector);
  if (shared === undefined) {
    if (workerPort === 0) {
      const started = startIrqWorker();
      if (started !== ZX_OK) return started;
    }
    const interrupt = { value: 0 };
    let status = zx_interrupt_create(root, vector, 0, interrupt);
    if (status === ZX_OK) {
      status = zx_interrupt_bind(interrupt.value, workerPort, BigInt(vector), ZX_INTERRUPT_BIND);
      if (status !== ZX_OK) zx_handle_close(interrupt.value);
    }
    if (status !== ZX_OK) {
      if (sharedIrqs.size === 0) stopIrqWorker();
      return status;
    }
    shared = { interrupt: interrupt.value, list: new Set() };
    sharedIrqs.set(vector, shared);
  }
  shared.list.add(client);
  return ZX_OK;
}

/** Bus::RemoveFromSharedIrqList: the last function off a vector frees its physical interrupt. */
export function removeFromSharedIrqList(client: LegacyIrqClient, vector: number): void {
  const shared = sharedIrqs.get(vector);
  if (shared === undefined || !shared.list.delete(client)) return;
  if (shared.list.size > 0) return;
  zx_interrupt_destroy(shared.interrupt);
  zx_handle_close(shared.interrupt);
  sharedIrqs.delete(vector);
  if (sharedIrqs.size === 0) stopIrqWorker();
}
