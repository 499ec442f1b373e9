/**
 * ddi_regs_map_setup / ddi_regs_map_free / ddi_dev_nregs / ddi_dev_regsize / ddi_get* / ddi_put* /
 * ddi_rep_* / ddi_check_acc_handle on emulated devices (edu: BAR0 only; NVMe: 64-bit BAR0 and the
 * MSI-X BAR), with the statuses and recorded access errors of lib/ddi/regs.
 */
import t from 'tap';
import { createEduDevice, createNvmeDevice, createTestDevice, TEST_DEV_MSIX_BAR } from 'vfio-ddk/emu';
import {
  DDI_DEV_AUTOINCR, DDI_DEV_NO_AUTOINCR, DDI_DEVICE_ATTR_V0, DDI_DEVICE_ATTR_V1, DDI_FAILURE, DDI_FLAGERR_ACC,
  DDI_ME_INVAL, DDI_ME_RNUMBER_RANGE, DDI_NEVERSWAP_ACC, DDI_STRICTORDER_ACC, DDI_STRUCTURE_BE_ACC, DDI_STRUCTURE_LE_ACC,
  DDI_SUCCESS, ddi_check_acc_handle, ddi_dev_info, ddi_dev_nregs, ddi_dev_regsize, ddi_get16, ddi_get32, ddi_get64,
  ddi_get8, ddi_put32, ddi_put64, ddi_put8, ddi_regs_map_free, ddi_regs_map_setup, ddi_rep_get32, ddi_rep_get8,
  ddi_rep_put32, ddi_rep_put64, ddi_rep_get64, ddi_rep_get16, ddi_rep_put8, ddi_rep_put16, type ddi_acc_handle_t, type ddi_device_acc_attr_t,
} from 'vfio-ddk/ddi';
import { EDU_BAR0_SIZE, EDU_ID_VALUE, EDU_REG } from '../../lib/pci/edu-regs.ts';
import { PCI_INTERRUPT_LINE, PCI_VENDOR_ID } from '../../lib/pci/regs.ts';

const LE: ddi_device_acc_attr_t = { devacc_attr_version: DDI_DEVICE_ATTR_V0, devacc_attr_endian_flags: DDI_STRUCTURE_LE_ACC, devacc_attr_dataorder: DDI_STRICTORDER_ACC };
const BE: ddi_device_acc_attr_t = { ...LE, devacc_attr_endian_flags: DDI_STRUCTURE_BE_ACC };

function edu(t: { teardown(fn: () => void): void }) {
  const device = createEduDevice();
  t.teardown(() => device.close());
  return { device, dip: ddi_dev_info(device) };
}

function map(dip: unknown, rnumber: number, offset = 0, len = 0, attr: unknown = LE) {
  const addr = { value: 0n };
  const handle: { value: ddi_acc_handle_t | null } = { value: null };
  const status = ddi_regs_map_setup(dip as never, rnumber, addr, offset, len, attr as never, handle);
  return { status, addr: addr.value, handle: handle.value as ddi_acc_handle_t };
}

t.test('ddi_dev_nregs / ddi_dev_regsize: config space + implemented BARs in order', async (t) => {
  const { dip } = edu(t);
  const n = { value: 0 };
  t.equal(ddi_dev_nregs(dip, n), DDI_SUCCESS);
  t.equal(n.value, 2, 'edu: reg[0] config, reg[1] BAR0');
  const size = { value: -1 };
  t.equal(ddi_dev_regsize(dip, 0, size), DDI_SUCCESS);
  t.equal(size.value, 0, 'the config entry has size 0 in the reg property');
  t.equal(ddi_dev_regsize(dip, 1, size), DDI_SUCCESS);
  t.equal(size.value, EDU_BAR0_SIZE);
  t.equal(ddi_dev_regsize(dip, 2, size), DDI_FAILURE, 'rnumber past the last entry');
  t.equal(ddi_dev_regsize(dip, 1.5, size), DDI_FAILURE);
  t.equal(ddi_dev_nregs({} as never, n), DDI_FAILURE, 'not a dip');
  t.equal(ddi_dev_nregs(dip, null), DDI_FAILURE, 'NULL out-pointer');

  const nvme = createNvmeDevice();
  t.teardown(() => nvme.close());
  const ndip = ddi_dev_info(nvme);
  t.equal(ddi_dev_nregs(ndip, n), DDI_SUCCESS);
  t.equal(n.value, 2, 'NVMe: config and the 64-bit BAR0 (one entry, BAR1 is its upper half)');
  t.equal(ddi_dev_regsize(ndip, 1, size), DDI_SUCCESS);
  t.equal(size.value, Number(nvme.bar(0).size));

  const test = createTestDevice({ msix: { vectors: 4 } });
  t.teardown(() => test.close());
  const tdip = ddi_dev_info(test);
  t.equal(ddi_dev_nregs(tdip, n), DDI_SUCCESS);
  t.equal(n.value, 3, 'test device: config, BAR0 registers, the MSI-X BAR');
  t.equal(ddi_dev_regsize(tdip, 2, size), DDI_SUCCESS);
  t.equal(size.value, Number(test.bar(TEST_DEV_MSIX_BAR).size), 'reg[2] is the MSI-X BAR, in BAR order');
});

t.test('ddi_regs_map_setup: statuses for rnumber, offset, len, attributes', async (t) => {
  const { dip } = edu(t);
  t.equal(map(dip, 2).status, DDI_ME_RNUMBER_RANGE, 'rnumber beyond the reg entries');
  t.equal(map(dip, -1).status, DDI_ME_RNUMBER_RANGE);
  t.equal(map(dip, 1, EDU_BAR0_SIZE).status, DDI_FAILURE, 'offset at the end');
  t.equal(map(dip, 1, 0x1000, EDU_BAR0_SIZE).status, DDI_FAILURE, 'offset + len past the end');
  t.equal(map(dip, 1, -4).status, DDI_FAILURE);
  t.equal(map(dip, 1, 0, 0, { ...LE, devacc_attr_version: 7 }).status, DDI_ME_INVAL, 'unknown attr version');
  t.equal(map(dip, 1, 0, 0, { ...LE, devacc_attr_endian_flags: 5 }).status, DDI_ME_INVAL, 'unknown endian flags');
  t.equal(map(dip, 1, 0, 0, { ...LE, devacc_attr_version: DDI_DEVICE_ATTR_V1 }).status, DDI_ME_INVAL, 'V1 without devacc_attr_access');
  t.equal(map(dip, 1, 0, 0, { ...LE, devacc_attr_version: DDI_DEVICE_ATTR_V1, devacc_attr_access: DDI_FLAGERR_ACC }).status, DDI_SUCCESS);
  t.equal(map(dip, 1, 0, 0, null).status, DDI_ME_INVAL, 'NULL acc_attr');
  t.equal(map({}, 1).status, DDI_ME_INVAL, 'not a dip');
  const ok = map(dip, 1, 0x1000, 0x100);
  t.equal(ok.status, DDI_SUCCESS);
  t.equal(typeof ok.addr, 'bigint');
});

t.test('ddi_get32/ddi_put32 on BAR0 (edu ID and liveness), len 0 = to the end', async (t) => {
  const { dip } = edu(t);
  const { status, addr, handle } = map(dip, 1);
  t.equal(status, DDI_SUCCESS);
  t.equal(ddi_get32(handle, addr + BigInt(EDU_REG.ID)), EDU_ID_VALUE);
  ddi_put32(handle, addr + BigInt(EDU_REG.LIVENESS), 0x12345678);
  t.equal(ddi_get32(handle, addr + BigInt(EDU_REG.LIVENESS)), ~0x12345678 >>> 0, 'edu complements the liveness value');
  ddi_put64(handle, addr + BigInt(EDU_REG.DMA_SRC), 0x1122_3344_5566_7788n);
  t.equal(ddi_get64(handle, addr + BigInt(EDU_REG.DMA_SRC)), 0x1122_3344_5566_7788n);
  t.equal(ddi_check_acc_handle(handle), DDI_SUCCESS);
  // An offset window: address 0 of the mapping is register 0x80.
  const w = map(dip, 1, EDU_REG.DMA_SRC, 0x10);
  t.equal(ddi_get64(w.handle, w.addr), 0x1122_3344_5566_7788n, 'offset honoured');
});

t.test('DDI_STRUCTURE_BE_ACC byte-swaps each access; NEVERSWAP and LE do not', async (t) => {
  const { dip } = edu(t);
  const be = map(dip, 1, 0, 0, BE);
  const ne = map(dip, 1, 0, 0, { ...LE, devacc_attr_endian_flags: DDI_NEVERSWAP_ACC });
  t.equal(ddi_get32(be.handle, be.addr + BigInt(EDU_REG.ID)), 0xed000001, 'ID 0x010000ed read big-endian');
  t.equal(ddi_get32(ne.handle, ne.addr + BigInt(EDU_REG.ID)), EDU_ID_VALUE);
  ddi_put64(be.handle, be.addr + BigInt(EDU_REG.DMA_DST), 0x0102_0304_0506_0708n);
  t.equal(ddi_get64(ne.handle, ne.addr + BigInt(EDU_REG.DMA_DST)), 0x0807_0605_0403_0201n, 'a BE put lands swapped');
  const cfg = map(dip, 0, 0, 0, BE);
  t.equal(ddi_get16(cfg.handle, cfg.addr + BigInt(PCI_VENDOR_ID)), 0x3412, 'vendor 0x1234 swapped');
});

t.test('config space as reg[0]: 8/16/32-bit access, len 0 = the whole config space', async (t) => {
  const { device, dip } = edu(t);
  const cfg = map(dip, 0);
  t.equal(cfg.status, DDI_SUCCESS);
  t.equal(ddi_get16(cfg.handle, cfg.addr), 0x1234);
  t.equal(ddi_get8(cfg.handle, cfg.addr + 1n), 0x12);
  t.equal(ddi_get32(cfg.handle, cfg.addr + BigInt(device.config.size - 4)), device.config.read32(device.config.size - 4));
  ddi_get8(cfg.handle, cfg.addr + BigInt(device.config.size));
  t.equal(ddi_check_acc_handle(cfg.handle), DDI_FAILURE, 'one past the end of config space faults');
});

t.test('out-of-range, misaligned, foreign-address and bad-value accesses: all-ones, recorded, no throw', async (t) => {
  const { dip } = edu(t);
  const a = map(dip, 1, 0, 0x100);
  t.equal(ddi_get32(a.handle, a.addr + 0x100n), 0xffffffff, 'past the mapping');
  t.equal(ddi_check_acc_handle(a.handle), DDI_FAILURE, 'sticky after the fault');
  const b = map(dip, 1);
  t.equal(ddi_get32(b.handle, a.addr), 0xffffffff, "another mapping's address");
  t.equal(ddi_check_acc_handle(b.handle), DDI_FAILURE);
  const c = map(dip, 1);
  t.equal(ddi_get32(c.handle, c.addr + 2n), 0xffffffff, 'misaligned');
  t.equal(ddi_check_acc_handle(c.handle), DDI_FAILURE);
  const d = map(dip, 1);
  ddi_put32(d.handle, d.addr + BigInt(EDU_REG.LIVENESS), 'x' as never);
  t.equal(ddi_check_acc_handle(d.handle), DDI_FAILURE, 'a value that is not a number');
  const e = map(dip, 1);
  t.equal(ddi_get32(e.handle, 5 as never), 0xffffffff, 'a number instead of the bigint address');
  t.equal(ddi_get64(e.handle, e.addr - 8n), 0xffff_ffff_ffff_ffffn, 'below the mapping');
  t.equal(ddi_get32({} as never, 0n), 0xffffffff, 'a forged handle');
  t.equal(ddi_get8(null, 0n), 0xff, 'NULL handle');
  ddi_put8(null, 0n, 1);
  t.equal(ddi_check_acc_handle({} as never), DDI_FAILURE);
  t.equal(ddi_check_acc_handle(null), DDI_FAILURE);
});

t.test('ddi_regs_map_free: NULLs the handle; later accesses fault; double free is harmless', async (t) => {
  const { dip } = edu(t);
  const a = map(dip, 1);
  const h = { value: a.handle as ddi_acc_handle_t | null };
  ddi_regs_map_free(h);
  t.equal(h.value, null);
  t.equal(ddi_get32(a.handle, a.addr), 0xffffffff, 'freed handle reads all-ones');
  t.equal(ddi_check_acc_handle(a.handle), DDI_FAILURE);
  ddi_regs_map_free(h);
  ddi_regs_map_free({ value: {} as never });
  ddi_regs_map_free(null);
  t.pass('no throw');
});

t.test('a closed device: accesses fault, ddi_check_acc_handle → DDI_FAILURE, map_setup → DDI_FAILURE', async (t) => {
  const device = createEduDevice();
  const dip = ddi_dev_info(device);
  const a = map(dip, 1);
  t.equal(ddi_check_acc_handle(a.handle), DDI_SUCCESS);
  device.close();
  t.equal(ddi_check_acc_handle(a.handle), DDI_FAILURE);
  t.equal(ddi_get32(a.handle, a.addr), 0xffffffff);
  t.equal(map(dip, 1).status, DDI_FAILURE);
});

t.test('ddi_rep_get/put: AUTOINCR walks the registers, NO_AUTOINCR repeats one; bad buffers fault', async (t) => {
  const { dip } = edu(t);
  const a = map(dip, 1);
  const regs = a.addr + BigInt(EDU_REG.DMA_SRC);
  ddi_rep_put64(a.handle, new BigUint64Array([1n, 2n, 3n]), regs, 3, DDI_DEV_AUTOINCR);
  const back = new BigUint64Array(3);
  ddi_rep_get64(a.handle, back, regs, 3, DDI_DEV_AUTOINCR);
  t.same([...back], [1n, 2n, 3n], 'DMA_SRC, DMA_DST, DMA_CNT');
  ddi_rep_put32(a.handle, new Uint32Array([7, 8, 9]), a.addr + BigInt(EDU_REG.LIVENESS), 3, DDI_DEV_NO_AUTOINCR);
  const one = new Uint32Array(2);
  ddi_rep_get32(a.handle, one, a.addr + BigInt(EDU_REG.LIVENESS), 2, DDI_DEV_NO_AUTOINCR);
  t.same([...one], [~9 >>> 0, ~9 >>> 0], 'the last write won; both reads from the same register');
  t.equal(ddi_check_acc_handle(a.handle), DDI_SUCCESS);

  const cfg = map(dip, 0);
  const bytes = new Uint8Array(4);
  ddi_rep_get8(cfg.handle, bytes, cfg.addr, 4, DDI_DEV_AUTOINCR);
  t.same([...bytes], [0x34, 0x12, 0xe8, 0x11], 'vendor and device ID bytes');
  const words = new Uint16Array(2);
  ddi_rep_get16(cfg.handle, words, cfg.addr, 2, DDI_DEV_AUTOINCR);
  t.same([...words], [0x1234, 0x11e8], 'vendor and device ID words');
  ddi_rep_put8(cfg.handle, new Uint8Array([0x11, 0x22]), cfg.addr + BigInt(PCI_INTERRUPT_LINE), 2, DDI_DEV_NO_AUTOINCR);
  t.equal(ddi_get8(cfg.handle, cfg.addr + BigInt(PCI_INTERRUPT_LINE)), 0x22, 'rep_put8 without increment: the last byte stays');
  ddi_rep_put16(cfg.handle, new Uint16Array([0x0133]), cfg.addr + BigInt(PCI_INTERRUPT_LINE), 1, DDI_DEV_AUTOINCR);
  t.equal(ddi_get8(cfg.handle, cfg.addr + BigInt(PCI_INTERRUPT_LINE)), 0x33, 'rep_put16 reaches config space (Interrupt Line)');
  t.equal(ddi_check_acc_handle(cfg.handle), DDI_SUCCESS);

  const b = map(dip, 1, 0, 0x10);
  ddi_rep_get32(b.handle, new Uint32Array(8), b.addr, 8, DDI_DEV_AUTOINCR);
  t.equal(ddi_check_acc_handle(b.handle), DDI_FAILURE, 'the range leaves the mapping: nothing read');
  const c = map(dip, 1);
  ddi_rep_get32(c.handle, new Uint32Array(2), c.addr, 3, DDI_DEV_AUTOINCR);
  t.equal(ddi_check_acc_handle(c.handle), DDI_FAILURE, 'repcount beyond the host buffer');
  const d = map(dip, 1);
  ddi_rep_get32(d.handle, new Uint8Array(8) as never, d.addr, 2, DDI_DEV_AUTOINCR);
  t.equal(ddi_check_acc_handle(d.handle), DDI_FAILURE, 'a host buffer of the wrong type');
  const e = map(dip, 1);
  ddi_rep_get32(e.handle, new Uint32Array(0), e.addr, 0, DDI_DEV_AUTOINCR);
  t.equal(ddi_check_acc_handle(e.handle), DDI_SUCCESS, 'repcount 0 is nothing');
});
