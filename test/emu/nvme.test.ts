import t from 'tap';
import { createNvmeDevice, createTestDevice } from 'vfio-ddk/emu';
import {
  PCI_CLASS_REVISION, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_INTERRUPT_PIN, PCI_MSIX_ENTRY_VECTOR_CTRL,
  VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, findMsix,
} from '../../lib/pci/index.ts';
import {
  NVME_ADMIN_OPC, NVME_CNS, NVME_CSTS_CFS, NVME_CSTS_RDY, NVME_CSTS_SHST_COMPLETE, NVME_CSTS_SHST_MASK,
  NVME_CSTS_SHST_OCCURRING, NVME_FID, NVME_ID_CTRL, NVME_QEMU_CAP, NVME_REG, NVME_SC, NVME_STATUS_DNR,
  nvmeCqHeadDoorbell, nvmeSqTailDoorbell,
} from '../../lib/pci/nvme-regs.ts';
import { recordingLine, turn, until } from './helpers.ts';

const CC_CONFIG = (6 << 16) | (4 << 20);
const ENTRIES = 4;

/** A controller with BME on and admin queue memory mapped; nothing programmed yet. */
function controller(options: Parameters<typeof createNvmeDevice>[0] = {}) {
  const dev = createNvmeDevice(options);
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const bar = dev.bar(0);
  const asq = dev.dma.alloc(4096);
  const acq = dev.dma.alloc(4096);
  const data = dev.dma.alloc(8192);
  let tail = 0;
  let head = 0;
  const program = (asqIova = asq.iova, cc = CC_CONFIG): void => {
    bar.write32(NVME_REG.AQA, ((ENTRIES - 1) << 16) | (ENTRIES - 1));
    bar.write64(NVME_REG.ASQ, asqIova);
    bar.write64(NVME_REG.ACQ, acq.iova);
    bar.write32(NVME_REG.CC, cc | 1);
  };
  const enable = async (): Promise<void> => {
    program();
    await until(() => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_RDY) !== 0);
  };
  /** Writes an admin command at the SQ tail and rings the doorbell. */
  const submit = (opcode: number, cid: number, fields: { nsid?: number; cdw10?: number; cdw11?: number; prp1?: bigint } = {}): void => {
    const sqe = new DataView(asq.bytes.buffer, asq.bytes.byteOffset + tail * 64, 64);
    for (let i = 0; i < 64; i += 4) sqe.setUint32(i, 0, true);
    sqe.setUint32(0, (opcode | (cid << 16)) >>> 0, true);
    sqe.setUint32(4, fields.nsid ?? 0, true);
    sqe.setBigUint64(24, fields.prp1 ?? data.iova, true);
    sqe.setUint32(40, fields.cdw10 ?? 0, true);
    sqe.setUint32(44, fields.cdw11 ?? 0, true);
    tail = (tail + 1) % ENTRIES;
    bar.write32(nvmeSqTailDoorbell(0, 0), tail);
  };
  /** The CQ entry at `index`: dw0, SQ head, SQ id, CID, phase, status. */
  const cqe = (index: number) => {
    const view = new DataView(acq.bytes.buffer, acq.bytes.byteOffset + index * 16, 16);
    const dw2 = view.getUint32(8, true);
    const dw3 = view.getUint32(12, true);
    return { dw0: view.getUint32(0, true), sqHead: dw2 & 0xffff, sqId: dw2 >>> 16, cid: dw3 & 0xffff, phase: (dw3 >>> 16) & 1, status: dw3 >>> 17 };
  };
  const consume = (): void => {
    head = (head + 1) % ENTRIES;
    bar.write32(nvmeCqHeadDoorbell(0, 0), head);
  };
  return { dev, bar, asq, acq, data, program, enable, submit, cqe, consume };
}

t.test('identity: 1b36:0010 rev 2, class 010802, INTA, MSI-X 65 vectors in BAR0 (0x2000 / 0x3000), no MSI, BAR0 16 KiB, FLR', async (t) => {
  const { dev } = controller();
  t.equal(dev.config.read32(0), 0x00101b36);
  t.equal(dev.config.read32(PCI_CLASS_REVISION), 0x01080202);
  t.equal(dev.config.read8(PCI_INTERRUPT_PIN), 1);
  t.match(findMsix(dev.config), { offset: 0x40, vectors: 65, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 });
  t.same([dev.irq.info(VFIO_PCI_INTX_IRQ_INDEX).count, dev.irq.info(VFIO_PCI_MSI_IRQ_INDEX).count, dev.irq.info(VFIO_PCI_MSIX_IRQ_INDEX).count], [1, 0, 65]);
  t.equal(dev.bar(0).size, 0x4000n);
  t.doesNotThrow(() => dev.reset());
  dev.close();
});

t.test('registers: CAP and VS as QEMU 7.2 reports them, read-only; narrow reads; narrow writes ignored', async (t) => {
  const { dev, bar } = controller();
  t.equal(bar.read64(NVME_REG.CAP), NVME_QEMU_CAP);
  t.equal(bar.read32(NVME_REG.CAP), 0x0f0107ff, 'MQES 0x7ff, CQR, TO 15');
  t.equal(bar.read32(NVME_REG.CAP + 4), 0x00401820, 'DSTRD 0, CSS NVM|CSI|admin-only, MPSMIN 0, MPSMAX 4');
  t.equal(bar.read32(NVME_REG.VS), 0x00010400);
  bar.write32(NVME_REG.CAP, 0);
  bar.write32(NVME_REG.VS, 0);
  t.equal(bar.read32(NVME_REG.CAP), 0x0f0107ff);
  t.equal(bar.read32(NVME_REG.VS), 0x00010400);
  t.equal(bar.read16(NVME_REG.VS + 2), 1);
  t.equal(bar.read8(NVME_REG.CAP + 3), 0x0f, 'TO byte');
  t.equal(bar.read32(NVME_REG.CSTS), 0, 'power-on CSTS');
  bar.write16(NVME_REG.AQA, 0x55);
  t.equal(bar.read32(NVME_REG.AQA), 0);
  t.match(dev.deviceErrors[0]?.message, /2-byte write/);
  bar.write64(NVME_REG.ASQ, 0x1_2345_6000n);
  t.equal(bar.read64(NVME_REG.ASQ), 0x1_2345_6000n, 'ASQ takes a 64-bit write');
  t.equal(bar.read32(0x1000), 0, 'doorbells read 0');
  dev.close();
});

t.test('CC.EN 0→1 sets CSTS.RDY on the event loop; 1→0 clears it; FLR = controller reset keeping AQA/ASQ/ACQ', async (t) => {
  const { dev, bar, enable } = controller();
  const pending = enable();
  t.equal(bar.read32(NVME_REG.CSTS) & NVME_CSTS_RDY, 0, 'not ready inside the CC write');
  await pending;
  t.equal(bar.read32(NVME_REG.CSTS), NVME_CSTS_RDY);
  bar.write32(NVME_REG.CC, CC_CONFIG);
  await until(() => bar.read32(NVME_REG.CSTS) === 0);
  await enable();
  const aqa = bar.read32(NVME_REG.AQA);
  dev.reset();
  t.same([NVME_REG.CC, NVME_REG.CSTS, NVME_REG.INTMS].map((r) => bar.read32(r)), [0, 0, 0]);
  t.equal(bar.read32(NVME_REG.AQA), aqa, 'FLR keeps AQA / ASQ / ACQ (QEMU 7.2 nvme_ctrl_reset)');
  t.not(bar.read64(NVME_REG.ASQ), 0n);
  dev.powerCycle();
  t.same([NVME_REG.AQA, NVME_REG.ASQ, NVME_REG.ACQ].map((r) => bar.read32(r)), [0, 0, 0], 'a power cycle clears them');
  t.same(dev.deviceErrors, []);
  dev.close();
});

t.test('a bad enable (ASQ 0, wrong IOSQES) sets CSTS.CFS; CC.EN = 0 clears it (a controller reset)', async (t) => {
  const { dev, bar, program, enable } = controller();
  program(0n);
  await until(() => bar.read32(NVME_REG.CSTS) !== 0);
  t.equal(bar.read32(NVME_REG.CSTS), NVME_CSTS_CFS);
  bar.write32(NVME_REG.CC, CC_CONFIG);
  t.equal(bar.read32(NVME_REG.CC), 0, 'CC.EN 1→0: nvme_ctrl_reset zeroes CC');
  await until(() => bar.read32(NVME_REG.CSTS) === 0);
  program(undefined, 7 << 16);
  await until(() => bar.read32(NVME_REG.CSTS) !== 0);
  t.equal(bar.read32(NVME_REG.CSTS), NVME_CSTS_CFS);
  t.match(dev.deviceErrors.map((e) => e.message), [/ASQ\/ACQ is zero/, /IOSQES/]);
  bar.write32(NVME_REG.CC, 0);
  await until(() => bar.read32(NVME_REG.CSTS) === 0);
  await enable();
  t.equal(bar.read32(NVME_REG.CSTS), NVME_CSTS_RDY, 'a good enable: CSTS = RDY exactly');
  dev.close();
});

t.test('CC takes every write; CC.EN 1→0 after a shutdown clears SHST with the rest of CSTS (QEMU 7.2)', async (t) => {
  const { dev, bar, enable } = controller();
  await enable();
  const cc = bar.read32(NVME_REG.CC);
  bar.write32(NVME_REG.CC, cc | (1 << 14));
  t.equal(bar.read32(NVME_REG.CC), cc | (1 << 14));
  await until(() => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_SHST_MASK) === NVME_CSTS_SHST_COMPLETE);
  bar.write32(NVME_REG.CC, CC_CONFIG);
  t.equal(bar.read32(NVME_REG.CC), 0, 'reset: CC 0');
  await until(() => bar.read32(NVME_REG.CSTS) === 0);
  t.pass('disable: CSTS 0, SHST gone');
  bar.write32(NVME_REG.INTMS, 1);
  await enable();
  bar.write32(NVME_REG.CC, 0);
  t.equal(bar.read32(NVME_REG.INTMS), 0, 'the controller reset cleared INTMS');
  dev.close();
});

t.test('CC.SHN: SHST occurring, then complete; SHN = 0 clears it', async (t) => {
  const { dev, bar, enable } = controller();
  await enable();
  bar.write32(NVME_REG.CC, CC_CONFIG | 1 | (1 << 14));
  t.equal(bar.read32(NVME_REG.CSTS) & NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_OCCURRING);
  await until(() => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_SHST_MASK) === NVME_CSTS_SHST_COMPLETE);
  bar.write32(NVME_REG.CC, CC_CONFIG | 1);
  t.equal(bar.read32(NVME_REG.CSTS), NVME_CSTS_RDY);
  dev.close();
});

t.test('SQ doorbell → Identify executes, the CQ entry carries CID, SQ head, status and the phase tag', async (t) => {
  const { dev, enable, submit, cqe, consume, data } = controller();
  await enable();
  submit(NVME_ADMIN_OPC.IDENTIFY, 0x1234, { cdw10: NVME_CNS.CONTROLLER });
  await until(() => cqe(0).phase === 1);
  t.same(cqe(0), { dw0: 0, sqHead: 1, sqId: 0, cid: 0x1234, phase: 1, status: 0 });
  t.equal(Buffer.from(data.bytes.subarray(NVME_ID_CTRL.SN, NVME_ID_CTRL.SN + 20)).toString('latin1'), 'deadbeef            ');
  t.equal(Buffer.from(data.bytes.subarray(NVME_ID_CTRL.MN, NVME_ID_CTRL.MN + 14)).toString('latin1'), 'QEMU NVMe Ctrl');
  t.equal(data.bytes[0], 0x36, 'VID 0x1b36 little-endian');
  consume();
  submit(NVME_ADMIN_OPC.GET_FEATURES, 2, { cdw10: NVME_FID.NUMBER_OF_QUEUES });
  submit(0xee, 3);
  submit(NVME_ADMIN_OPC.IDENTIFY, 4, { cdw10: NVME_CNS.NAMESPACE, nsid: 1 });
  await until(() => cqe(3).phase === 1);
  t.match(cqe(1), { cid: 2, dw0: 0x003f003f, status: 0 });
  t.match(cqe(2), { cid: 3, status: NVME_SC.INVALID_OPCODE | NVME_STATUS_DNR });
  t.match(cqe(3), { cid: 4, status: 0, sqHead: 0 });
  t.equal(new DataView(data.bytes.buffer, data.bytes.byteOffset).getBigUint64(0, true), 131072n, 'NSZE: 64 MiB of 512-byte blocks');
  consume();
  consume();
  consume();
  submit(NVME_ADMIN_OPC.IDENTIFY, 5, { cdw10: NVME_CNS.ACTIVE_NS_LIST });
  await until(() => cqe(0).phase === 0);
  t.match(cqe(0), { cid: 5, phase: 0, status: 0 }, 'the phase tag inverts after the CQ wraps');
  t.same([...data.bytes.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 0], 'active namespace list: NSID 1');
  t.equal(dev.commandsExecuted, 5);
  dev.close();
});

t.test('a full CQ holds commands back until the head doorbell frees an entry', async (t) => {
  const { dev, enable, submit, cqe, consume } = controller();
  await enable();
  for (let cid = 1; cid <= 3; cid++) submit(NVME_ADMIN_OPC.GET_FEATURES, cid, { cdw10: NVME_FID.ARBITRATION });
  await until(() => cqe(2).phase === 1);
  submit(NVME_ADMIN_OPC.GET_FEATURES, 4, { cdw10: NVME_FID.ARBITRATION });
  await turn();
  await new Promise((resolve) => setTimeout(resolve, 2));
  t.equal(dev.commandsExecuted, 3, 'CQ of 4 entries holds 3');
  consume();
  await until(() => cqe(3).phase === 1);
  t.equal(cqe(3).cid, 4);
  dev.close();
});

t.test('unmapped SQ memory: the fetch faults in the IOMMU and the controller reports Fatal Status', async (t) => {
  const { dev, bar, program, cqe } = controller();
  program(0x7000_0000n);
  await until(() => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_RDY) !== 0);
  bar.write32(nvmeSqTailDoorbell(0, 0), 1);
  await until(() => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_CFS) !== 0);
  t.match(dev.iommuFaults, [{ iova: 0x7000_0000n, direction: 'read' }]);
  t.equal(cqe(0).phase, 0, 'no completion posted');
  t.match(dev.deviceErrors.at(-1)?.message, /command fetch .* blocked by the IOMMU; CSTS.CFS/);
  dev.close();
});

t.test('Identify into unmapped memory completes with Data Transfer Error', async (t) => {
  const { dev, enable, submit, cqe } = controller();
  await enable();
  submit(NVME_ADMIN_OPC.IDENTIFY, 9, { cdw10: NVME_CNS.CONTROLLER, prp1: 0x6000_0000n });
  await until(() => cqe(0).phase === 1);
  t.equal(cqe(0).status, NVME_SC.DATA_TRANSFER_ERROR | NVME_STATUS_DNR);
  t.match(dev.iommuFaults, [{ iova: 0x6000_0000n, direction: 'write' }]);
  dev.close();
});

t.test('without Bus Master Enable nothing is fetched: CSTS.CFS', async (t) => {
  const { dev, bar, enable, submit } = controller();
  await enable();
  dev.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY);
  submit(NVME_ADMIN_OPC.IDENTIFY, 1, { cdw10: NVME_CNS.CONTROLLER });
  await until(() => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_CFS) !== 0);
  t.match(dev.deviceErrors.at(-1)?.message, /Bus Master Enable is clear/);
  dev.close();
});

t.test('MSI-X: the admin CQ signals vector 0; a masked vector is held pending and sent on unmask', async (t) => {
  const { dev, bar, enable, submit, cqe, consume } = controller();
  const rec = recordingLine('nvme-v0');
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, rec.line);
  await enable();
  submit(NVME_ADMIN_OPC.IDENTIFY, 1, { cdw10: NVME_CNS.CONTROLLER });
  await until(() => rec.total() === 1);
  t.equal(rec.line.deliveries, 1);
  consume();
  const msix = dev.bar(0);
  const entry0 = 0x2000;
  const pba = 0x3000;
  msix.write32(entry0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
  submit(NVME_ADMIN_OPC.IDENTIFY, 2, { cdw10: NVME_CNS.CONTROLLER });
  await until(() => cqe(1).phase === 1);
  await turn();
  t.equal(rec.total(), 1, 'masked: no message');
  t.equal(msix.read32(pba) & 1, 1, 'PBA bit 0 set');
  msix.write32(entry0 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
  await until(() => rec.total() === 2);
  t.equal(msix.read32(pba) & 1, 0);
  bar.write32(NVME_REG.INTMS, 1);
  t.match(dev.deviceErrors.at(-1)?.message, /INTMS\/INTMC accessed while MSI-X is enabled/);
  consume();
  submit(NVME_ADMIN_OPC.IDENTIFY, 3, { cdw10: NVME_CNS.CONTROLLER });
  await until(() => rec.total() === 3);
  t.pass('INTMS has no effect on MSI-X');
  dev.close();
});

t.test('INTx (no MSI-X): level while the CQ has entries, masked by INTMS, dropped by the head doorbell', async (t) => {
  const { dev, bar, enable, submit, cqe, consume } = controller();
  const rec = recordingLine('nvme-intx');
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, rec.line);
  await enable();
  bar.write32(NVME_REG.INTMS, 1);
  submit(NVME_ADMIN_OPC.IDENTIFY, 1, { cdw10: NVME_CNS.CONTROLLER });
  await until(() => cqe(0).phase === 1);
  t.equal(dev.irq.intxLevel, false, 'INTMS bit 0 masks');
  bar.write32(NVME_REG.INTMC, 1);
  t.equal(dev.irq.intxLevel, true);
  await until(() => rec.total() === 1);
  consume();
  t.equal(dev.irq.intxLevel, false, 'CQ empty: level drops');
  t.same(dev.deviceErrors, []);
  dev.close();
});

t.test('Create / Delete I/O CQ and SQ; Flush on the I/O queue; queue rules', async (t) => {
  const { dev, bar, enable, submit, cqe, consume } = controller();
  await enable();
  const io = dev.dma.alloc(8192);
  const ioSq = io.iova;
  const ioCq = io.iova + 4096n;
  submit(NVME_ADMIN_OPC.CREATE_IO_CQ, 1, { cdw10: (1 << 16) | 1, cdw11: 1, prp1: ioCq });
  submit(NVME_ADMIN_OPC.CREATE_IO_SQ, 2, { cdw10: (1 << 16) | 1, cdw11: (1 << 16) | 1, prp1: ioSq });
  submit(NVME_ADMIN_OPC.SET_FEATURES, 3, { cdw10: NVME_FID.NUMBER_OF_QUEUES, cdw11: 0 });
  await until(() => cqe(2).phase === 1);
  t.same([cqe(0).status, cqe(1).status, cqe(2).status], [0, 0, NVME_SC.COMMAND_SEQUENCE_ERROR | NVME_STATUS_DNR]);
  new DataView(io.bytes.buffer, io.bytes.byteOffset).setUint32(0, 7 << 16, true);
  bar.write32(nvmeSqTailDoorbell(1, 0), 1);
  const ioCqe = new DataView(io.bytes.buffer, io.bytes.byteOffset + 4096);
  await until(() => ((ioCqe.getUint32(12, true) >>> 16) & 1) === 1);
  t.equal(ioCqe.getUint32(12, true), (1 << 16) | 7, 'Flush completed on CQ 1, CID 7, success');
  t.equal(ioCqe.getUint32(8, true), (1 << 16) | 1, 'SQ 1, head 1');
  consume();
  consume();
  consume();
  submit(NVME_ADMIN_OPC.DELETE_IO_CQ, 4, { cdw10: 1 });
  await until(() => cqe(3).phase === 1);
  t.equal(cqe(3).status, NVME_SC.INVALID_QUEUE_DELETION | NVME_STATUS_DNR, 'an SQ still uses CQ 1');
  consume();
  submit(NVME_ADMIN_OPC.DELETE_IO_SQ, 5, { cdw10: 1 });
  submit(NVME_ADMIN_OPC.DELETE_IO_CQ, 6, { cdw10: 1 });
  submit(NVME_ADMIN_OPC.CREATE_IO_SQ, 7, { cdw10: (1 << 16) | 1, cdw11: (5 << 16) | 1, prp1: ioSq });
  await until(() => cqe(2).phase === 0);
  t.same([cqe(0).status, cqe(1).status, cqe(2).status], [0, 0, NVME_SC.CQ_INVALID | NVME_STATUS_DNR]);
  dev.close();
});

t.test('inlineCommands: the doorbell write completes the command before it returns; the MSI-X still comes later', async (t) => {
  const { dev, bar, enable, submit, cqe, consume } = controller({ inlineCommands: true });
  const line = recordingLine();
  dev.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, line.line);
  await enable();
  submit(NVME_ADMIN_OPC.IDENTIFY, 0x21, { cdw10: NVME_CNS.CONTROLLER });
  t.match(cqe(0), { cid: 0x21, phase: 1, status: 0, sqHead: 1 }, 'posted inside the SQ tail doorbell write');
  t.equal(line.counts.length, 0, 'the interrupt is not delivered inside the write');
  await turn();
  t.equal(line.counts.length, 1, 'it is delivered on the next turn (or by a blocking wait, which drains scheduled lines)');
  consume();
  t.equal(dev.commandsExecuted, 1);
  t.equal(bar.read32(NVME_REG.CSTS) & NVME_CSTS_CFS, 0);
  t.throws(() => createNvmeDevice({ inlineCommands: true, commandDelayMs: 5 }), RangeError, 'no delay when inline');
  t.throws(() => createNvmeDevice({ inlineCommands: 'yes' as unknown as boolean }), RangeError);
  dev.close();
});

t.test('bad options are refused; the test device is not an NVMe controller', async (t) => {
  t.throws(() => createNvmeDevice({ serial: 'x'.repeat(21) }), RangeError);
  t.throws(() => createNvmeDevice({ serial: 'tab\there' }), RangeError);
  t.throws(() => createNvmeDevice({ namespaceBytes: 1000 }), RangeError);
  t.throws(() => createNvmeDevice({ readyDelayMs: -1 }), RangeError);
  t.throws(() => createNvmeDevice(null as unknown as object), RangeError);
  const other = createTestDevice({});
  t.not(other.config.read32(PCI_CLASS_REVISION) >>> 8, 0x010802);
  other.close();
});
