/** ddi_dma_alloc_handle (DDI_DMA_BADATTR as rootnex_valid_alloc_parms), ddi_dma_free_handle, ddi_dma_mem_alloc (real length), ddi_dma_mem_free. */
import t from 'tap';
import {
  DDI_DMA_BADATTR, DDI_DMA_CONSISTENT, DDI_DMA_DONTWAIT, DDI_DMA_SLEEP, DDI_DMA_STREAMING, DDI_FAILURE, DDI_SUCCESS,
  IOMEM_DATA_CACHED, IOMEM_DATA_UNCACHED, ddi_check_acc_handle, ddi_dma_alloc_handle, ddi_dma_free_handle,
  ddi_dma_mem_alloc, ddi_dma_mem_free, type ddi_acc_handle_t, type ddi_dma_attr_t, type ddi_dma_handle_t,
} from 'vfio-ddk/ddi';
import { LE, eduAttr, eduRig } from './helpers-dma.ts';

function alloc(dip: unknown, attr: unknown): { status: number; handle: ddi_dma_handle_t | null } {
  const h: { value: ddi_dma_handle_t | null } = { value: null };
  const status = ddi_dma_alloc_handle(dip as never, attr as never, DDI_DMA_SLEEP, null, h);
  return { status, handle: h.value };
}

function mem(handle: unknown, length: number, flags = DDI_DMA_CONSISTENT, attr: unknown = LE) {
  const kaddr: { value: Uint8Array | null } = { value: null };
  const real = { value: 0 };
  const acc: { value: ddi_acc_handle_t | null } = { value: null };
  const status = ddi_dma_mem_alloc(handle as never, length, attr as never, flags, DDI_DMA_DONTWAIT, null, kaddr, real, acc);
  return { status, kaddr: kaddr.value, real: real.value, acc };
}

t.test('ddi_dma_alloc_handle: DDI_DMA_BADATTR for what rootnex refuses', async (t) => {
  const { dip } = eduRig(t);
  t.equal(alloc(dip, eduAttr()).status, DDI_SUCCESS);
  const bad: [string, Partial<ddi_dma_attr_t>][] = [
    ['addr_hi ≤ addr_lo', { dma_attr_addr_lo: 0x1000n, dma_attr_addr_hi: 0x1000n }],
    ['sgllen 0', { dma_attr_sgllen: 0 }],
    ['seg below a page', { dma_attr_seg: 0x7ffn }],
    ['seg not ending in 0xfff', { dma_attr_seg: 0x1_0000n }],
    ['count_max below a page', { dma_attr_count_max: 0x100n }],
    ['maxxfer below a page', { dma_attr_maxxfer: 0x800n }],
    ['granular above a page', { dma_attr_granular: 8192 }],
    ['granular 0', { dma_attr_granular: 0 }],
    ['align 0', { dma_attr_align: 0n }],
    ['align not a power of two', { dma_attr_align: 0x3000n }],
    ['unknown version', { dma_attr_version: 1 }],
    ['a field of the wrong type', { dma_attr_addr_hi: '0xffffffff' as never }],
    ['a negative 64-bit field', { dma_attr_addr_lo: -1 }],
    ['max cookie (count_max+1) below a page', { dma_attr_count_max: 0xfffn, dma_attr_seg: 0xfffn, dma_attr_maxxfer: 0xfffn }],
  ];
  for (const [what, over] of bad) t.equal(alloc(dip, eduAttr(over)).status, DDI_DMA_BADATTR, what);
  t.equal(alloc(dip, null).status, DDI_DMA_BADATTR, 'NULL attr');
  t.equal(alloc(dip, eduAttr({ dma_attr_sgllen: -1, dma_attr_addr_hi: 0xffff_ffff })).status, DDI_SUCCESS, 'sgllen −1 (unlimited), number fields');
  t.equal(alloc({}, eduAttr()).status, DDI_FAILURE, 'not a dip');
  t.equal(ddi_dma_alloc_handle(dip, eduAttr(), DDI_DMA_SLEEP, null, null), DDI_FAILURE, 'NULL out-pointer');
});

t.test('ddi_dma_free_handle: frees once; a freed handle is refused everywhere', async (t) => {
  const { dip } = eduRig(t);
  const { handle } = alloc(dip, eduAttr());
  const h = { value: handle };
  ddi_dma_free_handle(h);
  t.equal(mem(handle, 100).status, DDI_FAILURE, 'mem_alloc on a freed handle');
  ddi_dma_free_handle(h);
  ddi_dma_free_handle(null);
  ddi_dma_free_handle({ value: {} as never });
  t.pass('double free, NULL and a forged handle: no throw');
});

t.test('ddi_dma_mem_alloc: real length as i_ddi_mem_alloc rounds it', async (t) => {
  const { dip } = eduRig(t);
  const h = (over: Partial<ddi_dma_attr_t>) => alloc(dip, eduAttr(over)).handle;
  let m = mem(h({ dma_attr_align: 1n }), 100);
  t.equal(m.status, DDI_SUCCESS);
  t.equal(m.real, 100, 'minxfer 1, align 1: as asked');
  t.equal(m.kaddr?.length, 100, 'kaddr is real_length bytes');
  m = mem(h({ dma_attr_align: 64n, dma_attr_minxfer: 512 }), 100, DDI_DMA_STREAMING);
  t.equal(m.real, 512, 'rounded to max(minxfer, align)');
  m = mem(h({ dma_attr_align: 0x1000n, dma_attr_sgllen: 2 }), 100);
  t.equal(m.real, 4096, 'rounded to the alignment');
  m = mem(h({ dma_attr_align: 0x1000n, dma_attr_sgllen: 1 }), 100);
  t.equal(m.real, 100, 'page alignment with sgllen 1 needs a contiguous chunk: rounded to minxfer only (as illumos)');
  m = mem(h({ dma_attr_align: 1n }), 100, DDI_DMA_CONSISTENT | IOMEM_DATA_UNCACHED);
  t.equal(m.real, 4096, 'uncached: whole pages');
  m = mem(h({ dma_attr_align: 1n, dma_attr_sgllen: 1 }), 8193);
  t.equal(m.real, 8193, 'three pages in one contiguous chunk: rounded to minxfer only');
  t.equal(mem(h({ dma_attr_align: 1n, dma_attr_sgllen: 1, dma_attr_seg: 0xfffn }), 8193).status, DDI_FAILURE,
    'one chunk of three pages would cross a one-page segment');
  t.equal(mem(h({ dma_attr_minxfer: 0 }), 100).status, DDI_FAILURE, 'minxfer 0');
  t.equal(mem(h({ dma_attr_minxfer: 3 }), 100).status, DDI_FAILURE, 'minxfer not a power of two');
  t.equal(mem(h({}), 0).status, DDI_FAILURE, 'length 0');
  t.equal(mem(h({}), 1.5).status, DDI_FAILURE, 'length not an integer');
  t.equal(mem(h({}), 100, IOMEM_DATA_CACHED | IOMEM_DATA_UNCACHED).status, DDI_FAILURE, 'two cache attributes');
  t.equal(mem(h({}), 100, DDI_DMA_CONSISTENT, { devacc_attr_version: 9 }).status, DDI_FAILURE, 'bad acc attr');
  t.equal(mem({}, 100).status, DDI_FAILURE, 'forged handle');
  const ok = mem(h({}), 4096);
  t.ok(ok.kaddr?.every((b) => b === 0), 'zero-filled');
  t.equal(ddi_check_acc_handle(ok.acc.value), DDI_SUCCESS);
});

t.test('ddi_dma_mem_free: NULLs the handle, idempotent; the memory is gone', async (t) => {
  const { dip } = eduRig(t);
  const m = mem(alloc(dip, eduAttr()).handle, 4096);
  const acc = m.acc.value;
  ddi_dma_mem_free(m.acc);
  t.equal(m.acc.value, null);
  t.equal(ddi_check_acc_handle(acc), DDI_FAILURE, 'the access handle is freed');
  ddi_dma_mem_free(m.acc);
  ddi_dma_mem_free({ value: acc });
  ddi_dma_mem_free(null);
  t.pass('no throw');
});
