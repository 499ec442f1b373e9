/**
 * How kit calls are written into a trace (lib/trace/kit-calls.ts): arguments as a C programmer reads
 * them, statuses by name only where the function returns one.
 */
import t from 'tap';
import { describeValue, statusName } from '../../lib/trace/kit-calls.ts';
import { createEduDevice } from '../../lib/emu/index.ts';

t.test('arguments: numbers, bigints, out-pointers, buffers, arrays, devices, objects', async (t) => {
  const device = createEduDevice();
  t.teardown(() => device.close());
  class Handle {}
  const cases: [unknown, string][] = [
    [null, 'NULL'], [undefined, 'undefined'], [7, '7'], [0x12345, '0x12345'], [-0x12345, '-0x12345'], [1.5, '1.5'],
    [5n, '5n'], [0x10000n, '0x10000n'], ['x'.repeat(50), `"${'x'.repeat(40)}…"`], [true, 'true'],
    [function named() {}, 'named'], [() => {}, 'function'], [Symbol('s'), 'Symbol(s)'],
    [{ value: 0x3f2b }, '&16171'], [{ value: null }, '&NULL'], [new Uint8Array(12), '<12 bytes>'],
    [[1, 2n, 'a', null, 5], '[1, 2n, "a", NULL, …]'], [device, `device ${device.bdf}`], [new Handle(), '<Handle>'],
    [{ a: 1, b: { c: { d: 1 } } }, '{ a: 1, b: { c: {…} } }'], [{ a: 1, b: 2, c: 3, d: 4, e: 5 }, '{ a: 1, b: 2, c: 3, d: 4, … }'],
  ];
  for (const [value, text] of cases) t.equal(describeValue(value), text, text);
  t.equal(describeValue([[[1]]]), '[[[…]]]');
});

t.test('statuses: zx_* results ≤ 0, DDI return codes of the calls that return one, DMA bind codes', async (t) => {
  t.equal(statusName('zircon', 'zx_handle_close', 0), 'ZX_OK');
  t.equal(statusName('zircon', 'zx_handle_close', -11), 'ZX_ERR_BAD_HANDLE');
  t.equal(statusName('zircon', 'get_root_resource', 0x3f2b), null, 'a handle is not a status');
  t.equal(statusName('zircon', 'zx_clock_get_monotonic', 5n), null);
  t.equal(statusName('ddi', 'ddi_intr_enable', 0), 'DDI_SUCCESS');
  t.equal(statusName('ddi', 'ddi_intr_alloc', -3), 'DDI_EAGAIN');
  t.equal(statusName('ddi', 'ddi_get32', 0), null, 'a register value is not a status');
  t.equal(statusName('ddi', 'ddi_intr_get_hilevel_pri', 10), null);
  t.equal(statusName('ddi', 'ddi_dma_addr_bind_handle', 0), 'DDI_DMA_MAPPED');
  t.equal(statusName('ddi', 'ddi_dma_buf_bind_handle', -3), 'DDI_DMA_TOOBIG');
  t.equal(statusName('other', 'x', 0), null);
  t.equal(statusName('ddi', 'ddi_intr_enable', 1.5), null);
  t.equal(statusName('ddi', 'ddi_intr_get_nintrs', 1), 'DDI_INTR_NOTFOUND', 'what the get_* calls mean by 1');
  t.equal(statusName('ddi', 'ddi_intr_alloc', 1), 'DDI_ENOMEM', 'the same value elsewhere');
});
