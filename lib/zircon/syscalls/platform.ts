/** zx_platform_attach: the one non-Zircon bridge (API.md). */
import type { PciDevice } from '../../pci/device.ts';
import { platformAttach, type PlatformAttachment } from '../platform/platform.ts';

/**
 * Puts `device` on the current process's platform (idempotent: the same answer every time):
 * `ecam` (its 4 KiB config window), `bars` (BAR addresses, null where none), `irq` (platform number
 * of its INTx for zx_interrupt_create, null without a pin), `bti_id` (for zx_bti_create).
 * TypeError when `device` is not a PciDevice.
 */
export function zx_platform_attach(device: PciDevice): PlatformAttachment {
  return platformAttach(device);
}
