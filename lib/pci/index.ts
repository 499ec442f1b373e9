export type * from './device.ts';
export * from './regs.ts';
export * from './vfio-indices.ts';
export * from './capabilities.ts';
export * from './nvme-regs.ts';
export * from './register-value.ts';
