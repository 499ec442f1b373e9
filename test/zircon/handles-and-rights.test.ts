/** Handle values, lookup precedence, duplicate/replace subset rules, close, koids (spec/zircon.md A.3). */
import t from 'tap';
import {
  ZX_DEFAULT_INTERRUPT_RIGHTS, ZX_DEFAULT_PORT_RIGHTS, ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS,
  ZX_ERR_WRONG_TYPE, ZX_HANDLE_INVALID, ZX_INFO_HANDLE_BASIC, ZX_INFO_HANDLE_VALID, ZX_OBJ_TYPE_INTERRUPT, ZX_OBJ_TYPE_PORT,
  ZX_OK, ZX_RIGHT_DUPLICATE, ZX_RIGHT_SAME_RIGHTS, ZX_RIGHT_SIGNAL, ZX_RIGHT_WAIT, ZX_RIGHT_WRITE, ZX_INTERRUPT_BIND,
  ZX_INFO_INTERRUPT, ZX_INTERRUPT_TIMESTAMP_MONO, ZX_INTERRUPT_VIRTUAL, ZX_ERR_NOT_SUPPORTED,
  zx_handle_close, zx_handle_duplicate, zx_handle_replace, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_trigger,
  zx_interrupt_wait, zx_object_get_info, type zx_info_handle_basic_t,
} from 'vfio-ddk/zircon';
import { interruptPort, out, virtualInterrupt } from './helpers.ts';

function basic(h: number): zx_info_handle_basic_t {
  const o = out<object>({});
  if (zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, o) !== ZX_OK) throw new Error('get_info');
  return o.value as zx_info_handle_basic_t;
}

t.test('handle values have the two low bits set, are distinct and not reused soon', async (t) => {
  const seen = new Set<number>();
  const closed: number[] = [];
  for (let i = 0; i < 50; i++) {
    const h = virtualInterrupt();
    t.equal(h & 3, 3);
    t.notOk(seen.has(h));
    seen.add(h);
    closed.push(h);
    zx_handle_close(h);
  }
  const fresh = virtualInterrupt();
  t.notOk(closed.includes(fresh), 'a closed value is not handed out again right away');
  zx_handle_close(fresh);
});

t.test('koids start at 1024 and identify the object; default rights and types', async (t) => {
  const irq = virtualInterrupt();
  const port = interruptPort();
  const a = basic(irq);
  t.ok(a.koid >= 1024n);
  t.equal(a.rights, ZX_DEFAULT_INTERRUPT_RIGHTS);
  t.equal(a.type, ZX_OBJ_TYPE_INTERRUPT);
  t.equal(a.related_koid, 0n);
  const p = basic(port);
  t.equal(p.rights, ZX_DEFAULT_PORT_RIGHTS);
  t.equal(p.type, ZX_OBJ_TYPE_PORT);
  t.not(p.koid, a.koid);
  const dup = out(0);
  zx_handle_duplicate(irq, ZX_RIGHT_SAME_RIGHTS, dup);
  t.equal(basic(dup.value).koid, a.koid, 'a duplicate names the same object');
  t.equal(zx_object_get_info(irq, ZX_INFO_HANDLE_VALID, null), ZX_OK);
  zx_handle_close(irq);
  t.equal(zx_object_get_info(irq, ZX_INFO_HANDLE_VALID, null), ZX_ERR_BAD_HANDLE);
  t.equal(zx_object_get_info(dup.value, ZX_INFO_HANDLE_BASIC, null), ZX_ERR_INVALID_ARGS, 'NULL buffer');
  t.equal(zx_object_get_info(dup.value, 12345, out<object>({})), ZX_ERR_NOT_SUPPORTED, 'unknown topic');
  const mono = virtualInterrupt(ZX_INTERRUPT_VIRTUAL | ZX_INTERRUPT_TIMESTAMP_MONO);
  const io = out<object>({});
  t.equal(zx_object_get_info(mono, ZX_INFO_INTERRUPT, io), ZX_OK);
  t.same(io.value, { options: ZX_INTERRUPT_VIRTUAL | ZX_INTERRUPT_TIMESTAMP_MONO });
  for (const h of [dup.value, port, mono]) zx_handle_close(h);
});

t.test('lookup precedence: BAD_HANDLE → WRONG_TYPE (before rights) → ACCESS_DENIED', async (t) => {
  const port = interruptPort();
  const irq = virtualInterrupt();
  t.equal(zx_interrupt_ack(0x12345677), ZX_ERR_BAD_HANDLE);
  t.equal(zx_interrupt_ack(ZX_HANDLE_INVALID), ZX_ERR_BAD_HANDLE);
  const weakPort = out(0);
  zx_handle_duplicate(port, ZX_RIGHT_DUPLICATE, weakPort);
  t.equal(zx_interrupt_ack(weakPort.value), ZX_ERR_WRONG_TYPE, 'wrong type wins over missing rights');
  const noWrite = out(0);
  zx_handle_duplicate(irq, ZX_DEFAULT_INTERRUPT_RIGHTS & ~ZX_RIGHT_WRITE, noWrite);
  t.equal(zx_interrupt_ack(noWrite.value), ZX_ERR_ACCESS_DENIED, 'ack needs WRITE');
  const noWait = out(0);
  zx_handle_duplicate(irq, ZX_DEFAULT_INTERRUPT_RIGHTS & ~ZX_RIGHT_WAIT, noWait);
  t.equal(await zx_interrupt_wait(noWait.value, null), ZX_ERR_ACCESS_DENIED, 'wait needs WAIT');
  const noSignal = out(0);
  zx_handle_duplicate(irq, ZX_DEFAULT_INTERRUPT_RIGHTS & ~ZX_RIGHT_SIGNAL, noSignal);
  t.equal(zx_interrupt_trigger(noSignal.value, 0, 1n), ZX_ERR_ACCESS_DENIED, 'trigger needs SIGNAL');
  const portNoWrite = out(0);
  zx_handle_duplicate(port, ZX_DEFAULT_PORT_RIGHTS & ~ZX_RIGHT_WRITE, portNoWrite);
  t.equal(zx_interrupt_bind(irq, portNoWrite.value, 0n, ZX_INTERRUPT_BIND), ZX_ERR_ACCESS_DENIED, 'bind: port needs WRITE');
  t.equal(zx_interrupt_bind(noWrite.value, port, 0n, 7), ZX_ERR_INVALID_ARGS, 'bind options checked first');
  for (const h of [port, irq, weakPort.value, noWrite.value, noWait.value, noSignal.value, portNoWrite.value]) zx_handle_close(h);
});

t.test('duplicate: needs DUPLICATE; rights must be SAME_RIGHTS or a subset', async (t) => {
  const irq = virtualInterrupt();
  const o = out(0);
  t.equal(zx_handle_duplicate(irq, ZX_RIGHT_WAIT | 0x10000000, o), ZX_ERR_INVALID_ARGS, 'not a subset');
  t.equal(o.value, 0, 'out untouched on failure');
  t.equal(zx_handle_duplicate(irq, ZX_RIGHT_WAIT, o), ZX_OK);
  t.equal(basic(o.value).rights, ZX_RIGHT_WAIT);
  const noDup = out(0);
  t.equal(zx_handle_duplicate(o.value, ZX_RIGHT_SAME_RIGHTS, noDup), ZX_ERR_ACCESS_DENIED, 'no DUPLICATE right');
  t.equal(zx_handle_duplicate(irq, -0x80000000, noDup), ZX_OK, 'SAME_RIGHTS accepted signed');
  t.equal(basic(noDup.value).rights, ZX_DEFAULT_INTERRUPT_RIGHTS);
  t.equal(zx_handle_duplicate(irq, ZX_RIGHT_SAME_RIGHTS, null), ZX_ERR_INVALID_ARGS, 'NULL out');
  t.equal(zx_handle_duplicate(0x7ffffff3, ZX_RIGHT_SAME_RIGHTS, o), ZX_ERR_BAD_HANDLE);
  for (const h of [irq, o.value, noDup.value]) zx_handle_close(h);
});

t.test('replace: always invalidates the old handle; subset rule', async (t) => {
  const irq = virtualInterrupt();
  const keep = out(0);
  zx_handle_duplicate(irq, ZX_RIGHT_SAME_RIGHTS, keep);
  const o = out(0);
  t.equal(zx_handle_replace(irq, ZX_RIGHT_WAIT, o), ZX_OK);
  t.equal(zx_handle_close(irq), ZX_ERR_BAD_HANDLE, 'old handle gone');
  t.equal(basic(o.value).rights, ZX_RIGHT_WAIT);
  const bad = out(0);
  t.equal(zx_handle_replace(o.value, ZX_RIGHT_WAIT | ZX_RIGHT_WRITE, bad), ZX_ERR_INVALID_ARGS);
  t.equal(bad.value, 0);
  t.equal(zx_handle_close(o.value), ZX_ERR_BAD_HANDLE, 'invalidated even on failure');
  const dup = out(0);
  zx_handle_duplicate(keep.value, ZX_RIGHT_SAME_RIGHTS, dup);
  t.equal(zx_handle_replace(dup.value, ZX_RIGHT_SAME_RIGHTS, null), ZX_ERR_INVALID_ARGS);
  t.equal(zx_handle_close(dup.value), ZX_ERR_BAD_HANDLE);
  t.equal(zx_handle_replace(0x7ffffff3, ZX_RIGHT_SAME_RIGHTS, o), ZX_ERR_BAD_HANDLE);
  zx_handle_close(keep.value);
});

t.test('close: INVALID is OK; twice → BAD_HANDLE; the object lives while another handle does', async (t) => {
  t.equal(zx_handle_close(ZX_HANDLE_INVALID), ZX_OK);
  const irq = virtualInterrupt();
  const dup = out(0);
  zx_handle_duplicate(irq, ZX_RIGHT_SAME_RIGHTS, dup);
  const waiting = zx_interrupt_wait(dup.value, null);
  t.equal(zx_handle_close(irq), ZX_OK);
  t.equal(zx_handle_close(irq), ZX_ERR_BAD_HANDLE);
  t.equal(zx_interrupt_trigger(dup.value, 0, 8n), ZX_OK, 'still alive through the duplicate');
  t.equal(await waiting, ZX_OK);
  zx_handle_close(dup.value);
});
