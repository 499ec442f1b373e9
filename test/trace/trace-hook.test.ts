/**
 * The trace switch (lib/pci/trace-hook.ts): off, the kits' functions and the open functions behave
 * exactly as before (same results, names, arity, device object); on, they go through the tracer.
 */
import t from 'tap';
import { createEduDevice } from '../../lib/emu/index.ts';
import { currentTracer, kitCalls, setTracer, traceOpened, type Tracer } from '../../lib/pci/trace-hook.ts';
import type { PciDevice } from '../../lib/pci/device.ts';
import { zx_deadline_after, zx_handle_close, ZX_ERR_BAD_HANDLE } from '../../lib/zircon/index.ts';
import { ddi_get_lbolt, DDI_SUCCESS } from '../../lib/ddi/index.ts';

t.test('off: kit functions keep their names, arity and results', async (t) => {
  t.equal(currentTracer(), null);
  t.equal(zx_handle_close.name, 'zx_handle_close');
  t.equal(zx_handle_close.length, 1);
  t.equal(zx_handle_close(0x1234567), ZX_ERR_BAD_HANDLE);
  t.type(ddi_get_lbolt(), 'number');
  t.ok(DDI_SUCCESS === 0);
});

t.test('kitCalls wraps lower-case functions only, and passes `this` and every argument', async (t) => {
  class Thing {}
  const module = {
    add(this: unknown, a: number, b: number, ...rest: number[]) { return [this, a + b, rest.length]; },
    Thing,
    CONSTANT: 7,
  };
  const wrapped = kitCalls('test', module);
  t.equal(wrapped.Thing, Thing, 'a class is passed on');
  t.equal(wrapped.CONSTANT, 7);
  t.not(wrapped.add, module.add);
  const self = {};
  t.same(wrapped.add.call(self, 1, 2, 3, 4), [self, 3, 2]);
});

t.test('on: opened devices and kit calls go through the tracer; off again: back to the plain objects', async (t) => {
  const seen: string[] = [];
  const tracer: Tracer = {
    traceDevice<T extends PciDevice>(device: T): T { seen.push(`device ${device.bdf}`); return device; },
    kitCall(kit, name, fn, self, args) { seen.push(`${kit}.${name}/${args.length}`); return fn.apply(self, Array.from(args)); },
  };
  setTracer(tracer);
  t.teardown(() => setTracer(null));
  t.equal(currentTracer(), tracer);
  const edu = createEduDevice();
  t.teardown(() => edu.close());
  t.equal(typeof zx_deadline_after(5n), 'bigint');
  setTracer(null);
  zx_deadline_after(5n);
  const plain = createEduDevice();
  plain.close();
  t.same(seen, [`device ${edu.bdf}`, 'zircon.zx_deadline_after/1']);
  t.equal(traceOpened(plain), plain);
});

t.test('the registry is process-wide, so a second copy of the package sees the same tracer', async (t) => {
  const key = Symbol.for('vfio-ddk.trace-hook');
  const registry = (globalThis as Record<symbol, { tracer: unknown; copies: ((x: unknown) => void)[] }>)[key];
  t.ok(registry, 'registered under Symbol.for');
  let seenByOtherCopy: unknown = 'unset';
  registry?.copies.push((x) => { seenByOtherCopy = x; });
  const tracer: Tracer = { traceDevice: (d) => d, kitCall: (_k, _n, fn, self, args) => fn.apply(self, Array.from(args)) };
  setTracer(tracer);
  t.equal(seenByOtherCopy, tracer);
  setTracer(null);
  t.equal(seenByOtherCopy, null);
  registry?.copies.pop();
});
