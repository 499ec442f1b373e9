/**
 * NVMe Identify Controller the way a Fuchsia NVMe driver reaches the controller: only through the PCI
 * device protocol and syscalls (src/devices/block/drivers/nvme/nvme.cc: GetBar(0) → MmioBuffer,
 * GetBti(0), SetInterruptMode(MSI_X, 1), MapInterrupt(0); queues and the data buffer are VMOs pinned
 * through the BTI). Shared by test/zircon/bus-nvme-identify.test.ts (emulated controller) and
 * hw-tests/fuchsia-pci-nvme.test.ts (QEMU's real one over VFIO). Register steps: NVMe 1.4 §7.6.1
 * (controller initialisation) and §5.15 (Identify). Throws Error naming the step that failed.
 */
import type { PciDevice } from 'vfio-ddk';
import {
  NVME_ADMIN_OPC, NVME_AQA_ACQS_SHIFT, NVME_CAP_TO_UNIT_MS, NVME_CC_CSS_NVM, NVME_CC_CSS_SHIFT, NVME_CC_EN,
  NVME_CC_IOCQES_SHIFT, NVME_CC_IOSQES_SHIFT, NVME_CNS, NVME_CQE, NVME_CQE_PHASE, NVME_CQE_SIZE, NVME_CQE_STATUS_SHIFT,
  NVME_CQES, NVME_CSTS_RDY, NVME_IDENTIFY_DATA_SIZE, NVME_REG, NVME_SQE, NVME_SQE_CID_SHIFT, NVME_SQE_SIZE, NVME_SQES,
  nvmeCapField, nvmeCqHeadDoorbell, nvmeSqTailDoorbell,
} from 'vfio-ddk';
import {
  PCI_INTERRUPT_MODE_DISABLED, PCI_INTERRUPT_MODE_MSI_X, Pci, ZX_BTI_PERM_READ, ZX_BTI_PERM_WRITE,
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_OK, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, zx_bti_pin, zx_handle_close,
  zx_interrupt_wait, zx_pmt_unpin, zx_vmar_map, zx_vmar_root_self, zx_vmar_unmap, zx_vmo_create, zx_vmo_read,
  zx_vmo_set_cache_policy, zx_vmo_write, type Mapping, type pci_bar_t,
} from 'vfio-ddk/zircon';

export interface FuchsiaIdentifyResult {
  serial: string;
  model: string;
  firmware: string;
  /** The completion's interrupt: zx_interrupt_wait's status and timestamp. */
  waitStatus: number;
  timestamp: bigint;
  /** IOVAs the BTI pins returned (admin SQ, admin CQ, data). */
  iovas: bigint[];
}

const PAGE = 4096n;
const QUEUE_ENTRIES = 8;
const IDENTIFY_CID = 0x2a;

function check(status: number, what: string): void {
  if (status !== ZX_OK) throw new Error(`${what}: status ${status}`);
}

const ascii = (bytes: Uint8Array): string => new TextDecoder().decode(bytes).replace(/[\s\0]+$/, '');

async function waitFor(mmio: Mapping, ready: boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (((mmio.read32(NVME_REG.CSTS) & NVME_CSTS_RDY) !== 0) !== ready) {
    if (Date.now() > deadline) throw new Error(`${what}: CSTS.RDY did not become ${ready ? 1 : 0} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A one-page VMO pinned for the device; its IOVA. */
function pinnedPage(bti: number, handles: { vmos: number[]; pmts: number[] }, what: string): { vmo: number; iova: bigint } {
  const vmo = { value: 0 };
  check(zx_vmo_create(PAGE, 0, vmo), `zx_vmo_create(${what})`);
  handles.vmos.push(vmo.value);
  const addrs = [0n];
  const pmt = { value: 0 };
  check(zx_bti_pin(bti, ZX_BTI_PERM_READ | ZX_BTI_PERM_WRITE, vmo.value, 0n, PAGE, addrs, 1, pmt), `zx_bti_pin(${what})`);
  handles.pmts.push(pmt.value);
  return { vmo: vmo.value, iova: addrs[0] as bigint };
}

export async function fuchsiaNvmeIdentify(device: PciDevice, timeoutMs = 5000): Promise<FuchsiaIdentifyResult> {
  const pci = new Pci(device);
  const handles = { vmos: [] as number[], pmts: [] as number[] };
  let mmio: Mapping | null = null;
  let irq = 0;
  let bti = 0;
  try {
    // Registers: BAR0 as a VMO, mapped uncached (fdf::MmioBuffer::Create).
    const bar = { value: null as unknown as pci_bar_t };
    check(pci.GetBar(0, bar), 'GetBar(0)');
    if (!('vmo' in bar.value.result)) throw new Error('BAR0 is not MMIO');
    const barVmo = bar.value.result.vmo;
    check(zx_vmo_set_cache_policy(barVmo, ZX_CACHE_POLICY_UNCACHED_DEVICE), 'zx_vmo_set_cache_policy(BAR0)');
    const mapping = { value: null as unknown as Mapping };
    check(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, barVmo, 0n, bar.value.size, mapping), 'zx_vmar_map(BAR0)');
    zx_handle_close(barVmo);
    mmio = mapping.value;
    // DMA: the function's BTI; interrupts: one MSI-X vector.
    const btiOut = { value: 0 };
    check(pci.GetBti(0, btiOut), 'GetBti(0)');
    bti = btiOut.value;
    check(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 1), 'SetInterruptMode(MSI_X, 1)');
    const irqOut = { value: 0 };
    check(pci.MapInterrupt(0, irqOut), 'MapInterrupt(0)');
    irq = irqOut.value;

    // §7.6.1: disable, wait !RDY, admin queues, enable, wait RDY.
    const cap = mmio.read64(NVME_REG.CAP);
    const readyMs = Math.max(nvmeCapField(cap, 'TO') * NVME_CAP_TO_UNIT_MS, 500);
    const dstrd = nvmeCapField(cap, 'DSTRD');
    mmio.write32(NVME_REG.CC, 0);
    await waitFor(mmio, false, readyMs, 'controller disable');
    const sq = pinnedPage(bti, handles, 'admin SQ');
    const cq = pinnedPage(bti, handles, 'admin CQ');
    const data = pinnedPage(bti, handles, 'identify data');
    mmio.write32(NVME_REG.AQA, ((QUEUE_ENTRIES - 1) << NVME_AQA_ACQS_SHIFT) | (QUEUE_ENTRIES - 1));
    mmio.write64(NVME_REG.ASQ, sq.iova);
    mmio.write64(NVME_REG.ACQ, cq.iova);
    mmio.write32(NVME_REG.CC, NVME_CC_EN | (NVME_CC_CSS_NVM << NVME_CC_CSS_SHIFT)
      | (NVME_SQES << NVME_CC_IOSQES_SHIFT) | (NVME_CQES << NVME_CC_IOCQES_SHIFT));
    await waitFor(mmio, true, readyMs, 'controller enable');

    // §5.15 Identify Controller (CNS 1) into the data page; the completion interrupts on vector 0.
    const sqe = new DataView(new ArrayBuffer(NVME_SQE_SIZE));
    sqe.setUint32(NVME_SQE.CDW0, NVME_ADMIN_OPC.IDENTIFY | (IDENTIFY_CID << NVME_SQE_CID_SHIFT), true);
    sqe.setBigUint64(NVME_SQE.PRP1, data.iova, true);
    sqe.setUint32(NVME_SQE.CDW10, NVME_CNS.CONTROLLER, true);
    check(zx_vmo_write(sq.vmo, new Uint8Array(sqe.buffer), 0n), 'zx_vmo_write(SQE)');
    const timestamp = { value: 0n };
    const wait = zx_interrupt_wait(irq, timestamp);
    mmio.write32(nvmeSqTailDoorbell(0, dstrd), 1);
    let timer: NodeJS.Timeout | undefined;
    const waitStatus = await Promise.race([wait, new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); })]);
    clearTimeout(timer);
    if (waitStatus === 'timeout') throw new Error(`Identify: no MSI-X interrupt within ${timeoutMs} ms`);
    const cqe = new Uint8Array(NVME_CQE_SIZE);
    check(zx_vmo_read(cq.vmo, cqe, 0n), 'zx_vmo_read(CQE)');
    const dw3 = new DataView(cqe.buffer).getUint32(NVME_CQE.DW3, true);
    if ((dw3 & NVME_CQE_PHASE) === 0) throw new Error('Identify: the interrupt came but the CQE has no phase tag');
    if ((dw3 & 0xffff) !== IDENTIFY_CID || dw3 >>> NVME_CQE_STATUS_SHIFT !== 0) throw new Error(`Identify: CQE DW3 0x${dw3.toString(16)}`);
    mmio.write32(nvmeCqHeadDoorbell(0, dstrd), 1);
    const id = new Uint8Array(NVME_IDENTIFY_DATA_SIZE);
    check(zx_vmo_read(data.vmo, id, 0n), 'zx_vmo_read(identify data)');
    mmio.write32(NVME_REG.CC, 0); // leave the controller disabled
    await waitFor(mmio, false, readyMs, 'controller disable');
    // Identify Controller: SN bytes 23:04, MN 63:24, FR 71:64 (ASCII, space padded).
    return {
      serial: ascii(id.subarray(4, 24)), model: ascii(id.subarray(24, 64)), firmware: ascii(id.subarray(64, 72)),
      waitStatus, timestamp: timestamp.value, iovas: [sq.iova, cq.iova, data.iova],
    };
  } finally {
    if (irq !== 0) zx_handle_close(irq);
    if (pci.is_valid()) pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0);
    for (const pmt of handles.pmts) zx_pmt_unpin(pmt);
    for (const vmo of handles.vmos) zx_handle_close(vmo);
    if (bti !== 0) zx_handle_close(bti);
    if (mmio !== null) zx_vmar_unmap(zx_vmar_root_self(), mmio, BigInt(mmio.size));
  }
}
