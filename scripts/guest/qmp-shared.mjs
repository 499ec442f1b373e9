/**
 * The one QMP connection of a guest run. QEMU's `-qmp unix:…,server=on` socket serves one client at
 * a time, so runInGuest (guest.mjs) makes one QmpClient — on first use — and every caller shares it:
 * the relay answering the guest's requests (qmp-relay.mjs) and the host-side `onQmp` callback. The
 * client matches replies to commands by id and hands every event to every listener (qmp.mjs), so their
 * calls may overlap.
 *
 * The host-side caller gets `hostQmpHandle(client)`: the client's commands and events, not its close —
 * the run closes the connection when QEMU exits, and that rejects whatever is still pending ('ECLOSED').
 */
import { QmpClient } from './qmp.mjs';

/** `{ client(): Promise<QmpClient>, close() }` over the socket at `socketPath`. */
export function sharedQmp(socketPath, { timeoutMs } = {}) {
  const abort = new AbortController();
  let connecting = null;
  return {
    /** The connection, made on the first call (retrying while QEMU has not created the socket yet). */
    client() {
      connecting ??= QmpClient.connect(socketPath, { timeoutMs, signal: abort.signal });
      return connecting;
    },
    /** Ends the connection (or the attempt to make it); every pending call rejects. */
    close() {
      abort.abort();
      connecting?.then((client) => client.close(), () => {});
    },
  };
}

/** What `runInGuest({ onQmp })` hands the host side: QMP commands and events over the shared client. */
export function hostQmpHandle(client) {
  return Object.freeze({
    execute: (command, args) => client.execute(command, args),
    waitEvent: (name, match, timeoutMs) => client.waitEvent(name, match, timeoutMs),
    onEvent: (listener) => client.onEvent(listener),
    deviceDel: (id, timeoutMs) => client.deviceDel(id, timeoutMs),
    deviceAdd: (args) => client.deviceAdd(args),
    systemReset: () => client.systemReset(),
    get version() { return client.version; },
    get closed() { return client.closed; },
  });
}
