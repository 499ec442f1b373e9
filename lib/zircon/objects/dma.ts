/**
 * IOMMU, BTI and PMT objects. A BTI names one attached device's IOMMU domain (its `bti_id` from
 * zx_platform_attach); pinning maps a VMO's host memory there (`device.dma.map`) and the PMT holds
 * that mapping until zx_pmt_unpin (or its last handle closes: we unmap rather than quarantine).
 */
import type { DmaMapping, PciDevice } from '../../pci/device.ts';
import { ZX_OBJ_TYPE_BTI, ZX_OBJ_TYPE_IOMMU, ZX_OBJ_TYPE_PMT } from '../constants/object-types.ts';
import { KernelObject } from '../kernel/kernel-object.ts';
import type { VmoObject } from './vmo.ts';

export class IommuObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_IOMMU;
  constructor(readonly iommuType: number) {
    super();
  }
}

export class BtiObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_BTI;
  /** `device` null: a bti_id no attached device has, on the DUMMY IOMMU (DummyIommu accepts every id). */
  constructor(readonly iommu: IommuObject, readonly btiId: bigint, readonly device: PciDevice | null) {
    super();
  }
}

/**
 * DummyIommu::Map hands out the pages' physical addresses (no translation). Host memory has none
 * here, so a device-less BTI's pins get addresses from this synthetic bus-address range, page
 * aligned and never reused within the process (nothing can DMA to them: there is no device).
 */
const DUMMY_BUS_BASE = 0x10_0000_0000n;
let dummyCursor = DUMMY_BUS_BASE;

export function dummyMapping(size: number): DmaMapping {
  const iova = dummyCursor;
  dummyCursor += (BigInt(size) + 0xfffn) & ~0xfffn;
  return { iova, size, unmap() {} };
}

export class PmtObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_PMT;
  #mapping: DmaMapping | null;
  readonly #vmo: VmoObject;

  constructor(mapping: DmaMapping, vmo: VmoObject) {
    super();
    this.#mapping = mapping;
    this.#vmo = vmo;
    vmo.pins++;
  }

  unpin(): void {
    const mapping = this.#mapping;
    if (mapping === null) return;
    this.#mapping = null;
    try {
      mapping.unmap();
    } catch { /* the device closed: its domain is gone already */ }
    this.#vmo.pins--;
    this.#vmo.maybeFree();
  }

  override onZeroHandles(): void {
    this.unpin();
  }
}
