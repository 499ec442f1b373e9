/**
 * The platform's MSI decoder — the x86 local APIC as message-signalled interrupts reach it. A device
 * message is a write of `data` to `address`; on x86 an address in the 0xFEEx_xxxx window is an
 * interrupt and data bits 7:0 name the vector (Intel SDM vol. 3 §11.11 "Message Signalled
 * Interrupts"). The vector allocator (msi-vectors.ts) hands out target_addr 0xFEE00000 and
 * target_data = vector; `zx_msi_create` registers its interrupt object's line for vector
 * `target_data + msi_id` (zircon/kernel/object/msi_dispatcher.cc registers the handler with the
 * platform's MSI allocation, it does not program the capability).
 *
 * So a device's MSI reaches an interrupt object only when its capability (or MSI-X entry) holds that
 * address and data — which is the PCI bus driver's job (Fuchsia's src/devices/bus/drivers/pci programs
 * them from ZX_INFO_MSI), as on real hardware. Anything else is counted, never delivered.
 */
import type { IrqLine } from '../../irq/irq-line.ts';
import type { MsiMessageSink } from '../../pci/device.ts';
import { MSI_TARGET_ADDR } from './msi-vectors.ts';

/** Address bits 31:20 of an interrupt message (the LAPIC window 0xFEE0_0000–0xFEEF_FFFF). */
const LAPIC_WINDOW_MASK = 0xfff0_0000;
const LAPIC_WINDOW = (Number(MSI_TARGET_ADDR) & LAPIC_WINDOW_MASK) >>> 0;
/** Data bits 7:0: the vector. */
const MSI_DATA_VECTOR_MASK = 0xff;
const VECTOR_COUNT = 256;

const lines: (IrqLine | null)[] = new Array<IrqLine | null>(VECTOR_COUNT).fill(null);

/** Messages that named a vector no interrupt object has (spurious), or were not interrupts at all. */
export const msiDecodeCounters = { spurious: 0, notInterrupt: 0 };

/** Routes `vector` to `line` (an MSI interrupt object's). A vector has at most one handler. */
export function registerMsiVector(vector: number, line: IrqLine): void {
  lines[vector & MSI_DATA_VECTOR_MASK] = line;
}

export function unregisterMsiVector(vector: number, line: IrqLine): void {
  const v = vector & MSI_DATA_VECTOR_MASK;
  if (lines[v] === line) lines[v] = null;
}

/** The sink every platform-attached device's messages go to (PciInterrupts.setMessageSink). */
export const platformMessageSink: MsiMessageSink = {
  message(addressLo, addressHi, data, count, stamps) {
    if (addressHi !== 0 || ((addressLo & LAPIC_WINDOW_MASK) >>> 0) !== LAPIC_WINDOW) {
      msiDecodeCounters.notInterrupt += count;
      return;
    }
    const line = lines[data & MSI_DATA_VECTOR_MASK];
    if (line == null) {
      msiDecodeCounters.spurious += count;
      return;
    }
    if (stamps !== null) line.deliver(count, stamps);
    else line.fire(count);
  },
};
