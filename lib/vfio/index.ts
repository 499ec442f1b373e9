// Filled by the vfio issue; see DESIGN.md.
export {};
