/**
 * Conformance steps for QEMU's NVMe controller (NVMe 1.4; QEMU 7.2 hw/nvme/ctrl.c): the same
 * register-level sequence on any `PciDevice`, returning what a driver can observe and what the
 * emulation (lib/emu/nvme.ts) claims to implement. hw-tests/nvme-conformance.test.ts runs it on the
 * emulated and on the real controller and asserts equality; test/suites/nvme-observe.test.ts pins the
 * emulated results on the host.
 *
 * Steps: config header, BAR registers and their sizing (all-ones written, read back, restored — the
 * address itself is the platform's and not observed), the capability list, MSI-X table location, PM
 * and PCI Express fields; AQA / ASQ / ACQ written, FLR (`reset()`), then CAP / VS / INTMS / CC / CSTS / AQA / ASQ / ACQ and the
 * MSI-X table and PBA as BAR0 reads; admin queues programmed and CC.EN = 1 (§7.6.1); Identify
 * Controller, Identify Namespace 1 and Get Features (Number of Queues) completed through MSI-X
 * vector 0, each awaited (counts do not depend on timing); shutdown (§7.6.2) and disable. Not observed
 * (machine or version dependent): BAR addresses, the PCI Express device type (QEMU reports an RC
 * integrated endpoint on a root bus), link fields, Identify fields the emulation leaves zero.
 * Imports the library only by package name (compiled for the guest too).
 */
import {
  IrqLine, NVME_ADMIN_OPC, NVME_CC_EN, NVME_CC_IOCQES_SHIFT, NVME_CC_IOSQES_SHIFT, NVME_CC_SHN_NORMAL, NVME_CC_SHN_SHIFT,
  NVME_CNS, NVME_CQE, NVME_CQES, NVME_CSTS_RDY, NVME_CSTS_SHST_COMPLETE, NVME_CSTS_SHST_MASK, NVME_FID, NVME_ID_CTRL,
  NVME_ID_NS, NVME_REG, NVME_SQE, NVME_SQES, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_CAP_ID_EXP, PCI_CAP_ID_PM, PCI_CLASS_REVISION,
  PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_EXP_DEVCAP, PCI_EXP_DEVCAP2, PCI_EXP_FLAGS, PCI_EXP_FLAGS_VERS,
  PCI_HEADER_TYPE, PCI_INTERRUPT_PIN, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS, PCI_PM_CTRL,
  PCI_PM_PMC, PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_STD_NUM_BARS, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID,
  VFIO_PCI_MSIX_IRQ_INDEX, findCapability, findMsix, listCapabilities, nvmeCqHeadDoorbell, nvmeSqTailDoorbell,
} from 'vfio-ddk';
import type { PciDevice } from 'vfio-ddk';

export interface NvmeObservations {
  header: { ids: number; classRevision: number; subsystem: number; headerType: number; pin: number; capList: boolean; configSize: number };
  bars: { register: number; typeBits: number; sized: number; region: string }[];
  capabilities: { id: number; offset: number }[];
  msix: { vectors: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number; control: number } | null;
  pm: { pmc: number; pmcsr: number } | null;
  pcie: { version: number; devcap: number; devcap2: number; extendedHeader: number } | null;
  afterReset: Record<string, number | bigint>;
  bar0: { narrow: number[]; doorbellRead: number; vector0Control: number; pba0: number; unclaimed: number[] };
  enabled: { cc: number; csts: number };
  commands: { what: string; status: number; phase: number; sqid: number; sqhd: number; cid: number; dw0: number; fires: number }[];
  identify: Record<string, number | string>;
  namespace: { nsze: bigint; ncap: bigint; nuse: bigint; lbaf0: number };
  msixEnabledDuringRun: boolean;
  shutdown: { csts: number; ccAfterDisable: number; cstsAfterDisable: number };
}

const ENTRIES = 8;
const CC_ENABLE = (NVME_SQES << NVME_CC_IOSQES_SHIFT) | (NVME_CQES << NVME_CC_IOCQES_SHIFT) | NVME_CC_EN;
const CQ_STATUS_SHIFT = 17;
const CQ_PHASE_SHIFT = 16;

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`nvme conformance: ${what} did not happen within ~3 s`);
}

function text(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length)).replace(/[\0 ]+$/, '');
}

/** Sizes a BAR register as firmware does: all-ones, read back, restore (PCI 3.0 §6.2.5.1). */
function sizeBarRegister(device: PciDevice, register: number): { typeBits: number; sized: number } {
  const cfg = device.config;
  const at = PCI_BASE_ADDRESS_0 + 4 * register;
  const original = cfg.read32(at);
  cfg.write32(at, 0xffffffff);
  const sized = cfg.read32(at);
  cfg.write32(at, original);
  return { typeBits: original & 0xf, sized };
}

function regionOf(device: PciDevice, index: number): string {
  try {
    return `size 0x${device.bar(index).size.toString(16)}`;
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? String(error)}`;
  }
}

export async function observeNvme(device: PciDevice): Promise<NvmeObservations> {
  const cfg = device.config;
  cfg.write16(PCI_COMMAND, cfg.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const header = {
    ids: cfg.read32(0),
    classRevision: cfg.read32(PCI_CLASS_REVISION),
    subsystem: (cfg.read16(PCI_SUBSYSTEM_ID) << 16 | cfg.read16(PCI_SUBSYSTEM_VENDOR_ID)) >>> 0,
    headerType: cfg.read8(PCI_HEADER_TYPE),
    pin: cfg.read8(PCI_INTERRUPT_PIN),
    capList: (cfg.read16(PCI_STATUS) & PCI_STATUS_CAP_LIST) !== 0,
    configSize: cfg.size,
  };
  // Memory decode off while the BARs hold all-ones, as firmware sizes them.
  const command = cfg.read16(PCI_COMMAND);
  cfg.write16(PCI_COMMAND, command & ~PCI_COMMAND_MEMORY);
  const bars = Array.from({ length: PCI_STD_NUM_BARS }, (_, register) => ({ register, ...sizeBarRegister(device, register), region: '' }));
  // The upper half of a 64-bit BAR holds address bits 63:32 (firmware may place it above 4 GiB): no type bits.
  for (const bar of bars) {
    const below = bars[bar.register - 1];
    if (below !== undefined && below.typeBits === PCI_BASE_ADDRESS_MEM_TYPE_64) bar.typeBits = -1;
  }
  cfg.write16(PCI_COMMAND, command);
  for (const bar of bars) bar.region = regionOf(device, bar.register);

  const layout = findMsix(cfg);
  const msix = layout === null ? null : { ...layout, control: cfg.read16(layout.offset + PCI_MSIX_FLAGS) };
  if (msix !== null) delete (msix as { offset?: number }).offset;
  const pmAt = findCapability(cfg, PCI_CAP_ID_PM);
  const expAt = findCapability(cfg, PCI_CAP_ID_EXP);
  const pm = pmAt === null ? null : { pmc: cfg.read16(pmAt + PCI_PM_PMC), pmcsr: cfg.read16(pmAt + PCI_PM_CTRL) };
  const pcie = expAt === null ? null : {
    version: cfg.read16(expAt + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_VERS,
    devcap: cfg.read32(expAt + PCI_EXP_DEVCAP),
    devcap2: cfg.read32(expAt + PCI_EXP_DEVCAP2),
    extendedHeader: cfg.size > 0x100 ? cfg.read32(0x100) : -1,
  };

  // Admin queue registers written before the FLR: what the reset does to them is observed below.
  const bar = device.bar(0);
  bar.write32(NVME_REG.AQA, 0x0003_0003);
  bar.write64(NVME_REG.ASQ, 0x1000n);
  bar.write64(NVME_REG.ACQ, 0x2000n);
  device.reset();
  cfg.write16(PCI_COMMAND, cfg.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const afterReset: Record<string, number | bigint> = { CAP: bar.read64(NVME_REG.CAP) };
  for (const name of ['VS', 'INTMS', 'CC', 'CSTS', 'AQA', 'CMBLOC', 'CMBSZ'] as const) afterReset[name] = bar.read32(NVME_REG[name]);
  afterReset.ASQ = bar.read64(NVME_REG.ASQ);
  afterReset.ACQ = bar.read64(NVME_REG.ACQ);
  const tableAt = layout?.tableOffset ?? 0;
  const bar0 = {
    // 16-bit reads only: QEMU's MMIO ops have min_access_size 2, and under TCG an 8-bit load of BAR0 + 1
    // returned the widened 16-bit value (0x0107) — not something a driver can rely on.
    narrow: [bar.read16(NVME_REG.CAP + 2), bar.read16(NVME_REG.VS + 2), bar.read16(NVME_REG.VS)],
    doorbellRead: bar.read32(nvmeSqTailDoorbell(0, 0)),
    vector0Control: layout?.tableBar === 0 ? bar.read32(tableAt + PCI_MSIX_ENTRY_VECTOR_CTRL) : -1,
    pba0: layout?.pbaBar === 0 ? bar.read32(layout.pbaOffset) : -1,
    // Inside BAR0 but outside registers, table and PBA (QEMU decodes nothing there).
    unclaimed: layout === null ? [] : [bar.read32(tableAt + layout.vectors * PCI_MSIX_ENTRY_SIZE + 0x100), bar.read32(Number(bar.size) - 4)],
  };

  const asq = device.dma.alloc(4096);
  const acq = device.dma.alloc(4096);
  const data = device.dma.alloc(8192);
  const line = new IrqLine('nvme conformance');
  const fired: number[] = [];
  line.setConsumer({ fire: (count) => { fired.push(count); } });
  device.irq.attach(VFIO_PCI_MSIX_IRQ_INDEX, 0, line);
  try {
    bar.write32(NVME_REG.AQA, ((ENTRIES - 1) << 16) | (ENTRIES - 1));
    bar.write64(NVME_REG.ASQ, asq.iova);
    bar.write64(NVME_REG.ACQ, acq.iova);
    bar.write32(NVME_REG.CC, CC_ENABLE);
    await until('CSTS.RDY = 1 after CC.EN = 1', () => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_RDY) !== 0);
    const enabled = { cc: bar.read32(NVME_REG.CC), csts: bar.read32(NVME_REG.CSTS) };
    const msixEnabledDuringRun = layout !== null && (cfg.read16(layout.offset + PCI_MSIX_FLAGS) & 0x8000) !== 0;

    const sq = new DataView(asq.bytes.buffer, asq.bytes.byteOffset, 4096);
    const cq = new DataView(acq.bytes.buffer, acq.bytes.byteOffset, 4096);
    const commands: NvmeObservations['commands'] = [];
    let tail = 0;
    const run = async (what: string, opcode: number, nsid: number, cdw10: number): Promise<void> => {
      const cid = commands.length + 1;
      const at = tail * 64;
      for (let i = 0; i < 64; i += 4) sq.setUint32(at + i, 0, true);
      sq.setUint32(at + NVME_SQE.CDW0, (opcode | (cid << 16)) >>> 0, true);
      sq.setUint32(at + NVME_SQE.NSID, nsid, true);
      sq.setBigUint64(at + NVME_SQE.PRP1, data.iova, true);
      sq.setUint32(at + NVME_SQE.CDW10, cdw10, true);
      const before = fired.length;
      tail = (tail + 1) % ENTRIES;
      bar.write32(nvmeSqTailDoorbell(0, 0), tail);
      await until(`the MSI-X vector 0 interrupt of ${what}`, () => fired.length > before);
      const c = (tail + ENTRIES - 1) % ENTRIES * 16;
      const dw2 = cq.getUint32(c + NVME_CQE.DW2, true);
      const dw3 = cq.getUint32(c + NVME_CQE.DW3, true);
      commands.push({
        what, status: dw3 >>> CQ_STATUS_SHIFT, phase: (dw3 >>> CQ_PHASE_SHIFT) & 1, sqid: dw2 >>> 16, sqhd: dw2 & 0xffff,
        cid: dw3 & 0xffff, dw0: cq.getUint32(c + NVME_CQE.DW0, true), fires: fired.slice(before).reduce((a, b) => a + b, 0),
      });
      bar.write32(nvmeCqHeadDoorbell(0, 0), tail);
    };
    await run('Identify Controller', NVME_ADMIN_OPC.IDENTIFY, 0, NVME_CNS.CONTROLLER);
    const id = data.bytes.slice(0, 4096);
    const v = new DataView(id.buffer);
    const identify: Record<string, number | string> = {
      VID: v.getUint16(NVME_ID_CTRL.VID, true), SSVID: v.getUint16(NVME_ID_CTRL.SSVID, true),
      SN: text(id, NVME_ID_CTRL.SN, 20), MN: text(id, NVME_ID_CTRL.MN, 40), FR: text(id, NVME_ID_CTRL.FR, 8),
      RAB: id[NVME_ID_CTRL.RAB] as number, IEEE: v.getUint32(NVME_ID_CTRL.IEEE - 1, true) >>> 8, MDTS: id[NVME_ID_CTRL.MDTS] as number,
      VER: v.getUint32(NVME_ID_CTRL.VER, true), CNTRLTYPE: id[NVME_ID_CTRL.CNTRLTYPE] as number,
      OACS: v.getUint16(NVME_ID_CTRL.OACS, true), ACL: id[NVME_ID_CTRL.ACL] as number, AERL: id[NVME_ID_CTRL.AERL] as number,
      SQES: id[NVME_ID_CTRL.SQES] as number, CQES: id[NVME_ID_CTRL.CQES] as number, MAXCMD: v.getUint16(NVME_ID_CTRL.MAXCMD, true),
      NN: v.getUint32(NVME_ID_CTRL.NN, true), SUBNQN: text(id, NVME_ID_CTRL.SUBNQN, 256),
    };
    await run('Identify Namespace 1', NVME_ADMIN_OPC.IDENTIFY, 1, NVME_CNS.NAMESPACE);
    const ns = new DataView(data.bytes.buffer, data.bytes.byteOffset, 4096);
    const namespace = {
      nsze: ns.getBigUint64(NVME_ID_NS.NSZE, true), ncap: ns.getBigUint64(NVME_ID_NS.NCAP, true),
      nuse: ns.getBigUint64(NVME_ID_NS.NUSE, true), lbaf0: ns.getUint32(NVME_ID_NS.LBAF, true),
    };
    await run('Get Features (Number of Queues)', NVME_ADMIN_OPC.GET_FEATURES, 0, NVME_FID.NUMBER_OF_QUEUES);

    bar.write32(NVME_REG.CC, bar.read32(NVME_REG.CC) | (NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT));
    await until('CSTS.SHST = complete', () => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_SHST_MASK) === NVME_CSTS_SHST_COMPLETE);
    const shutdownCsts = bar.read32(NVME_REG.CSTS);
    bar.write32(NVME_REG.CC, CC_ENABLE & ~NVME_CC_EN);
    const ccAfterDisable = bar.read32(NVME_REG.CC);
    await until('CSTS.RDY = 0 after CC.EN = 0', () => (bar.read32(NVME_REG.CSTS) & NVME_CSTS_RDY) === 0);
    const shutdown = { csts: shutdownCsts, ccAfterDisable, cstsAfterDisable: bar.read32(NVME_REG.CSTS) };
    const capabilities = listCapabilities(cfg).map((c) => ({ id: c.id, offset: c.offset }));
    return {
      header, bars, capabilities, msix, pm, pcie, afterReset, bar0, enabled, commands, identify, namespace, msixEnabledDuringRun, shutdown,
    };
  } finally {
    device.irq.detach(VFIO_PCI_MSIX_IRQ_INDEX, 0);
    for (const buffer of [asq, acq, data]) buffer.free();
  }
}

