/** vfio-ddk — the idiomatic tier. */
export { DdkError } from './errors.ts';
export * from './pci/index.ts';
export * from './irq/index.ts';
