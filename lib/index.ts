/** vfio-ddk — the idiomatic tier. */
export { DdkError } from './errors.ts';
export * from './pci/index.ts';
export * from './irq/index.ts';
export * from './pci/edu-regs.ts';
export * from './drivers/edu.ts';
export { QemuEduDevice, type EduFuchsiaMode, type FactorialCallback } from './drivers/edu-fuchsia.ts';
export * from './pci/host-memory.ts';
export { Interrupt, Port, MsiAllocation, ZxError, type InterruptEvent } from './zircon/idiomatic.ts';
export { PortPacketBuffer } from './zircon/objects/port-packet-buffer.ts';
export * from './drivers/nvme.ts';
