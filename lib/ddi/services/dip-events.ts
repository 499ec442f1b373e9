/**
 * The NDI events of one dev_info: the callbacks ddi_add_event_handler(9F) registers and the nexus
 * posts (ndi_event_run_callbacks). When the nexus posts which event is services/events.ts and
 * dev-info.ts; this file keeps the cookies, the registrations, and runs them.
 *
 * Callbacks run synchronously when the event is posted, in registration order (the manual page: "Callback
 * order is not defined"); one that throws is reported once per registration as a process warning
 * ('DDI_EVENT_HANDLER_THREW') and the others still run — a driver's failure must not keep a device from
 * being released.
 */

import { DDI_DEVI_BUS_RESET_EVENT, DDI_DEVI_DEVICE_RESET_EVENT, DDI_DEVI_REMOVE_EVENT } from '../constants-services.ts';

/** The events this nexus posts: the removal request and the two resets the library performs. */
export const SERVED_EVENTS: readonly string[] = [DDI_DEVI_REMOVE_EVENT, DDI_DEVI_DEVICE_RESET_EVENT, DDI_DEVI_BUS_RESET_EVENT];

/** `ddi_eventcookie_t`: opaque; one per event name, the same object on every ddi_get_eventcookie. */
export interface ddi_eventcookie_t {
  readonly name: string;
}

/** handler(dip, cookie, arg, impl_data) of ddi_add_event_handler(9F); the return value is ignored. */
export type ddi_event_handler_t = (dip: unknown, cookie: ddi_eventcookie_t, arg: unknown, impl_data: unknown) => void;

/** `ddi_callback_id_t`: what ddi_add_event_handler hands out for ddi_remove_event_handler (opaque). */
export class EventRegistration {
  readonly dip: unknown;
  readonly cookie: ddi_eventcookie_t;
  readonly handler: ddi_event_handler_t;
  readonly arg: unknown;
  threw = false;

  constructor(dip: unknown, cookie: ddi_eventcookie_t, handler: ddi_event_handler_t, arg: unknown) {
    this.dip = dip;
    this.cookie = cookie;
    this.handler = handler;
    this.arg = arg;
  }
}

export type ddi_callback_id_t = EventRegistration;

/** Every registration of the process (ddi_remove_event_handler finds its dip's list through it). */
export const liveRegistrations = new WeakMap<EventRegistration, DipEvents>();

export class DipEvents {
  readonly #registrations: EventRegistration[] = [];

  add(registration: EventRegistration): void {
    this.#registrations.push(registration);
    liveRegistrations.set(registration, this);
  }

  /** false when `registration` is not (or no longer) registered here. */
  remove(registration: EventRegistration): boolean {
    const at = this.#registrations.indexOf(registration);
    if (at < 0) return false;
    this.#registrations.splice(at, 1);
    liveRegistrations.delete(registration);
    return true;
  }

  /** Runs every callback registered for event `name` now; `impl_data` is the framework's event data. */
  post(name: string, implData: unknown): void {
    const cookie = servedCookie(name);
    if (cookie === null) return;
    for (const r of this.#registrations.filter((reg) => reg.cookie === cookie)) {
      try {
        r.handler(r.dip, r.cookie, r.arg, implData);
      } catch (error) {
        if (r.threw) continue;
        r.threw = true;
        process.emitWarning(
          `ddi: the ${cookie.name} event handler threw (${error instanceof Error ? error.message : String(error)}); ` +
          'the other handlers still ran. Catch errors inside event handlers.',
          { type: 'DdiWarning', code: 'DDI_EVENT_HANDLER_THREW' },
        );
      }
    }
  }
}

const cookies = new Map<string, ddi_eventcookie_t>();

/** The cookie of an event this nexus posts, or null for one it does not (ddi_get_eventcookie's DDI_FAILURE). */
export function servedCookie(name: string): ddi_eventcookie_t | null {
  if (!SERVED_EVENTS.includes(name)) return null;
  let cookie = cookies.get(name);
  if (cookie === undefined) {
    cookie = Object.freeze({ name });
    cookies.set(name, cookie);
  }
  return cookie;
}
