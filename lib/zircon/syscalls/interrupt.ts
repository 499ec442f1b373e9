/**
 * zx_interrupt_create / bind / wait / ack / destroy / trigger: argument and handle checks in the order
 * of spec/zircon.md A.7, then the object's A.8 state machine.
 */
import { big, i64, out, u32, u64 } from '../args.ts';
import { ZX_OBJ_TYPE_INTERRUPT, ZX_OBJ_TYPE_PORT, ZX_OBJ_TYPE_RESOURCE } from '../constants/object-types.ts';
import {
  ZX_INTERRUPT_BIND, ZX_INTERRUPT_MODE_DEFAULT, ZX_INTERRUPT_MODE_LEVEL_HIGH, ZX_INTERRUPT_MODE_LEVEL_LOW,
  ZX_INTERRUPT_MODE_MASK, ZX_INTERRUPT_REMAP_IRQ, ZX_INTERRUPT_TIMESTAMP_MONO, ZX_INTERRUPT_UNBIND,
  ZX_INTERRUPT_VIRTUAL, ZX_INTERRUPT_WAKE_VECTOR, ZX_RSRC_KIND_IRQ,
} from '../constants/options.ts';
import {
  ZX_DEFAULT_INTERRUPT_RIGHTS, ZX_RIGHT_NONE, ZX_RIGHT_READ, ZX_RIGHT_SIGNAL, ZX_RIGHT_WAIT, ZX_RIGHT_WRITE,
} from '../constants/rights.ts';
import { ZX_ERR_ALREADY_BOUND, ZX_ERR_INVALID_ARGS, ZX_ERR_WRONG_TYPE, ZX_OK } from '../constants/status.ts';
import { addHandle, lookup } from '../kernel/handle-table.ts';
import { InterruptObject } from '../objects/interrupt.ts';
import { InterruptFlag, LEVEL_FLAGS } from '../objects/interrupt-state.ts';
import { IntxHardware } from '../objects/intx-hardware.ts';
import type { PortObject } from '../objects/port.ts';
import type { ResourceObject } from '../objects/resource.ts';
import { claimIrq, deviceForIrq, releaseIrq } from '../platform/platform.ts';
import type { Out } from '../types.ts';
import { statusFromDeviceError } from './device-errors.ts';

const VIRTUAL_OPTIONS = ZX_INTERRUPT_VIRTUAL | ZX_INTERRUPT_TIMESTAMP_MONO | ZX_INTERRUPT_WAKE_VECTOR;
const PHYSICAL_OPTIONS = ZX_INTERRUPT_REMAP_IRQ | ZX_INTERRUPT_MODE_MASK | ZX_INTERRUPT_WAKE_VECTOR | ZX_INTERRUPT_TIMESTAMP_MONO;

function commonFlags(options: number): number {
  return ((options & ZX_INTERRUPT_TIMESTAMP_MONO) !== 0 ? InterruptFlag.TIMESTAMP_MONO : 0)
    | ((options & ZX_INTERRUPT_WAKE_VECTOR) !== 0 ? InterruptFlag.WAKE_VECTOR : 0);
}

/**
 * Virtual (ZX_INTERRUPT_VIRTUAL): src_obj/src_num ignored unless WAKE_VECTOR. Physical: src_obj is an
 * IRQ (or ROOT) resource covering src_num, which must be the platform interrupt number of an attached
 * device's INTx (zx_platform_attach().irq). MODE_DEFAULT means the platform's mode for PCI INTx: level.
 */
export function zx_interrupt_create(srcObj: number, srcNum: number, options: number, outHandle: Out<number> | null): number {
  const src = u32('src_obj', srcObj);
  const num = u32('src_num', srcNum);
  const opts = u32('options', options);
  const o = out<number>('out', outHandle);
  if ((opts & ZX_INTERRUPT_VIRTUAL) === 0 || (opts & ZX_INTERRUPT_WAKE_VECTOR) !== 0) {
    const entry = lookup(src, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE);
    if (typeof entry === 'number') return entry;
    const status = (entry.object as ResourceObject).validateRange(ZX_RSRC_KIND_IRQ, BigInt(num), 1n);
    if (status !== ZX_OK) return status;
  }
  if ((opts & ZX_INTERRUPT_VIRTUAL) !== 0) {
    if ((opts & ~VIRTUAL_OPTIONS) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
    if (o === null) return ZX_ERR_INVALID_ARGS;
    o.value = addHandle(new InterruptObject(InterruptFlag.VIRTUAL | commonFlags(opts), opts), ZX_DEFAULT_INTERRUPT_RIGHTS);
    return ZX_OK;
  }
  const device = deviceForIrq(num);
  if (device === null) return ZX_ERR_INVALID_ARGS; // not a valid platform vector
  if ((opts & ~PHYSICAL_OPTIONS) >>> 0 !== 0) return ZX_ERR_INVALID_ARGS;
  const mode = opts & ZX_INTERRUPT_MODE_MASK;
  if (mode > ZX_INTERRUPT_MODE_LEVEL_HIGH) return ZX_ERR_INVALID_ARGS;
  const level = mode === ZX_INTERRUPT_MODE_DEFAULT || mode === ZX_INTERRUPT_MODE_LEVEL_LOW || mode === ZX_INTERRUPT_MODE_LEVEL_HIGH;
  // InterruptEventDispatcher::Create registers the handler before the handle is copied out: an owned
  // IRQ is ALREADY_BOUND even with a NULL out; a free one is created, then fails the copy out.
  if (!claimIrq(num)) return ZX_ERR_ALREADY_BOUND;
  if (o === null) {
    releaseIrq(num);
    return ZX_ERR_INVALID_ARGS;
  }
  const irq = new InterruptObject((level ? LEVEL_FLAGS : 0) | commonFlags(opts), opts);
  const hardware = new IntxHardware(irq, device, num, level);
  try {
    hardware.connect();
  } catch (error) {
    hardware.line.setConsumer(null);
    releaseIrq(num);
    return statusFromDeviceError(error);
  }
  irq.setHardware(hardware);
  hardware.unmask();
  o.value = addHandle(irq, ZX_DEFAULT_INTERRUPT_RIGHTS);
  return ZX_OK;
}

export function zx_interrupt_bind(handle: number, port: number, key: bigint, options: number): number {
  const h = u32('handle', handle);
  const p = u32('port', port);
  const k = u64('key', big('key', key));
  const opts = u32('options', options);
  if (opts !== ZX_INTERRUPT_BIND && opts !== ZX_INTERRUPT_UNBIND) return ZX_ERR_INVALID_ARGS;
  const entry = lookup(h, ZX_OBJ_TYPE_INTERRUPT, ZX_RIGHT_READ);
  if (typeof entry === 'number') return entry;
  const portEntry = lookup(p, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE);
  if (typeof portEntry === 'number') return portEntry;
  const portObject = portEntry.object as PortObject;
  if (!portObject.bindToInterrupt) return ZX_ERR_WRONG_TYPE;
  const irq = entry.object as InterruptObject;
  return opts === ZX_INTERRUPT_BIND ? irq.bind(portObject, k) : irq.unbind(portObject);
}

/** Blocks until the interrupt fires; `out_timestamp` may be null (NullOutputTimestamp). */
export function zx_interrupt_wait(handle: number, outTimestamp: Out<bigint> | null): Promise<number> {
  const h = u32('handle', handle);
  const o = out<bigint>('out_timestamp', outTimestamp);
  const entry = lookup(h, ZX_OBJ_TYPE_INTERRUPT, ZX_RIGHT_WAIT);
  if (typeof entry === 'number') return Promise.resolve(entry);
  return (entry.object as InterruptObject).wait(o);
}

export function zx_interrupt_ack(handle: number): number {
  const entry = lookup(u32('handle', handle), ZX_OBJ_TYPE_INTERRUPT, ZX_RIGHT_WRITE);
  if (typeof entry === 'number') return entry;
  return (entry.object as InterruptObject).ack();
}

/** No right is checked (A.2: the kernel's TODO). */
export function zx_interrupt_destroy(handle: number): number {
  const entry = lookup(u32('handle', handle), ZX_OBJ_TYPE_INTERRUPT, ZX_RIGHT_NONE);
  if (typeof entry === 'number') return entry;
  return (entry.object as InterruptObject).destroy();
}

export function zx_interrupt_trigger(handle: number, options: number, timestamp: bigint): number {
  const h = u32('handle', handle);
  const opts = u32('options', options);
  const ts = i64('timestamp', timestamp);
  if (opts !== 0) return ZX_ERR_INVALID_ARGS;
  const entry = lookup(h, ZX_OBJ_TYPE_INTERRUPT, ZX_RIGHT_SIGNAL);
  if (typeof entry === 'number') return entry;
  return (entry.object as InterruptObject).trigger(ts);
}
