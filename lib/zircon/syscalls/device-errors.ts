/** How a backend's exception (PciInterrupts.attach, PciDma.map) becomes a Zircon status. */
import { DdkError } from '../../errors.ts';
import {
  ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE, ZX_ERR_INTERNAL, ZX_ERR_INVALID_ARGS, ZX_ERR_NO_MEMORY, ZX_ERR_NO_RESOURCES,
} from '../constants/status.ts';

export function statusFromDeviceError(error: unknown): number {
  if (error instanceof RangeError) return ZX_ERR_INVALID_ARGS; // vector / size outside what the device has
  if (error instanceof DdkError || (typeof error === 'object' && error !== null && 'code' in error)) {
    switch ((error as { code: unknown }).code) {
      case 'EEXIST': return ZX_ERR_ALREADY_BOUND; // vector already has a handler
      case 'EBUSY': case 'ECLOSED': return ZX_ERR_BAD_STATE; // another IRQ index active / device closed
      case 'ENOSPC': return ZX_ERR_NO_RESOURCES;
      case 'ENOMEM': return ZX_ERR_NO_MEMORY;
      case 'EINVAL': return ZX_ERR_INVALID_ARGS;
      default: return ZX_ERR_INTERNAL;
    }
  }
  return ZX_ERR_INTERNAL;
}
