// Filled by the emu issue; see DESIGN.md.
export {};
