/**
 * `vfio-ddk/zircon`: Zircon's handle, interrupt, port, MSI, VMO and BTI syscalls with their C names,
 * C parameter order and numeric statuses (API.md; spec/zircon.md A.1–A.10), for one implicit current
 * process. Not a Zircon call: `zx_platform_attach(device)`, the bridge that puts a `PciDevice` on the
 * platform (physical address map, INTx interrupt number, bti_id).
 *
 * Argument rule. A value that C's compiler would reject throws a TypeError, synchronously, before
 * anything happens: a string or other non-number where a C integer goes, a non-integer number, a
 * number outside [-2^31, 2^32) for a uint32 (handles, rights, options, signals, ids), a number where
 * the contract says bigint (times, keys, sizes, addresses), an out-pointer that is neither an object
 * nor null, a non-Uint8Array buffer. Every value of the right JS type gets the status C would
 * return: unknown handles BAD_HANDLE, `null` out-pointers (NULL) INVALID_ARGS, out-of-range values
 * their documented status. uint32 arguments accept bit-31 values signed or unsigned; bigint
 * arguments are converted as C converts to uint64_t / int64_t. Blocking calls return a Promise that
 * only ever resolves (with the status); their TypeErrors are still thrown synchronously.
 *
 * Out-pointers are written only on success, except `observed` of zx_object_wait_one, which C writes
 * on TIMED_OUT and CANCELED too.
 */
import { kitCalls } from '../pci/trace-hook.ts';
import * as handle from './syscalls/handle.ts';
import * as object from './syscalls/object.ts';
import * as resource from './syscalls/resource.ts';
import * as interrupt from './syscalls/interrupt.ts';
import * as port from './syscalls/port.ts';
import * as msi from './syscalls/msi.ts';
import * as vmo from './syscalls/vmo.ts';
import * as vmar from './syscalls/vmar.ts';
import * as dma from './syscalls/dma.ts';
import * as clock from './syscalls/clock.ts';
import * as platform from './syscalls/platform.ts';
import * as msiCapability from './bus/msi-capability.ts';

export * from './constants/status.ts';
export * from './constants/rights.ts';
export * from './constants/object-types.ts';
export * from './constants/options.ts';
export type * from './types.ts';
export type { Mapping, zx_mapping_t } from './objects/mapping.ts';
export type { PlatformAttachment } from './platform/platform.ts';

// The C functions go through the trace switch (lib/pci/trace-hook.ts: one null check per call while off).
export const { zx_handle_close, zx_handle_duplicate, zx_handle_replace } = kitCalls('zircon', handle);
export const { zx_object_get_info, zx_object_signal, zx_object_wait_async, zx_object_wait_one } = kitCalls('zircon', object);
export const { get_root_resource, zx_resource_create } = kitCalls('zircon', resource);
export const {
  zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_create, zx_interrupt_destroy, zx_interrupt_trigger, zx_interrupt_wait,
} = kitCalls('zircon', interrupt);
export const { zx_port_create, zx_port_queue, zx_port_wait } = kitCalls('zircon', port);
export const { zx_msi_allocate, zx_msi_create } = kitCalls('zircon', msi);
export const {
  zx_vmo_create, zx_vmo_create_contiguous, zx_vmo_create_physical, zx_vmo_get_size, zx_vmo_read, zx_vmo_set_cache_policy,
  zx_vmo_write,
} = kitCalls('zircon', vmo);
export const { zx_vmar_map, zx_vmar_root_self, zx_vmar_unmap } = kitCalls('zircon', vmar);
export const { zx_bti_create, zx_bti_pin, zx_iommu_create, zx_pmt_unpin } = kitCalls('zircon', dma);
export const { zx_clock_get_boot, zx_clock_get_monotonic, zx_deadline_after } = kitCalls('zircon', clock);
export const { zx_platform_attach } = kitCalls('zircon', platform);
// The PCI bus driver's MSI step (not a syscall: what src/devices/bus/drivers/pci does before a driver gets interrupts).
export const { disableMsiCapability, programMsiCapability, setMsixEnable } = kitCalls('zircon', msiCapability);
// Fuchsia's PCI device protocol (fuchsia.hardware.pci/Device as ddk::Pci), served by the bus-driver layer in bus/.
export { Pci, type pci_bar_t, type pci_bar_result_t, type pci_device_info_t, type pci_interrupt_modes_t } from './bus/pci.ts';
export * from './bus/pci-constants.ts';

// The idiomatic tier (also re-exported by 'vfio-ddk').
export { Interrupt, MsiAllocation, Port, ZxError, type InterruptEvent } from './idiomatic.ts';
export { PortPacketBuffer } from './objects/port-packet-buffer.ts';
