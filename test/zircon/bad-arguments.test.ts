/**
 * The argument rule of lib/zircon/index.ts: wrong JS types throw TypeError (what C's compiler would
 * reject); right types with bad values get the Zircon status; nothing is changed by a rejected call.
 */
import t from 'tap';
import * as zx from 'vfio-ddk/zircon';
import {
  ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS, ZX_INTERRUPT_VIRTUAL, ZX_OK, ZX_TIME_INFINITE_PAST,
  zx_handle_close, zx_interrupt_trigger, zx_interrupt_wait,
} from 'vfio-ddk/zircon';
import { interruptPort, out, virtualInterrupt } from './helpers.ts';

const any = zx as unknown as Record<string, (...args: unknown[]) => unknown>;
const call = (name: string, ...args: unknown[]) => () => any[name]?.(...args);

t.test('wrong JS types throw TypeError synchronously', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  const cases: [string, unknown[]][] = [
    ['zx_handle_close', ['3']],
    ['zx_handle_close', [1.5]],
    ['zx_handle_close', [2 ** 32]],
    ['zx_handle_close', [3n]],
    ['zx_handle_duplicate', [irq, 'all', out(0)]],
    ['zx_handle_duplicate', [irq, zx.ZX_RIGHT_SAME_RIGHTS, 5]],
    ['zx_interrupt_trigger', [irq, 0, 5]],
    ['zx_interrupt_wait', [irq, 'ts']],
    ['zx_interrupt_bind', [irq, port, 1, 0]],
    ['zx_interrupt_create', [0, 0, ZX_INTERRUPT_VIRTUAL, 42]],
    ['zx_port_wait', [port, 0, out(null)]],
    ['zx_port_queue', [port, 'packet']],
    ['zx_port_queue', [port, { key: 1, type: 0, status: 0 }]],
    ['zx_port_queue', [port, { key: 1n, type: 0, status: 0, user: { u64: [1] } }]],
    ['zx_object_wait_one', [irq, 1, 0, null]],
    ['zx_object_wait_async', [irq, port, 1, 1, 0]],
    ['zx_object_signal', [irq, null, 0]],
    ['zx_object_get_info', [irq, zx.ZX_INFO_HANDLE_BASIC, 'buf']],
    ['zx_resource_create', [zx.get_root_resource(), 0, 0, 4096n, 'n', out(0)]],
    ['zx_resource_create', [zx.get_root_resource(), 0, 0n, 4096n, 7, out(0)]],
    ['zx_vmo_create', [4096, 0, out(0)]],
    ['zx_vmo_create_physical', [zx.get_root_resource(), 0, 4096n, out(0)]],
    ['zx_vmo_read', [irq, [1, 2], 0n]],
    ['zx_vmo_write', [irq, new Uint8Array(1), 0]],
    ['zx_vmar_map', [zx.zx_vmar_root_self(), 1, '0', irq, 0n, 4096n, out(null)]],
    ['zx_vmar_map', [zx.zx_vmar_root_self(), 1, 0, irq, 0, 4096n, out(null)]],
    ['zx_msi_create', [irq, 0, 0, irq, '0', out(0)]],
    ['zx_msi_allocate', [irq, '1', out(0)]],
    ['zx_bti_create', [irq, 0, 1, out(0)]],
    ['zx_bti_pin', [irq, 1, irq, 0n, 4096n, 'addrs', 1, out(0)]],
    ['zx_deadline_after', [1000]],
  ];
  for (const [name, args] of cases) t.throws(call(name, ...args), TypeError, `${name}(${args.map((a) => typeof a).join(', ')})`);
  t.equal(zx_interrupt_trigger(irq, 0, 9n), ZX_OK, 'the interrupt is unaffected by the rejected calls');
  const ts = out(0n);
  t.equal(await zx_interrupt_wait(irq, ts), ZX_OK);
  t.equal(ts.value, 9n);
  zx_handle_close(irq);
  zx_handle_close(port);
});

t.test('right types with bad values get statuses; bit-31 values work signed or unsigned', async (t) => {
  t.equal(zx_handle_close(0x7ffffff3), ZX_ERR_BAD_HANDLE);
  t.equal(zx_handle_close(-1), ZX_ERR_BAD_HANDLE, '-1 is 0xFFFFFFFF');
  t.equal(zx_interrupt_trigger(0x12345677, 0, 0n), ZX_ERR_BAD_HANDLE);
  t.equal(zx_interrupt_trigger(0x12345677, 1, 0n), ZX_ERR_INVALID_ARGS, 'options checked before the handle');
  t.equal(await zx_interrupt_wait(0x12345677, null), ZX_ERR_BAD_HANDLE, 'blocking calls resolve with the status');
  t.equal(await zx.zx_port_wait(0x12345677, ZX_TIME_INFINITE_PAST, null), ZX_ERR_BAD_HANDLE);
  t.equal(await zx.zx_object_wait_one(0x12345677, 1, 0n, null), ZX_ERR_BAD_HANDLE);
  const o = out(0);
  t.equal(zx.zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL | 0x8, o), ZX_ERR_INVALID_ARGS, 'mode bits on a virtual interrupt');
  t.equal(zx.zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL | zx.ZX_INTERRUPT_WAKE_VECTOR, o), ZX_ERR_BAD_HANDLE, 'WAKE_VECTOR validates the resource (VirtualNotWakeable)');
  t.equal(zx.zx_interrupt_create(zx.get_root_resource(), 0, ZX_INTERRUPT_VIRTUAL | zx.ZX_INTERRUPT_WAKE_VECTOR, o), ZX_OK, 'and succeeds with one');
  zx_handle_close(o.value);
  t.equal(zx.zx_interrupt_create(0, 0, ZX_INTERRUPT_VIRTUAL, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  const irq = virtualInterrupt();
  t.equal(zx.zx_object_signal(irq, 0, -0x80000000), ZX_OK, 'ZX_USER_SIGNAL_7 as a signed value');
  const observed = out(0);
  await zx.zx_object_wait_one(irq, zx.ZX_USER_SIGNAL_7, 0n, observed);
  t.equal((observed.value & zx.ZX_USER_SIGNAL_7) >>> 0, zx.ZX_USER_SIGNAL_7);
  t.equal(zx.ZX_USER_SIGNAL_7, 0x80000000, 'exported unsigned');
  t.equal(zx.ZX_RIGHT_SAME_RIGHTS, 0x80000000);
  zx_handle_close(irq);
});

t.test('clock and deadline helpers', async (t) => {
  const a = zx.zx_clock_get_monotonic();
  const b = zx.zx_clock_get_monotonic();
  t.ok(b >= a);
  t.ok(zx.zx_clock_get_boot() >= a);
  t.equal(zx.zx_deadline_after(zx.ZX_TIME_INFINITE), zx.ZX_TIME_INFINITE, 'saturates');
  t.ok(zx.zx_deadline_after(0n) >= b);
  t.equal(zx.zx_status_get_string(zx.ZX_ERR_BAD_STATE), 'ZX_ERR_BAD_STATE');
  t.equal(zx.zx_status_get_string(12345), '(UNKNOWN)');
});

t.test('uint64/int64 arguments: in range as is (the same bigint), out of range wrapped as C converts', async (t) => {
  const { i64, u64 } = await import('../../lib/zircon/args.ts');
  const max = (1n << 63n) - 1n;
  t.equal(i64('d', max), max);
  t.equal(i64('d', -(1n << 63n)), -(1n << 63n));
  t.equal(i64('d', 1n << 63n), -(1n << 63n), 'one past INT64_MAX wraps to INT64_MIN');
  t.equal(i64('d', (1n << 64n) + 5n), 5n);
  t.equal(i64('d', -(1n << 63n) - 1n), max, 'one below INT64_MIN wraps to INT64_MAX');
  t.equal(u64('k', (1n << 64n) - 1n), (1n << 64n) - 1n);
  t.equal(u64('k', -1n), (1n << 64n) - 1n, '-1 is UINT64_MAX');
  t.equal(u64('k', 1n << 64n), 0n);
  t.throws(() => i64('d', 5), TypeError);
});
