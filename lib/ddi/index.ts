// Filled by the ddi issue; see DESIGN.md.
export {};
