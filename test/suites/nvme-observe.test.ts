/**
 * The NVMe conformance steps (nvme-observe.ts) on the emulated controller, pinned to QEMU 7.2's
 * nvme_init_pci / nvme_init_ctrl values and NVMe 1.4 — so a wrong step or a regression of the layout
 * is caught on the host; hw-tests/nvme-conformance.test.ts compares the same steps with the real
 * controller in the guest.
 */
import t from 'tap';
import { createNvmeDevice } from 'vfio-ddk/emu';
import { observeNvme } from './nvme-observe.ts';

t.test('emulated NVMe: observations follow QEMU 7.2', async (t) => {
  const device = createNvmeDevice();
  const seen = await observeNvme(device);
  device.close();
  t.same(seen.header, { ids: 0x00101b36, classRevision: 0x01080202, subsystem: 0x11001af4, headerType: 0, pin: 1, capList: true, configSize: 4096 });
  t.same(seen.bars.map((b) => [b.typeBits, b.sized, b.region]), [
    [0x4, 0xffffc004, 'size 0x4000'], [-1, 0xffffffff, 'error ENOENT'],
    [0, 0, 'error ENOENT'], [0, 0, 'error ENOENT'], [0, 0, 'error ENOENT'], [0, 0, 'error ENOENT'],
  ], 'BAR0: 64-bit memory, 16 KiB (upper half all-ones when sized); nothing else');
  t.same(seen.capabilities, [{ id: 0x11, offset: 0x40 }, { id: 0x10, offset: 0x80 }, { id: 0x01, offset: 0x60 }], 'MSI-X → PCIe → PM');
  t.same(seen.msix, { vectors: 65, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000, control: 64 });
  t.same(seen.pm, { pmc: 0x0003, pmcsr: 0x0008 });
  t.same(seen.pcie, { version: 2, devcap: 0x10008000, devcap2: 0x00300000, extendedHeader: 0 });
  t.same(seen.afterReset, { CAP: 0x0040_1820_0f01_07ffn, VS: 0x00010400, INTMS: 0, CC: 0, CSTS: 0, AQA: 0x00030003, CMBLOC: 0, CMBSZ: 0, ASQ: 0x1000n, ACQ: 0x2000n }, 'FLR keeps the admin queue registers');
  t.same(seen.bar0, { narrow: [0x0f01, 0x0001, 0x0400], doorbellRead: 0, vector0Control: 1, pba0: 0, unclaimed: [0, 0] });
  t.same(seen.enabled, { cc: 0x00460001, csts: 1 });
  t.same(seen.commands.map((c) => [c.status, c.phase, c.sqid, c.sqhd, c.cid, c.fires]), [[0, 1, 0, 1, 1, 1], [0, 1, 0, 2, 2, 1], [0, 1, 0, 3, 3, 1]]);
  t.equal(seen.commands[2]?.dw0, 0x003f003f, 'Number of Queues: 64 SQs / 64 CQs, 0\'s based');
  t.match(seen.identify, { VID: 0x1b36, SSVID: 0x1af4, SN: 'deadbeef', MN: 'QEMU NVMe Ctrl', FR: '7.2.0', MDTS: 7, VER: 0x00010400, SQES: 0x66, CQES: 0x44, NN: 256, SUBNQN: 'nqn.2019-08.org.qemu:deadbeef' });
  t.same(seen.namespace, { nsze: 131072n, ncap: 131072n, nuse: 131072n, lbaf0: 9 << 16 });
  t.equal(seen.msixEnabledDuringRun, true);
  t.same(seen.shutdown, { csts: 0x9, ccAfterDisable: 0, cstsAfterDisable: 0 }, 'shutdown complete; CC.EN 1→0 resets CC and CSTS');
});
