/** Shared pieces of the ddi DMA tests: attributes, an emulated edu with its BAR0 mapped through ddi_regs_*, an edu DMA. */
import {
  DDI_DEVICE_ATTR_V0, DDI_STRICTORDER_ACC, DDI_STRUCTURE_LE_ACC, DDI_SUCCESS, DMA_ATTR_V0, ddi_dev_info, ddi_get32,
  ddi_put32, ddi_put64, ddi_regs_map_setup, delay, type ddi_acc_handle_t, type ddi_device_acc_attr_t, type ddi_dma_attr_t,
  type dev_info_t,
} from 'vfio-ddk/ddi';
import { createEduDevice, type EduDevice } from 'vfio-ddk/emu';
import { EDU_DMA_DIR, EDU_DMA_RUN, EDU_DMA_START, EDU_REG } from '../../lib/pci/edu-regs.ts';

export const LE: ddi_device_acc_attr_t = {
  devacc_attr_version: DDI_DEVICE_ATTR_V0, devacc_attr_endian_flags: DDI_STRUCTURE_LE_ACC, devacc_attr_dataorder: DDI_STRICTORDER_ACC,
};

/** edu's DMA reach (28 bits, spec/edu.md D.5), one cookie, byte granularity. */
export function eduAttr(over: Partial<ddi_dma_attr_t> = {}): ddi_dma_attr_t {
  return {
    dma_attr_version: DMA_ATTR_V0,
    dma_attr_addr_lo: 0n,
    dma_attr_addr_hi: 0x0fff_ffffn,
    dma_attr_count_max: 0xffff_ffffn,
    dma_attr_align: 0x1000n,
    dma_attr_burstsizes: 0x7ff,
    dma_attr_minxfer: 1,
    dma_attr_maxxfer: 0xffff_ffffn,
    dma_attr_seg: 0xffff_ffff_ffff_ffffn,
    dma_attr_sgllen: 1,
    dma_attr_granular: 1,
    dma_attr_flags: 0,
    ...over,
  };
}

export interface EduRig {
  device: EduDevice;
  dip: dev_info_t;
  regs: ddi_acc_handle_t;
  base: bigint;
}

export function eduRig(t: { teardown(fn: () => void): void }): EduRig {
  const device = createEduDevice();
  t.teardown(() => device.close());
  const dip = ddi_dev_info(device);
  const addr = { value: 0n };
  const h: { value: ddi_acc_handle_t | null } = { value: null };
  if (ddi_regs_map_setup(dip, 1, addr, 0, 0, LE, h) !== DDI_SUCCESS) throw new Error('BAR0 map failed');
  return { device, dip, regs: h.value as ddi_acc_handle_t, base: addr.value };
}

/** One edu DMA through ddi_put/ddi_get: `toRam` false = RAM → device buffer, true = device buffer → RAM. */
export async function eduDma(rig: EduRig, iova: bigint, count: number, toRam: boolean): Promise<void> {
  const { regs, base } = rig;
  const buf = BigInt(EDU_DMA_START);
  ddi_put64(regs, base + BigInt(EDU_REG.DMA_SRC), toRam ? buf : iova);
  ddi_put64(regs, base + BigInt(EDU_REG.DMA_DST), toRam ? iova : buf);
  ddi_put64(regs, base + BigInt(EDU_REG.DMA_CNT), BigInt(count));
  ddi_put32(regs, base + BigInt(EDU_REG.DMA_CMD), EDU_DMA_RUN | (toRam ? EDU_DMA_DIR : 0));
  for (let i = 0; i < 200 && (ddi_get32(regs, base + BigInt(EDU_REG.DMA_CMD)) & EDU_DMA_RUN) !== 0; i++) await delay(0);
}
