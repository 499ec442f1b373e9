/**
 * Config space of a VFIO device with MSI-X: the Function Mask bit (Message Control bit 14, PCI 3.0
 * §6.8.2.3) is virtualized with the table (vfio-msix-shadow.ts). vfio-pci gives the MSI-X capability
 * no write permissions (vfio_pci_config.c sets up none for PCI_CAP_ID_MSIX), so writes to Message
 * Control never reach the device — the kernel owns MSI-X Enable and the Function Mask. A write of the
 * Function Mask here is kept in the shadow (masking every vector's line); reads of Message Control
 * show the shadow's bit. Everything else goes to the kernel unchanged.
 */
import type { NativeAddon, RegionInfo } from '../native/addon-types.ts';
import { PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_MASKALL } from '../pci/regs.ts';
import type { DeviceGate } from './vfio-gate.ts';
import { VfioConfigSpace } from './vfio-config.ts';
import type { VfioMsixShadow } from './vfio-msix-shadow.ts';

export class VfioMsixConfigSpace extends VfioConfigSpace {
  readonly #shadow: VfioMsixShadow;
  /** Config offset of the Message Control word. */
  readonly #control: number;

  constructor(addon: NativeAddon, deviceFd: number, region: RegionInfo, gate: DeviceGate, shadow: VfioMsixShadow) {
    super(addon, deviceFd, region, gate);
    this.#shadow = shadow;
    this.#control = shadow.layout.offset + PCI_MSIX_FLAGS;
  }

  /** The Message Control bits [offset, offset+width) carry, as a mask over that access (0: none). */
  #maskAllBit(offset: number, width: number): number {
    const shift = (this.#control - offset) * 8;
    if (this.#control + 2 <= offset || this.#control >= offset + width) return 0;
    const bit = shift >= 0 ? PCI_MSIX_FLAGS_MASKALL << shift : PCI_MSIX_FLAGS_MASKALL >>> -shift;
    return (bit & (width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff)) >>> 0;
  }

  #shown(offset: number, width: number, value: number): number {
    const bit = this.#maskAllBit(offset, width);
    if (bit === 0) return value;
    return ((value & ~bit) | (this.#shadow.functionMask ? bit : 0)) >>> 0;
  }

  #written(offset: number, width: number, value: number): void {
    const bit = this.#maskAllBit(offset, width);
    if (bit !== 0) this.#shadow.setFunctionMask((value & bit) !== 0);
  }

  override read8(offset: number): number {
    return this.#shown(offset, 1, super.read8(offset));
  }

  override read16(offset: number): number {
    return this.#shown(offset, 2, super.read16(offset));
  }

  override read32(offset: number): number {
    return this.#shown(offset, 4, super.read32(offset));
  }

  override write8(offset: number, value: number): void {
    super.write8(offset, value);
    this.#written(offset, 1, value);
  }

  override write16(offset: number, value: number): void {
    super.write16(offset, value);
    this.#written(offset, 2, value);
  }

  override write32(offset: number, value: number): void {
    super.write32(offset, value);
    this.#written(offset, 4, value);
  }
}
