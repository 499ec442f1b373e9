// Filled by the zircon issue; see DESIGN.md.
export {};
