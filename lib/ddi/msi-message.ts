/**
 * The MSI messages the nexus programs, x86 style (Intel SDM vol. 3 §11.11: address 0xFEExxxxx with the
 * destination APIC ID in bits 19:12; data = vector, edge, fixed delivery). Nothing on the host decodes
 * them — the backend routes by vector index — but they are what a real x86 illumos would write, so the
 * capability looks right to anyone reading it.
 */
export const X86_MSI_ADDR_BASE = 0xfee00000;
export const X86_MSI_ADDR_DEST_SHIFT = 12;
/** First vector handed to devices (below 0x20 are exceptions; illumos APIX starts above them). */
export const X86_MSI_FIRST_VECTOR = 0x40;
/** Vectors per CPU used before moving to the next destination. */
export const X86_VECTORS_PER_CPU = 160;

/** MSI: one block; MME low bits of data carry the vector number, so the base is aligned to 32. */
export function msiMessage(): { address: number; data: number } {
  return { address: X86_MSI_ADDR_BASE, data: X86_MSI_FIRST_VECTOR };
}

/** MSI-X entry `inum`: its own vector, spread over destinations like APIX spreads over CPUs. */
export function msixMessage(inum: number): { address: number; data: number } {
  const cpu = Math.floor(inum / X86_VECTORS_PER_CPU);
  return {
    address: (X86_MSI_ADDR_BASE | (cpu << X86_MSI_ADDR_DEST_SHIFT)) >>> 0,
    data: X86_MSI_FIRST_VECTOR + (inum % X86_VECTORS_PER_CPU),
  };
}
