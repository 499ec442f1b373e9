/** Shared helpers for the PCI-protocol tests (test/zircon/bus-*.test.ts). */
import type { PciDevice } from 'vfio-ddk';
import {
  Pci, ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_OK, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, zx_vmar_map, zx_vmar_root_self,
  zx_vmo_set_cache_policy, type Mapping, type pci_bar_t,
} from 'vfio-ddk/zircon';

export function out<T>(initial: T): { value: T } {
  return { value: initial };
}

export function pciFor(device: unknown): Pci {
  return new Pci(device as PciDevice);
}

/** GetBar(id) → map its VMO (uncached, as fdf::MmioBuffer::Create does). Throws when any step fails. */
export function mapBar(pci: Pci, id: number): { bar: pci_bar_t; mmio: Mapping } {
  const bar = out<pci_bar_t | null>(null);
  const status = pci.GetBar(id, bar as { value: pci_bar_t });
  if (status !== ZX_OK || bar.value === null || !('vmo' in bar.value.result)) throw new Error(`GetBar(${id}): ${status}`);
  const vmo = bar.value.result.vmo;
  if (zx_vmo_set_cache_policy(vmo, ZX_CACHE_POLICY_UNCACHED_DEVICE) !== ZX_OK) throw new Error('zx_vmo_set_cache_policy');
  const mmio = out<Mapping | null>(null);
  if (zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0n, bar.value.size, mmio as { value: Mapping }) !== ZX_OK) {
    throw new Error('zx_vmar_map');
  }
  return { bar: bar.value, mmio: mmio.value as Mapping };
}

/** Resolves with the promise's value, or 'timeout' after `ms`. */
export async function within<T>(promise: Promise<T>, ms = 1000): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
