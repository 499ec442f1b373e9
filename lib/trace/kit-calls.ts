/**
 * Recording one call of a kit's C function (lib/pci/trace-hook.ts hands them here while tracing): a
 * slice on the kit's track named after the function, with the call as C would print it — arguments
 * after the call, so an out-pointer shows what the function wrote (`&0x3f2b`) — and the status by its
 * C name (zx_status_get_string; sys/sunddi.h DDI_* return codes). A call that returns a Promise (the
 * blocking calls: zx_interrupt_wait, zx_port_wait …) is an async pair ("b" at the call, "e" when it
 * settles) so overlapping waits do not overlap on one track. A call that throws (a TypeError for an
 * argument C would not compile) is recorded with the error and rethrown.
 */
import type { KitFunction } from '../pci/trace-hook.ts';
import { zx_status_get_string } from '../zircon/constants/status.ts';
import { ddiStatusName } from '../ddi/status-names.ts';
import { CAT, KITS_PID, roundUs, type TraceEvent } from './format.ts';

export interface KitCallRecorder {
  now(): number;
  nextSeq(): number;
  nextAsyncId(): number;
  emit(event: TraceEvent): void;
  kitTrack(kit: string): number;
}

const CALL_TEXT_MAX = 240;

/** DDI functions whose return value is a status (the others return a register value, a count, a time …). */
const DDI_STATUS_CALLS = /^(ddi_intr_(?!get_hilevel_pri)|ddi_regs_map|ddi_dev_n?regs|ddi_dev_regsize|ddi_check_acc_handle|pci_config_(setup|teardown)|ddi_dma_(alloc|free|mem|unbind|sync|getwin|numwin))/;

/** The C name of what `name` returned, when it returns a status; null otherwise. */
export function statusName(kit: string, name: string, value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value)) return null;
  if (kit === 'zircon') return value <= 0 && name.startsWith('zx_') ? zx_status_get_string(value) : null;
  if (kit !== 'ddi') return null;
  return DDI_STATUS_CALLS.test(name) || /^ddi_dma_(addr|buf)_bind_handle$/.test(name) ? ddiStatusName(name, value) : null;
}

function hexIfLarge(value: number | bigint): string {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  const text = big > 0xffffn || big < -0xffffn ? `${big < 0n ? '-' : ''}0x${(big < 0n ? -big : big).toString(16)}` : big.toString();
  return typeof value === 'bigint' ? `${text}n` : text;
}

/** One argument as a C programmer would read it in a log line. */
export function describeValue(value: unknown, depth = 0): string {
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'undefined': return 'undefined';
    case 'number': return Number.isInteger(value) ? hexIfLarge(value) : String(value);
    case 'bigint': return hexIfLarge(value);
    case 'string': return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'boolean': return String(value);
    case 'function': return value.name === '' ? 'function' : value.name;
    case 'symbol': return value.toString();
    default: break;
  }
  const object = value as Record<string, unknown>;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) {
    return depth > 1 ? '[…]' : `[${value.slice(0, 4).map((v) => describeValue(v, depth + 1)).join(', ')}${value.length > 4 ? ', …' : ''}]`;
  }
  if (typeof object['bdf'] === 'string') return `device ${object['bdf']}`;
  const keys = Object.keys(object);
  // An out-pointer ({ value }) prints as what it points to.
  if (keys.length === 1 && keys[0] === 'value') return `&${describeValue(object['value'], depth + 1)}`;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  if (proto !== null && proto !== Object.prototype) return `<${proto.constructor?.name ?? 'object'}>`;
  if (depth > 1) return '{…}';
  return `{ ${keys.slice(0, 4).map((k) => `${k}: ${describeValue(object[k], depth + 1)}`).join(', ')}${keys.length > 4 ? ', …' : ''} }`;
}

function callText(name: string, args: IArguments): string {
  const parts: string[] = [];
  for (let i = 0; i < args.length; i++) parts.push(describeValue(args[i]));
  const text = `${name}(${parts.join(', ')})`;
  return text.length > CALL_TEXT_MAX ? `${text.slice(0, CALL_TEXT_MAX - 1)}…` : text;
}

function outcome(kit: string, name: string, value: unknown): Record<string, unknown> {
  const status = statusName(kit, name, value);
  return status === null ? { ret: describeValue(value) } : { ret: describeValue(value), status };
}

/** Runs `fn` with `args`, records the call on `kit`'s track and returns what `fn` returned. */
export function recordKitCall(r: KitCallRecorder, kit: string, name: string, fn: KitFunction, self: unknown, args: IArguments): unknown {
  const tid = r.kitTrack(kit);
  const seq = r.nextSeq();
  const ts = r.now();
  let result: unknown;
  try {
    result = fn.apply(self, args as unknown as unknown[]);
  } catch (err) {
    r.emit({ name, ph: 'X', cat: CAT.kit, pid: KITS_PID, tid, ts, dur: roundUs(r.now() - ts), args: { seq, call: callText(name, args), threw: err instanceof Error ? `${err.name}: ${err.message}` : String(err) } });
    throw err;
  }
  if (result instanceof Promise) {
    const id = r.nextAsyncId();
    r.emit({ name, ph: 'b', cat: CAT.kit, pid: KITS_PID, tid, ts, id, args: { seq, call: callText(name, args) } });
    const settled = (extra: Record<string, unknown>): void => {
      r.emit({ name, ph: 'e', cat: CAT.kit, pid: KITS_PID, tid, ts: r.now(), id, args: { call: callText(name, args), ...extra } });
    };
    // Observes the caller's Promise without changing it (both handlers: no unhandled rejection of ours).
    result.then((value: unknown) => settled(outcome(kit, name, value)), (err: unknown) => settled({ threw: String(err) }));
    return result;
  }
  r.emit({ name, ph: 'X', cat: CAT.kit, pid: KITS_PID, tid, ts, dur: roundUs(r.now() - ts), args: { seq, call: callText(name, args), ...outcome(kit, name, result) } });
  return result;
}
