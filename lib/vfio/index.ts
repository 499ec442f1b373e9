// Filled by the vfio issue; see DESIGN.md.
export {};
export * from './bdf.ts';
export * from './sysfs.ts';
export * from './sysfs-viability.ts';
export * from './sysfs-config.ts';
export * from './pci-ids.ts';
export * from './sysfs-resources.ts';
export * from './doctor.ts';
export * from './doctor-device.ts';
