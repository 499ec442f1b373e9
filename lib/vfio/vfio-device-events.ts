/**
 * The two VFIO interrupt indices that are not the device's own: the device request (VFIO_PCI_REQ_IRQ_INDEX)
 * and the error (VFIO_PCI_ERR_IRQ_INDEX) eventfds (include/uapi/linux/vfio.h; vfio_pci_core.c
 * vfio_pci_core_request signals the request eventfd when the kernel wants the device back — an unbind,
 * a hot-unplug — and waits for userspace to release it; without one it logs "No device request channel
 * registered, blocked until released by user", shared/qemu-guest.md).
 *
 * At open, each index the kernel offers gets one eventfd with an unref'd watcher (it never keeps the
 * process alive). A request calls the `onRemovalRequest` listeners and then closes the device, so the
 * kernel's unbind completes: interrupts are disabled (pending waits end CANCELED), DMA is unmapped,
 * every fd is closed. An error (AER) calls the `onError` listeners; what to do is the driver's.
 */
import type { NativeAddon } from '../native/addon-types.ts';
import { Eventfd } from '../native/eventfd.ts';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD } from '../native/vfio-uapi.ts';
import { VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX } from '../pci/vfio-indices.ts';
import { DeviceListeners } from '../pci/listeners.ts';

export type DeviceEvent = 'removal-request' | 'error';

/** A failure while handling a kernel event, as a warning (the event handler itself must not throw). */
function report(event: DeviceEvent, what: 'listener' | 'close', error: unknown): void {
  if (error === null) return;
  process.emitWarning(`VFIO ${event}: ${what === 'listener' ? 'a listener' : 'closing the device'} threw: ${error instanceof Error ? error.message : String(error)}`,
    { type: 'VfioWarning', code: 'VFIO_DEVICE_EVENT_THREW' });
}

export class VfioDeviceEvents {
  readonly #eventfds: Eventfd[] = [];
  readonly #listeners = { 'removal-request': new DeviceListeners('onRemovalRequest'), error: new DeviceListeners('onError') };
  /** Which indices the kernel offered (and we subscribed to). */
  readonly offered: { removalRequest: boolean; error: boolean } = { removalRequest: false, error: false };

  /** Subscribes to REQ and ERR where the kernel has them; `onRequest` runs after the listeners. */
  constructor(addon: NativeAddon, deviceFd: number, onRequest: () => void) {
    for (const [index, event] of [[VFIO_PCI_REQ_IRQ_INDEX, 'removal-request'], [VFIO_PCI_ERR_IRQ_INDEX, 'error']] as const) {
      let count = 0;
      try {
        count = addon.vfioDeviceGetIrqInfo(deviceFd, index).count;
      } catch {
        continue; // the kernel has no such index for this device
      }
      if (count < 1) continue;
      const efd = new Eventfd(addon);
      try {
        efd.watch(() => {
          efd.read();
          // On the loop, from the kernel: nothing may throw out of here (it would be an uncaught
          // exception). The device is released whatever a listener or the close did; failures are warned.
          report(event, 'listener', this.#listeners[event].emit());
          if (event === 'removal-request') {
            try {
              onRequest();
            } catch (error) {
              report(event, 'close', error);
            }
          }
        }).unref();
        addon.vfioDeviceSetIrqs(deviceFd, { index, flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 1, fds: [efd.fd] });
      } catch {
        efd.close(); // not offered after all (e.g. ERR without AER): the device works without it
        continue;
      }
      this.#eventfds.push(efd);
      if (event === 'removal-request') this.offered.removalRequest = true;
      else this.offered.error = true;
    }
  }

  on(event: DeviceEvent, listener: () => void): () => void {
    return this.#listeners[event].add(listener);
  }

  /** Device close: the kernel drops the triggers with the device fd; the eventfds and listeners go here. */
  close(): void {
    for (const e of this.#eventfds) e.close();
    this.#eventfds.length = 0;
    this.#listeners['removal-request'].clear();
    this.#listeners.error.clear();
  }
}
