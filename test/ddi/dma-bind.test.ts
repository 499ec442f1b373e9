/**
 * ddi_dma_addr_bind_handle / ddi_dma_buf_bind_handle / ddi_dma_unbind_handle / ddi_dma_sync and the
 * cookie and window walkers, end to end on the emulated edu: memory from ddi_dma_mem_alloc is bound
 * through the IOMMU, its cookie programmed into the edu DMA registers with ddi_put64, and the data
 * crosses; plus every refusal status.
 */
import t from 'tap';
import {
  DDI_DMA_CONSISTENT, DDI_DMA_DONTWAIT, DDI_DMA_INUSE, DDI_DMA_MAPPED, DDI_DMA_NOMAPPING, DDI_DMA_NORESOURCES,
  DDI_DMA_PARTIAL, DDI_DMA_PARTIAL_MAP, DDI_DMA_RDWR, DDI_DMA_READ, DDI_DMA_SLEEP, DDI_DMA_STREAMING,
  DDI_DMA_SYNC_FORCPU, DDI_DMA_SYNC_FORDEV, DDI_DMA_SYNC_FORKERNEL, DDI_DMA_TOOBIG, DDI_DMA_WRITE, DDI_FAILURE,
  DDI_SUCCESS, ddi_dma_addr_bind_handle, ddi_dma_alloc_handle, ddi_dma_buf_bind_handle, ddi_dma_cookie_get,
  ddi_dma_cookie_iter, ddi_dma_cookie_one, ddi_dma_free_handle, ddi_dma_getwin, ddi_dma_mem_alloc, ddi_dma_mem_free,
  ddi_dma_ncookies, ddi_dma_nextcookie, ddi_dma_numwin, ddi_dma_sync, ddi_dma_unbind_handle, type ddi_acc_handle_t,
  type ddi_dma_attr_t, type ddi_dma_cookie_t, type ddi_dma_handle_t,
} from 'vfio-ddk/ddi';
import type { EmuIommu } from 'vfio-ddk/emu';
import { EDU_DMA_MAX_SAFE } from '../../lib/pci/edu-regs.ts';
import { LE, eduAttr, eduDma, eduRig, type EduRig } from './helpers-dma.ts';

function handleFor(rig: EduRig, over: Partial<ddi_dma_attr_t> = {}): ddi_dma_handle_t {
  const h: { value: ddi_dma_handle_t | null } = { value: null };
  if (ddi_dma_alloc_handle(rig.dip, eduAttr(over), DDI_DMA_SLEEP, null, h) !== DDI_SUCCESS) throw new Error('alloc_handle');
  return h.value as ddi_dma_handle_t;
}

function memFor(handle: ddi_dma_handle_t, length: number): { kaddr: Uint8Array; acc: { value: ddi_acc_handle_t | null } } {
  const kaddr: { value: Uint8Array | null } = { value: null };
  const acc: { value: ddi_acc_handle_t | null } = { value: null };
  if (ddi_dma_mem_alloc(handle, length, LE, DDI_DMA_CONSISTENT, DDI_DMA_SLEEP, null, kaddr, { value: 0 }, acc) !== DDI_SUCCESS) throw new Error('mem_alloc');
  return { kaddr: kaddr.value as Uint8Array, acc };
}

function bind(handle: unknown, addr: unknown, len: number, flags: number) {
  const cookie = {} as ddi_dma_cookie_t;
  const ccount = { value: 0 };
  const status = ddi_dma_addr_bind_handle(handle as never, null, addr as never, len, flags, DDI_DMA_DONTWAIT, null, cookie, ccount);
  return { status, cookie, ccount: ccount.value };
}

const mappings = (rig: EduRig): number => (rig.device.dma as EmuIommu).mappings;

t.test('edu DMA through the IOMMU: ddi_dma_mem_alloc + bind → cookie → edu DMA registers → data arrives', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig);
  const { kaddr } = memFor(handle, 4096);
  for (let i = 0; i < EDU_DMA_MAX_SAFE; i++) kaddr[i] = (i * 7) & 0xff;
  const b = bind(handle, kaddr, 4096, DDI_DMA_RDWR | DDI_DMA_CONSISTENT);
  t.equal(b.status, DDI_DMA_MAPPED);
  t.equal(b.ccount, 1, 'sgllen 1: one contiguous IOVA range');
  t.equal(b.cookie.dmac_size, 4096);
  t.ok(b.cookie.dmac_laddress + 4095n <= 0x0fff_ffffn, 'below addr_hi (the 28-bit edu mask)');
  t.equal(b.cookie.dmac_laddress % 0x1000n, 0n, 'aligned to dma_attr_align');
  t.equal(b.cookie.dmac_address, Number(b.cookie.dmac_laddress & 0xffff_ffffn));
  t.equal(ddi_dma_sync(handle, 0, 0, DDI_DMA_SYNC_FORDEV), DDI_SUCCESS);
  await eduDma(rig, b.cookie.dmac_laddress, EDU_DMA_MAX_SAFE, false);
  t.same(rig.device.buffer.subarray(0, 8), kaddr.subarray(0, 8), 'RAM → device');
  kaddr.fill(0);
  await eduDma(rig, b.cookie.dmac_laddress, EDU_DMA_MAX_SAFE, true);
  t.equal(ddi_dma_sync(handle, 0, 0, DDI_DMA_SYNC_FORCPU), DDI_SUCCESS);
  t.equal(kaddr[100], (100 * 7) & 0xff, 'device → RAM');
  t.equal(rig.device.iommuFaults.length, 0);
  t.equal(ddi_dma_unbind_handle(handle), DDI_SUCCESS);
  t.equal(mappings(rig), 0, 'unbind unmapped it');
  await eduDma(rig, b.cookie.dmac_laddress, 16, true);
  t.equal(rig.device.iommuFaults.length, 1, 'the old cookie faults in the IOMMU after unbind');
});

t.test('a subarray of ddi_dma_mem_alloc memory is bound in place at its page offset', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig, { dma_attr_sgllen: 4 });
  const { kaddr } = memFor(handle, 3 * 4096);
  const part = kaddr.subarray(4096 + 0x10, 4096 + 0x10 + 64);
  const b = bind(handle, part, 64, DDI_DMA_READ);
  t.equal(b.status, DDI_DMA_MAPPED);
  t.equal(b.cookie.dmac_laddress % 0x1000n, 0x10n, 'the page offset is kept');
  rig.device.buffer.fill(0xab, 0, 64);
  await eduDma(rig, b.cookie.dmac_laddress, 64, true);
  t.equal(part[0], 0xab, 'arrived in place (no copy, no sync needed)');
  t.equal(kaddr[4096 + 0x0f], 0, 'nothing before the object');
});

t.test('memory not from ddi_dma_mem_alloc goes through a copy buffer: sync FORDEV/FORCPU move the data', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig);
  const plain = new Uint8Array(256).fill(0x5a);
  const b = bind(handle, plain, 256, DDI_DMA_RDWR);
  t.equal(b.status, DDI_DMA_MAPPED);
  await eduDma(rig, b.cookie.dmac_laddress, 256, false);
  t.equal(rig.device.buffer[10], 0x5a, 'bind with DDI_DMA_WRITE copied the object in');
  plain.fill(0x11);
  t.equal(ddi_dma_sync(handle, 0, 128, DDI_DMA_SYNC_FORDEV), DDI_SUCCESS);
  await eduDma(rig, b.cookie.dmac_laddress, 256, false);
  t.equal(rig.device.buffer[10], 0x11, 'FORDEV copied the first 128 bytes');
  t.equal(rig.device.buffer[200], 0x5a, 'and only those');
  rig.device.buffer.fill(0x77, 0, 256);
  await eduDma(rig, b.cookie.dmac_laddress, 256, true);
  t.equal(plain[0], 0x11, 'before FORCPU the object is untouched');
  t.equal(ddi_dma_sync(handle, 0, 0, DDI_DMA_SYNC_FORKERNEL), DDI_SUCCESS);
  t.equal(plain[0], 0x77, 'FORKERNEL copied it back');
  rig.device.buffer.fill(0x99, 0, 256);
  await eduDma(rig, b.cookie.dmac_laddress, 256, true);
  t.equal(ddi_dma_unbind_handle(handle), DDI_SUCCESS);
  t.equal(plain[255], 0x99, 'unbind of a DDI_DMA_READ binding syncs FORCPU (rootnex_coredma_unbindhdl)');
});

t.test('direction is the IOMMU permission: a DDI_DMA_WRITE binding cannot be written by the device', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig);
  const { kaddr } = memFor(handle, 4096);
  const b = bind(handle, kaddr, 4096, DDI_DMA_WRITE);
  rig.device.buffer.fill(0xee, 0, 16);
  await eduDma(rig, b.cookie.dmac_laddress, 16, true);
  t.equal(kaddr[0], 0, 'the write was blocked');
  t.equal(rig.device.iommuFaults.at(-1)?.direction, 'write');
});

t.test('addr_hi / addr_lo / align place the IOVA; beyond addr_hi → DDI_DMA_NOMAPPING; exhausted → NORESOURCES', async (t) => {
  const rig = eduRig(t);
  const lowAttr = { dma_attr_addr_lo: 0x10_0000n, dma_attr_addr_hi: 0x1f_ffffn };
  const big = handleFor(rig, lowAttr);
  t.equal(bind(big, new Uint8Array(0x20_0000), 0x20_0000, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, '2 MiB cannot fit in 1 MiB of IOVA');
  const first = handleFor(rig, lowAttr);
  const a = bind(first, new Uint8Array(0x10_0000), 0x10_0000, DDI_DMA_RDWR);
  t.equal(a.status, DDI_DMA_MAPPED, 'exactly the 1 MiB window');
  t.ok(a.cookie.dmac_laddress >= 0x10_0000n && a.cookie.dmac_laddress + 0xf_ffffn <= 0x1f_ffffn, 'inside [addr_lo, addr_hi]');
  const second = handleFor(rig, lowAttr);
  t.equal(bind(second, new Uint8Array(4096), 4096, DDI_DMA_RDWR).status, DDI_DMA_NORESOURCES, 'the window is used up');
  const aligned = handleFor(rig, { dma_attr_align: 0x10_0000n });
  const c = bind(aligned, new Uint8Array(4096), 4096, DDI_DMA_RDWR);
  t.equal(c.status, DDI_DMA_MAPPED);
  t.equal(c.cookie.dmac_laddress % 0x10_0000n, 0n, '1 MiB alignment');
  rig.device.dma.setMask(0x1fffn);
  const masked = handleFor(rig);
  t.equal(bind(masked, new Uint8Array(0x4000), 0x4000, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, 'the device mask (8 KiB) limits too');
});

t.test('cookies: seg boundaries cut them; nextcookie / ncookies / cookie_iter / cookie_get / cookie_one', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig, { dma_attr_sgllen: 8, dma_attr_seg: 0xfffn });
  const { kaddr } = memFor(handle, 3 * 4096);
  const b = bind(handle, kaddr, 3 * 4096, DDI_DMA_RDWR | DDI_DMA_STREAMING);
  t.equal(b.status, DDI_DMA_MAPPED);
  t.equal(b.ccount, 3, 'one cookie per 4 KiB segment');
  t.equal(ddi_dma_ncookies(handle), 3);
  const next = {} as ddi_dma_cookie_t;
  ddi_dma_nextcookie(handle, next);
  t.equal(next.dmac_laddress, b.cookie.dmac_laddress + 4096n);
  ddi_dma_nextcookie(handle, next);
  t.equal(next.dmac_laddress, b.cookie.dmac_laddress + 8192n);
  const keep = { ...next };
  ddi_dma_nextcookie(handle, next);
  t.same(next, keep, 'past the last cookie: left as it was');
  const seen: bigint[] = [];
  for (let c = ddi_dma_cookie_iter(handle, null); c !== null; c = ddi_dma_cookie_iter(handle, c)) seen.push(c.dmac_laddress);
  t.same(seen, [0n, 4096n, 8192n].map((d) => b.cookie.dmac_laddress + d), 'cookie_iter walks all three');
  t.equal(ddi_dma_cookie_get(handle, 2)?.dmac_size, 4096);
  t.equal(ddi_dma_cookie_get(handle, 3), null);
  t.equal(ddi_dma_cookie_get(handle, -1), null);
  t.equal(ddi_dma_cookie_one(handle), null, 'three cookies: no single one (illumos would panic)');
  ddi_dma_unbind_handle(handle);
  t.equal(ddi_dma_ncookies(handle), 0);
  t.equal(ddi_dma_cookie_iter(handle, null), null);
  const one = handleFor(rig);
  bind(one, kaddr, 100, DDI_DMA_RDWR);
  t.equal(ddi_dma_cookie_one(one)?.dmac_size, 100);
});

t.test('too many cookies or bytes: DDI_DMA_TOOBIG; with DDI_DMA_PARTIAL: windows (numwin, getwin)', async (t) => {
  const rig = eduRig(t);
  const sg = { dma_attr_sgllen: 1, dma_attr_seg: 0xfffn };
  const h1 = handleFor(rig, sg);
  // (ddi_dma_mem_alloc under sg would refuse 4 pages: one contiguous chunk crossing page segments.)
  const { kaddr } = memFor(handleFor(rig, { dma_attr_sgllen: 8 }), 4 * 4096);
  t.equal(bind(h1, kaddr, 2 * 4096, DDI_DMA_RDWR).status, DDI_DMA_TOOBIG, 'two segments, sgllen 1');
  t.equal(mappings(rig), 0, 'nothing left mapped');
  const p = bind(h1, kaddr, 2 * 4096, DDI_DMA_RDWR | DDI_DMA_PARTIAL);
  t.equal(p.status, DDI_DMA_PARTIAL_MAP);
  t.equal(p.ccount, 1);
  const nwin = { value: 0 };
  t.equal(ddi_dma_numwin(h1, nwin), DDI_SUCCESS);
  t.equal(nwin.value, 2);
  const off = { value: -1 };
  const len = { value: -1 };
  const cookie = {} as ddi_dma_cookie_t;
  const cc = { value: 0 };
  t.equal(ddi_dma_getwin(h1, 1, off, len, cookie, cc), DDI_SUCCESS);
  t.same([off.value, len.value, cc.value, cookie.dmac_laddress], [4096, 4096, 1, p.cookie.dmac_laddress + 4096n]);
  t.equal(ddi_dma_getwin(h1, 2, off, len, cookie, cc), DDI_FAILURE, 'no window 2');
  t.equal(ddi_dma_getwin(h1, 0, off, len, null, cc), DDI_FAILURE, 'NULL cookie');

  const h2 = handleFor(rig, { dma_attr_maxxfer: 0x1000n });
  t.equal(bind(h2, kaddr, 4 * 4096, DDI_DMA_RDWR).status, DDI_DMA_TOOBIG, 'more than maxxfer');
  t.equal(bind(h2, kaddr, 4 * 4096, DDI_DMA_RDWR | DDI_DMA_PARTIAL).status, DDI_DMA_PARTIAL_MAP);
  t.equal(ddi_dma_numwin(h2, nwin), DDI_SUCCESS);
  t.equal(nwin.value, 4, 'four 4 KiB windows');

  const h3 = handleFor(rig, { dma_attr_maxxfer: 0x1800n, dma_attr_granular: 512 });
  t.equal(bind(h3, kaddr, 0x3000, DDI_DMA_RDWR | DDI_DMA_PARTIAL).status, DDI_DMA_PARTIAL_MAP);
  t.equal(ddi_dma_getwin(h3, 0, off, len, cookie, cc), DDI_SUCCESS);
  t.equal(len.value % 512, 0, 'windows are multiples of granular');
  t.equal(ddi_dma_numwin(handleFor(rig), nwin), DDI_FAILURE, 'unbound');
});

t.test('DDI_DMA_INUSE, ddi_dma_buf_bind_handle, unbind twice, free_handle and mem_free unbind', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig);
  const { kaddr, acc } = memFor(handle, 4096);
  t.equal(bind(handle, kaddr, 4096, DDI_DMA_RDWR).status, DDI_DMA_MAPPED);
  t.equal(bind(handle, kaddr, 4096, DDI_DMA_RDWR).status, DDI_DMA_INUSE);
  t.equal(ddi_dma_unbind_handle(handle), DDI_SUCCESS);
  t.equal(ddi_dma_unbind_handle(handle), DDI_FAILURE, 'not bound');
  const cookie = {} as ddi_dma_cookie_t;
  const cc = { value: 0 };
  t.equal(ddi_dma_buf_bind_handle(handle, { b_un: { b_addr: kaddr }, b_bcount: 512 }, DDI_DMA_READ, DDI_DMA_SLEEP, null, cookie, cc), DDI_DMA_MAPPED);
  t.equal(cookie.dmac_size, 512);
  t.equal(ddi_dma_buf_bind_handle(handleFor(rig), null, DDI_DMA_READ, DDI_DMA_SLEEP, null, cookie, cc), DDI_DMA_NOMAPPING, 'NULL buf');
  ddi_dma_mem_free(acc);
  t.equal(ddi_dma_ncookies(handle), 0, 'mem_free unbound the binding on it');
  t.equal(mappings(rig), 0);
  const h2 = handleFor(rig);
  bind(h2, new Uint8Array(64), 64, DDI_DMA_RDWR);
  ddi_dma_free_handle({ value: h2 });
  t.equal(mappings(rig), 0, 'free_handle unbound it');
  t.equal(ddi_dma_unbind_handle(h2), DDI_FAILURE, 'freed');
});

t.test('ddi_dma_sync range and direction checks', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig);
  t.equal(ddi_dma_sync(handle, 0, 0, DDI_DMA_SYNC_FORDEV), DDI_FAILURE, 'unbound');
  bind(handle, new Uint8Array(100), 100, DDI_DMA_RDWR);
  t.equal(ddi_dma_sync(handle, 0, 100, DDI_DMA_SYNC_FORDEV), DDI_SUCCESS);
  t.equal(ddi_dma_sync(handle, 99, 1, DDI_DMA_SYNC_FORCPU), DDI_SUCCESS);
  t.equal(ddi_dma_sync(handle, 100, 0, DDI_DMA_SYNC_FORCPU), DDI_FAILURE, 'offset at the end');
  t.equal(ddi_dma_sync(handle, 50, 51, DDI_DMA_SYNC_FORCPU), DDI_FAILURE, 'past the end');
  t.equal(ddi_dma_sync(handle, -1, 0, DDI_DMA_SYNC_FORCPU), DDI_FAILURE);
  t.equal(ddi_dma_sync(handle, 0, 0, 7), DDI_FAILURE, 'unknown direction');
  t.equal(ddi_dma_sync({} as never, 0, 0, DDI_DMA_SYNC_FORCPU), DDI_FAILURE, 'forged handle');
});

t.test('bind refusals: DDI_DMA_NOMAPPING for what cannot be mapped at all', async (t) => {
  const rig = eduRig(t);
  const handle = handleFor(rig);
  const buf = new Uint8Array(64);
  t.equal(bind({}, buf, 64, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, 'forged handle');
  t.equal(bind(null, buf, 64, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, 'NULL handle');
  t.equal(bind(handle, buf, 0, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, 'length 0');
  t.equal(bind(handle, buf, 65, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, 'longer than the object');
  t.equal(bind(handle, buf, 64, DDI_DMA_CONSISTENT).status, DDI_DMA_NOMAPPING, 'no direction');
  t.equal(bind(handle, new ArrayBuffer(64), 64, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, 'not a Uint8Array');
  t.equal(ddi_dma_addr_bind_handle(handle, {} as never, buf, 64, DDI_DMA_RDWR, DDI_DMA_SLEEP, null, {}, { value: 0 }), DDI_DMA_NOMAPPING, 'a user address space');
  t.equal(ddi_dma_addr_bind_handle(handle, null, buf, 64, DDI_DMA_RDWR, DDI_DMA_SLEEP, null, null, { value: 0 }), DDI_DMA_NOMAPPING, 'NULL cookie');
  t.equal(mappings(rig), 0);
  rig.device.close();
  t.equal(bind(handle, buf, 64, DDI_DMA_RDWR).status, DDI_DMA_NOMAPPING, 'closed device');
});
