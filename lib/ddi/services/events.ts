/**
 * NDI event services: ddi_get_eventcookie(9F), ddi_add_event_handler(9F), ddi_remove_event_handler(9F).
 * This is how an illumos driver hears that its device is going away — a PCIe driver registers a
 * callback for DDI_DEVI_REMOVE_EVENT in attach (illumos-gate usr/src/uts/intel/io/tofino/tofino.c:
 * ddi_get_eventcookie(dip, DDI_DEVI_REMOVE_EVENT, …) then ddi_add_event_handler) — and here also how it
 * hears of a reset.
 *
 * The nexus (dev-info.ts) posts:
 * * DDI_DEVI_REMOVE_EVENT when the device is being taken away (PciDevice.onRemovalRequest: VFIO's
 *   device request at an unbind or hot-unplug), while it is still open; the device closes right
 *   after, and from then on handlers are not called, ddi_intr_enable / set_mask / clr_mask /
 *   get_pending and the access services return DDI_FAILURE, disable / remove / free still succeed.
 * * DDI_DEVI_DEVICE_RESET_EVENT after `device.reset()` and DDI_DEVI_BUS_RESET_EVENT after a hot reset,
 *   once the nexus has re-programmed the MSI / MSI-X settings of every enabled handle (the NOTES of
 *   ddi_intr_alloc(9F): a reset "could cause a device driver to lose any MSI and MSI-X interrupt usage
 *   settings"). illumos' own PCI nexus posts neither reset event; they carry illumos' names and
 *   handler signature so a driver's handler looks as it would for a SCSI or 1394 bus.
 * DDI_DEVI_INSERT_EVENT is not served (a re-inserted device gets a new dev_info): DDI_FAILURE.
 *
 * Statuses are the manual pages' DDI_SUCCESS / DDI_FAILURE; a bad dip, cookie, handler or NULL
 * out-pointer is DDI_FAILURE (nothing throws), as are calls on a dip whose device has closed.
 */
import { DDI_FAILURE, DDI_SUCCESS } from '../constants.ts';
import { isOut, type Out } from '../args.ts';
import { isDevInfo, type dev_info_t } from '../dev-info.ts';
import {
  EventRegistration, liveRegistrations, servedCookie, type ddi_callback_id_t, type ddi_event_handler_t, type ddi_eventcookie_t,
} from './dip-events.ts';

export type { ddi_callback_id_t, ddi_event_handler_t, ddi_eventcookie_t } from './dip-events.ts';

/** ddi_get_eventcookie(9F): the cookie of event `name` into `event_cookiep.value`. */
export function ddi_get_eventcookie(dip: dev_info_t | null, name: string, event_cookiep: Out<ddi_eventcookie_t | null> | null): number {
  if (!isDevInfo(dip) || typeof name !== 'string' || !isOut(event_cookiep) || dip.closed) return DDI_FAILURE;
  const cookie = servedCookie(name);
  if (cookie === null) return DDI_FAILURE;
  event_cookiep.value = cookie;
  return DDI_SUCCESS;
}

/** ddi_add_event_handler(9F): `handler(dip, cookie, arg, impl_data)` runs when the event is posted. */
export function ddi_add_event_handler(dip: dev_info_t | null, cookie: ddi_eventcookie_t | null, handler: ddi_event_handler_t | null,
  arg: unknown, id: Out<ddi_callback_id_t | null> | null): number {
  if (!isDevInfo(dip) || !isOut(id) || typeof handler !== 'function' || dip.closed) return DDI_FAILURE;
  if (cookie === null || typeof cookie !== 'object' || servedCookie(cookie.name) !== cookie) return DDI_FAILURE;
  const registration = new EventRegistration(dip, cookie, handler, arg);
  dip.events.add(registration);
  id.value = registration;
  return DDI_SUCCESS;
}

/** ddi_remove_event_handler(9F): DDI_FAILURE for an id that is not registered (never, or removed). */
export function ddi_remove_event_handler(id: ddi_callback_id_t | null): number {
  if (!(id instanceof EventRegistration)) return DDI_FAILURE;
  const events = liveRegistrations.get(id);
  return events !== undefined && events.remove(id) ? DDI_SUCCESS : DDI_FAILURE;
}
