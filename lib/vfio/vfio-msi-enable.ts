/**
 * MSI / MSI-X Enable written through config space, turned into VFIO_DEVICE_SET_IRQS — what QEMU's
 * vfio-pci does when a guest's driver enables MSI (hw/vfio/pci.c vfio_pci_write_config →
 * vfio_msi_enable / vfio_msix_enable). The kernel alone would not act on it: vfio-pci's
 * vfio_msi_config_write keeps MSI Enable clear unless the MSI index was set up by ioctl ("MSI is
 * enabled via ioctl"), and the MSI-X capability has no write permissions at all (vfio_pci_config.c).
 *
 * This is how a bus driver that programs the capability itself (Fuchsia's, from ZX_INFO_MSI) gets
 * interrupts: Enable 0 → 1 sets up 2^MME MSI vectors (MME clamped to MMC, as QEMU's msi_write_config)
 * or every MSI-X table entry, and each fire reaches the message sink with the message the vector
 * carries — the capability's address/data as the driver wrote them (vfio-pci virtualises them; read
 * back after each write and cached here) or the shadowed MSI-X entry (vfio-msix-shadow.ts). Enable
 * 1 → 0 tears it down. When `attach` already enabled the index (a kernel-style owner such as the DDI
 * nexus, which programs the capability after attaching), the write passes through untouched.
 */
import type { MsiLayout, MsixLayout } from '../pci/capabilities.ts';
import { PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE } from '../pci/regs.ts';
import { VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../pci/vfio-indices.ts';
import type { ConfigWriteTrap, VfioConfigSpace } from './vfio-config.ts';
import type { MessageSource, VfioInterrupts } from './vfio-interrupts.ts';
import type { VfioMsixShadow } from './vfio-msix-shadow.ts';

/** Bit position of Multiple Message Enable in MSI Message Control. */
const MME_SHIFT = 4;
const MESSAGE_CONTROL_BYTES = 2;

/** The 16-bit register at `at` after a write of `value` ([offset, offset+width)) over its `old` value. */
export function mergedWord(old: number, at: number, offset: number, width: number, value: number): number {
  let word = old;
  for (let byte = 0; byte < MESSAGE_CONTROL_BYTES; byte++) {
    const position = at + byte - offset;
    if (position < 0 || position >= width) continue;
    const written = (value >>> (8 * position)) & 0xff;
    word = (word & ~(0xff << (8 * byte))) | (written << (8 * byte));
  }
  return word & 0xffff;
}

function touches(offset: number, width: number, start: number, length: number): boolean {
  return offset < start + length && start < offset + width;
}

export class VfioMsiEnableTrap implements ConfigWriteTrap {
  readonly #irq: VfioInterrupts;
  readonly #msi: MsiLayout | null;
  readonly #msiEnd: number;
  readonly #msix: MsixLayout | null;
  readonly #shadow: VfioMsixShadow | null;
  #msiByConfig = false;
  #msixByConfig = false;
  /** The MSI message as the capability holds it (read back after each write to the capability). */
  #addressLo = 0;
  #addressHi = 0;
  #data = 0;
  #msiVectors = 1;
  readonly #msiSource: MessageSource = {
    addressLo: () => this.#addressLo,
    addressHi: () => this.#addressHi,
    // PCI 3.0 §6.8.1.6: the function puts the vector number in the low log2(MME) bits of the data.
    data: (v) => ((this.#data & ~(this.#msiVectors - 1)) | v) >>> 0,
  };
  readonly #msixSource: MessageSource;

  constructor(irq: VfioInterrupts, msi: MsiLayout | null, msix: MsixLayout | null, shadow: VfioMsixShadow | null) {
    this.#irq = irq;
    this.#msi = msi;
    this.#msiEnd = msi === null ? 0 : (msi.pending ?? msi.data + 2) + (msi.pending === null ? 0 : 4);
    this.#msix = msix;
    this.#shadow = shadow;
    this.#msixSource = {
      addressLo: (v) => shadow?.entryAddressLo(v) ?? 0,
      addressHi: (v) => shadow?.entryAddressHi(v) ?? 0,
      data: (v) => shadow?.entryData(v) ?? 0,
    };
  }

  covers(offset: number, width: number): boolean {
    const msi = this.#msi;
    if (msi !== null && touches(offset, width, msi.offset, this.#msiEnd - msi.offset)) return true;
    const msix = this.#msix;
    return msix !== null && touches(offset, width, msix.offset + PCI_MSIX_FLAGS, MESSAGE_CONTROL_BYTES);
  }

  write(offset: number, width: 1 | 2 | 4, value: number, config: VfioConfigSpace): void {
    const msi = this.#msi;
    if (msi !== null && touches(offset, width, msi.offset, this.#msiEnd - msi.offset)) this.#writeMsi(msi, offset, width, value, config);
    else this.#writeMsix(this.#msix as MsixLayout, offset, width, value, config);
  }

  #writeMsi(msi: MsiLayout, offset: number, width: 1 | 2 | 4, value: number, config: VfioConfigSpace): void {
    const flagsAt = msi.offset + PCI_MSI_FLAGS;
    if (!touches(offset, width, flagsAt, MESSAGE_CONTROL_BYTES)) {
      config.rawWrite(offset, width, value);
      this.#refreshMessage(msi, config);
      return;
    }
    const flags = mergedWord(config.rawRead(flagsAt, 2), flagsAt, offset, width, value);
    const enable = (flags & PCI_MSI_FLAGS_ENABLE) !== 0;
    if (enable && !this.#msiByConfig) {
      const mme = Math.min((flags & PCI_MSI_FLAGS_QSIZE) >> MME_SHIFT, Math.log2(msi.vectors));
      this.#msiVectors = 1 << mme;
      this.#refreshMessage(msi, config);
      this.#msiByConfig = this.#irq.configEnable(VFIO_PCI_MSI_IRQ_INDEX, this.#msiVectors, this.#msiSource);
      config.rawWrite(offset, width, value);
      return;
    }
    config.rawWrite(offset, width, value);
    if (!enable && this.#msiByConfig) {
      this.#msiByConfig = false;
      this.#irq.configDisable(VFIO_PCI_MSI_IRQ_INDEX);
    }
  }

  #refreshMessage(msi: MsiLayout, config: VfioConfigSpace): void {
    this.#addressLo = config.rawRead(msi.addressLo, 4) >>> 0;
    this.#addressHi = msi.addressHi === null ? 0 : config.rawRead(msi.addressHi, 4) >>> 0;
    this.#data = config.rawRead(msi.data, 2);
  }

  #writeMsix(msix: MsixLayout, offset: number, width: 1 | 2 | 4, value: number, config: VfioConfigSpace): void {
    const controlAt = msix.offset + PCI_MSIX_FLAGS;
    const control = mergedWord(config.rawRead(controlAt, 2), controlAt, offset, width, value);
    const enable = (control & PCI_MSIX_FLAGS_ENABLE) !== 0;
    if (enable && !this.#msixByConfig && this.#shadow !== null) {
      this.#msixByConfig = this.#irq.configEnable(VFIO_PCI_MSIX_IRQ_INDEX, msix.vectors, this.#msixSource);
    }
    config.rawWrite(offset, width, value);
    if (!enable && this.#msixByConfig) {
      this.#msixByConfig = false;
      this.#irq.configDisable(VFIO_PCI_MSIX_IRQ_INDEX);
    }
  }

  /** The device is closing or the index was torn down underneath (reset): forget what config enabled. */
  forget(): void {
    this.#msiByConfig = false;
    this.#msixByConfig = false;
  }
}
