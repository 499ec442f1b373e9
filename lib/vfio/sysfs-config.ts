/**
 * Reading a device's interrupt capabilities from the bytes of its sysfs `config` file, without opening
 * it through VFIO: the INTx pin (PCI 3.0 §6.2.4), MSI (§6.8.1) and MSI-X (§6.8.2) through
 * lib/pci/capabilities.ts over a read-only `ConfigSpace`. Unprivileged readers get only the 64-byte
 * header, where the pin lives but the capability list does not, so capabilities are then "unknown".
 */
import { DdkError, checkAccess } from '../errors.ts';
import { findMsi, findMsix } from '../pci/capabilities.ts';
import type { ConfigSpace } from '../pci/device.ts';
import { PCI_CFG_SPACE_SIZE, PCI_INTERRUPT_PIN, PCI_INTERRUPT_PIN_NONE } from '../pci/regs.ts';

/** A `ConfigSpace` over a snapshot of config bytes; writes throw DdkError 'EROFS'. */
export function configSpaceFromBytes(bytes: Uint8Array): ConfigSpace {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('config bytes must be a Uint8Array');
  const copy = bytes.slice();
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  const readOnly = (): never => {
    throw new DdkError('EROFS', 'this config space is a sysfs snapshot: open the device through VFIO to write it');
  };
  return {
    size: copy.byteLength,
    read8(offset) { checkAccess('config', offset, 1, copy.byteLength); return view.getUint8(offset); },
    // PCI configuration space is little-endian (PCI 3.0 §6.1).
    read16(offset) { checkAccess('config', offset, 2, copy.byteLength); return view.getUint16(offset, true); },
    read32(offset) { checkAccess('config', offset, 4, copy.byteLength); return view.getUint32(offset, true); },
    write8: readOnly,
    write16: readOnly,
    write32: readOnly,
  };
}

export interface MsiSummary {
  readonly vectors: number;
  readonly is64: boolean;
  readonly perVectorMask: boolean;
}

export interface MsixSummary {
  readonly vectors: number;
  readonly tableBar: number;
  readonly tableOffset: number;
  readonly pbaBar: number;
  readonly pbaOffset: number;
}

export interface InterruptCapabilities {
  /** Bytes of config space this user could read (64 unprivileged, 256/4096 as root). */
  readonly configBytes: number;
  /** "INTA".."INTD"; null when the function has no INTx pin (Interrupt Pin register 0). */
  readonly intxPin: string | null;
  /** null: no MSI capability — or unknown when `capabilitiesKnown` is false. */
  readonly msi: MsiSummary | null;
  readonly msix: MsixSummary | null;
  /** False when the capability list was not readable (needs root): msi/msix are then null but unknown. */
  readonly capabilitiesKnown: boolean;
}

const PIN_NAMES = ['INTA', 'INTB', 'INTC', 'INTD'] as const;

/** Decodes INTx/MSI/MSI-X support from config bytes (any length; short reads give partial answers). */
export function interruptCapabilities(bytes: Uint8Array): InterruptCapabilities {
  const config = configSpaceFromBytes(bytes);
  const pinByte = config.size > PCI_INTERRUPT_PIN ? config.read8(PCI_INTERRUPT_PIN) : PCI_INTERRUPT_PIN_NONE;
  const intxPin = pinByte === PCI_INTERRUPT_PIN_NONE ? null : (PIN_NAMES[pinByte - 1] ?? `pin ${pinByte}`);
  if (config.size < PCI_CFG_SPACE_SIZE) {
    return { configBytes: config.size, intxPin, msi: null, msix: null, capabilitiesKnown: false };
  }
  const msi = findMsi(config);
  const msix = findMsix(config);
  return {
    configBytes: config.size,
    intxPin,
    msi: msi === null ? null : { vectors: msi.vectors, is64: msi.is64, perVectorMask: msi.perVectorMask },
    msix: msix === null ? null : {
      vectors: msix.vectors, tableBar: msix.tableBar, tableOffset: msix.tableOffset,
      pbaBar: msix.pbaBar, pbaOffset: msix.pbaOffset,
    },
    capabilitiesKnown: true,
  };
}

/** One line for tables: "INTA MSI×4/64/mask MSI-X×65" or "INTA (capabilities need root)". */
export function describeInterrupts(caps: InterruptCapabilities): string {
  const parts: string[] = [];
  if (caps.configBytes < PCI_INTERRUPT_PIN + 1) return 'config not readable';
  parts.push(caps.intxPin ?? 'no INTx');
  if (!caps.capabilitiesKnown) {
    parts.push('(capabilities need root)');
    return parts.join(' ');
  }
  if (caps.msi !== null) {
    const flags = [caps.msi.is64 ? '64-bit' : '32-bit', ...(caps.msi.perVectorMask ? ['maskable'] : [])];
    parts.push(`MSI×${caps.msi.vectors} (${flags.join(', ')})`);
  }
  if (caps.msix !== null) parts.push(`MSI-X×${caps.msix.vectors}`);
  return parts.join(' ');
}
