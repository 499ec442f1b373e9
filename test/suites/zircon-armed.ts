/**
 * A Zircon driver armed on a function with MSI-X, the way the removal tests need it on both backends
 * (test/zircon/removal.test.ts on the emulated test device, hw-tests/surprise-removal.test.ts on a real
 * e1000e): MSI-X with two vectors through Fuchsia's PCI protocol, vector 0 mapped for zx_interrupt_wait,
 * vector 1 bound to a port under IRQ_KEY, and the protocol channel's ZX_CHANNEL_PEER_CLOSED watched on
 * the same port under PEER_KEY. Imports the library only by package name (see hw-tests/README.md).
 */
import type { Test } from 'tap';
import {
  PCI_INTERRUPT_MODE_MSI_X, ZX_CHANNEL_PEER_CLOSED, ZX_OK, ZX_PORT_BIND_TO_INTERRUPT, zx_interrupt_bind,
  zx_object_wait_async, zx_port_create, type Pci,
} from 'vfio-ddk/zircon';

export const IRQ_KEY = 1n;
export const PEER_KEY = 2n;

/** Handles of the armed driver: the waited interrupt, the bound one, the port and the channel. */
export interface ArmedZircon {
  readonly waited: number;
  readonly bound: number;
  readonly port: number;
  readonly channel: number;
}

export function armZirconDriver(t: Test, pci: Pci): ArmedZircon {
  const handle = (): { value: number } => ({ value: 0 });
  const [waited, bound, port, channel] = [handle(), handle(), handle(), handle()];
  t.equal(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI_X, 2), ZX_OK);
  t.equal(pci.MapInterrupt(0, waited), ZX_OK);
  t.equal(pci.MapInterrupt(1, bound), ZX_OK);
  t.equal(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), ZX_OK);
  t.equal(zx_interrupt_bind(bound.value, port.value, IRQ_KEY, 0), ZX_OK);
  t.equal(pci.client_end(channel), ZX_OK);
  t.equal(zx_object_wait_async(channel.value, port.value, PEER_KEY, ZX_CHANNEL_PEER_CLOSED, 0), ZX_OK);
  return { waited: waited.value, bound: bound.value, port: port.value, channel: channel.value };
}
