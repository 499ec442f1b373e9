/** zx_port_create / zx_port_queue / zx_port_wait (spec/zircon.md A.6, A.7). */
import { describe, i64, out, u32, u64 } from '../args.ts';
import { ZX_OBJ_TYPE_PORT } from '../constants/object-types.ts';
import { ZX_PKT_TYPE_USER, ZX_PORT_BIND_TO_INTERRUPT } from '../constants/options.ts';
import { ZX_DEFAULT_PORT_RIGHTS, ZX_RIGHT_READ, ZX_RIGHT_WRITE } from '../constants/rights.ts';
import { ZX_ERR_INVALID_ARGS, ZX_OK } from '../constants/status.ts';
import { addHandle, lookup } from '../kernel/handle-table.ts';
import { PortObject } from '../objects/port.ts';
import type { Out, zx_port_packet_t } from '../types.ts';

/** The packet was dequeued, but there is nowhere to copy it. */
function failCopyOut(status: number): number {
  return status === ZX_OK ? ZX_ERR_INVALID_ARGS : status;
}

export function zx_port_create(options: number, outHandle: Out<number> | null): number {
  const opts = u32('options', options);
  const o = out<number>('out', outHandle);
  if (opts !== 0 && opts !== ZX_PORT_BIND_TO_INTERRUPT) return ZX_ERR_INVALID_ARGS;
  if (o === null) return ZX_ERR_INVALID_ARGS;
  o.value = addHandle(new PortObject(opts === ZX_PORT_BIND_TO_INTERRUPT), ZX_DEFAULT_PORT_RIGHTS);
  return ZX_OK;
}

/**
 * Queues a user packet; the port keeps a copy: key, status and user.u64[0..3] (missing words are 0),
 * with its type overwritten to ZX_PKT_TYPE_USER whatever the caller put there (port_dispatcher.cc
 * QueueUser). Needs WRITE. SHOULD_WAIT when the queue is full.
 */
export function zx_port_queue(port: number, packet: zx_port_packet_t | null): number {
  const p = u32('port', port);
  if (packet !== null && typeof packet !== 'object') throw new TypeError(`packet must be a zx_port_packet_t or null, got ${describe(packet)}`);
  const entry = lookup(p, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE);
  if (typeof entry === 'number') return entry;
  if (packet === null) return ZX_ERR_INVALID_ARGS;
  const key = u64('packet.key', packet.key);
  u32('packet.type', packet.type); // any value: QueueUser overwrites it
  const status = packet.status === undefined ? 0 : u32('packet.status', packet.status) | 0;
  const words = packet.user?.u64 ?? [];
  if (!Array.isArray(words) || words.length > 4) throw new TypeError('packet.user.u64 must be an array of at most 4 bigints');
  const u64s = [0n, 0n, 0n, 0n];
  for (let i = 0; i < words.length; i++) u64s[i] = u64(`packet.user.u64[${i}]`, words[i]);
  return (entry.object as PortObject).queuePacket({ key, type: ZX_PKT_TYPE_USER, status, user: { u64: u64s } });
}

/**
 * Dequeues one packet (interrupt packets first). ZX_TIME_INFINITE waits forever; a deadline at or
 * before now polls (TIMED_OUT when empty). Needs READ. A NULL packet pointer is found only at the copy
 * out, as in sys_port_wait (syscalls/port.cc): the wait happens first — TIMED_OUT when it times out —
 * and a dequeued packet is consumed before the call returns INVALID_ARGS.
 */
export function zx_port_wait(port: number, deadline: bigint, packet: Out<zx_port_packet_t> | null): Promise<number> {
  const p = u32('port', port);
  const d = i64('deadline', deadline);
  const o = out<zx_port_packet_t>('packet', packet);
  const entry = lookup(p, ZX_OBJ_TYPE_PORT, ZX_RIGHT_READ);
  if (typeof entry === 'number') return Promise.resolve(entry);
  if (o !== null) return (entry.object as PortObject).wait(d, o);
  const discarded: Out<zx_port_packet_t> = { value: { key: 0n, type: 0, status: 0 } };
  return (entry.object as PortObject).wait(d, discarded).then(failCopyOut);
}
