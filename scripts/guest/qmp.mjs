/**
 * A small QMP (QEMU Machine Protocol) client for the guest's monitor socket (QEMU started with
 * `-qmp unix:<run folder>/qmp.sock,server=on,wait=off`, scripts/guest/qemu.mjs).
 *
 * The protocol (qemu docs/interop/qmp-spec.rst): one JSON object per line; the server greets with
 * {"QMP": …}; the client must send {"execute":"qmp_capabilities"} before any other command; each
 * command gets {"return": …} or {"error": {"class", "desc"}}, in order, carrying the command's "id"
 * when it had one; {"event": …} lines come in between at any time.
 *
 * The socket takes one client, so one QmpClient serves every caller of a run (qmp-shared.mjs): the
 * guest's requests through the relay and the host's own. Calls may overlap: each command carries an id
 * and its reply is matched by it (in-order otherwise), and every event goes to every listener.
 *
 *   const qmp = await QmpClient.connect(socketPath);
 *   await qmp.execute('query-status');
 *   await qmp.deviceDel('ddkdev0');          // resolves on DEVICE_DELETED (the guest let go)
 *   await qmp.deviceAdd({ driver: 'e1000e', id: 'ddkdev0', bus: 'ddkrp0' });
 *   await qmp.systemReset();                 // with -no-reboot (qemu.mjs), QEMU then exits
 *   qmp.close();
 *
 * Errors: a QMP error is Error code 'EQMP' with QEMU's `qmpClass` and `qmpDesc`; a line that is not
 * QMP is 'EQMP' class 'ProtocolError' and ends the connection; once the connection is gone (QEMU
 * exited, close()) every pending and later call, and every pending waitEvent, rejects with 'ECLOSED'.
 */
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long device_del waits for the guest's pciehp to release the slot (Linux waits 5 s after the button). */
export const DEVICE_DELETED_TIMEOUT_MS = 30_000;

/** An Error for a QMP failure: code 'EQMP', QEMU's error class and description. */
export function qmpError(message, cls, desc = message) {
  return Object.assign(new Error(message), { code: 'EQMP', qmpClass: cls, qmpDesc: desc });
}

function closedError(reason) {
  return Object.assign(new Error(`QMP connection closed${reason ? ` (${reason})` : ''}`), { code: 'ECLOSED' });
}

/**
 * One listener's call: the connection is shared (the in-guest relay and a host onQmp handle listen on
 * the same client), so a listener that throws is reported and the others still hear the event.
 */
function callListener(listener, value, what) {
  try {
    listener(value);
  } catch (err) {
    process.emitWarning(`QMP ${what} listener threw: ${err instanceof Error ? err.message : String(err)}`, { code: 'QMP_LISTENER_THREW' });
  }
}

/** Reads newline-delimited JSON objects from a socket; a line that is not a JSON object is an EQMP ProtocolError. */
function lineReader(onMessage, onBad) {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line === '') continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        onBad(line);
        return;
      }
      if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) { onBad(line); return; }
      onMessage(msg);
    }
  };
}

export class QmpClient {
  #socket;
  /** Commands sent and not answered, in the order sent: { id, resolve, reject }. */
  #pending = [];
  #nextId = 1;
  /** @type {Set<(event: { event: string, data?: any, timestamp?: any }) => void>} */
  #eventListeners = new Set();
  /** @type {Set<(error: Error) => void>} */
  #closeListeners = new Set();
  #greeting;
  #closed = null;

  constructor(socket, greeting) {
    this.#socket = socket;
    this.#greeting = greeting;
  }

  /**
   * Connects (retrying while QEMU has not created the socket yet, up to `timeoutMs`, until `signal`
   * aborts), reads the greeting and negotiates capabilities.
   */
  static async connect(path, { timeoutMs = 10_000, signal } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted) throw closedError('given up: the run ended');
      try {
        const client = await QmpClient.#open(path);
        await client.execute('qmp_capabilities');
        return client;
      } catch (err) {
        if (!(err.code === 'ENOENT' || err.code === 'ECONNREFUSED') || Date.now() > deadline) throw err;
        await sleep(100, undefined, { signal }).catch(() => {});
      }
    }
  }

  static #open(path) {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.setEncoding('utf8');
      let client = null;
      const refuse = (err) => { reject(err); socket.destroy(); };
      const read = lineReader((msg) => {
        if (client !== null) { client.#receive(msg); return; }
        if (msg.QMP === undefined) { refuse(qmpError(`${path}: not a QMP socket (greeting ${JSON.stringify(msg)})`, 'ProtocolError')); return; }
        client = new QmpClient(socket, msg.QMP);
        socket.off('error', reject);
        socket.on('error', (err) => client.#fail(err.code === 'EPIPE' || err.code === 'ECONNRESET' ? closedError(err.code) : err));
        socket.on('close', () => client.#fail(closedError()));
        resolve(client);
      }, (line) => {
        const err = qmpError(`${path}: not QMP: ${line.slice(0, 200)}`, 'ProtocolError');
        if (client === null) refuse(err);
        else { client.#fail(err); socket.destroy(); }
      });
      socket.once('error', reject);
      socket.once('close', () => reject(closedError('before the greeting')));
      socket.on('data', read);
    });
  }

  /** QEMU's version as the greeting gave it ({ qemu: { major, minor, micro }, package }). */
  get version() {
    return this.#greeting.version;
  }

  /** Whether the connection is gone. */
  get closed() {
    return this.#closed !== null;
  }

  #receive(msg) {
    if (msg.event !== undefined) {
      for (const listener of [...this.#eventListeners]) callListener(listener, msg, 'event');
      return;
    }
    // A reply carries its command's id; one without (QEMU's answer to unparsable input) is the oldest.
    const at = msg.id === undefined ? 0 : this.#pending.findIndex((w) => w.id === msg.id);
    if (at < 0 || this.#pending.length === 0) return;
    const [waiter] = this.#pending.splice(at, 1);
    if (msg.error) waiter.reject(qmpError(`QMP ${waiter.command}: ${msg.error.desc}`, msg.error.class, msg.error.desc));
    else waiter.resolve(msg.return);
  }

  #fail(err) {
    if (this.#closed !== null) return;
    this.#closed = err;
    for (const w of this.#pending.splice(0)) w.reject(err);
    for (const listener of [...this.#closeListeners]) callListener(listener, err, 'close');
    this.#closeListeners.clear();
    this.#eventListeners.clear();
  }

  /**
   * Runs one QMP command; resolves with its "return" value, rejects (code EQMP, qmpClass, qmpDesc)
   * with its error. `args` is the command's "arguments" object.
   */
  execute(command, args) {
    if (typeof command !== 'string' || command === '') return Promise.reject(new TypeError('QMP command must be a non-empty string'));
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      return Promise.reject(new TypeError(`QMP ${command}: arguments must be an object`));
    }
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.push({ id, command, resolve, reject });
      this.#socket.write(`${JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })}\n`);
    });
  }

  /** Calls `listener(event)` for every event until the returned function is called or the connection closes. */
  onEvent(listener) {
    if (typeof listener !== 'function') throw new TypeError('onEvent: listener must be a function');
    if (this.#closed) return () => {};
    this.#eventListeners.add(listener);
    return () => { this.#eventListeners.delete(listener); };
  }

  /** Resolves with the next event named `name` for which `match(data)` holds; rejects on timeout or close. */
  waitEvent(name, match = () => true, timeoutMs = DEVICE_DELETED_TIMEOUT_MS) {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        stopEvents();
        this.#closeListeners.delete(onClose);
      };
      const onClose = (err) => { done(); reject(err); };
      const stopEvents = this.onEvent((msg) => {
        if (msg.event !== name || !match(msg.data ?? {})) return;
        done();
        resolve(msg);
      });
      const timer = setTimeout(() => { done(); reject(qmpError(`no ${name} event within ${timeoutMs / 1000} s`, 'Timeout')); }, timeoutMs);
      this.#closeListeners.add(onClose);
    });
  }

  /**
   * device_del returns at once and only *requests* the unplug (PCIe: the attention button); the
   * device is gone when QEMU emits DEVICE_DELETED for it, after the guest's pciehp released it.
   */
  async deviceDel(id, timeoutMs = DEVICE_DELETED_TIMEOUT_MS) {
    const deleted = this.waitEvent('DEVICE_DELETED', (d) => d.device === id, timeoutMs);
    try {
      await this.execute('device_del', { id });
    } catch (err) {
      deleted.catch(() => {});
      throw err;
    }
    await deleted;
  }

  /** device_add with -device's properties as an object ({ driver, id, bus, … }). */
  deviceAdd(args) {
    return this.execute('device_add', args);
  }

  systemReset() {
    return this.execute('system_reset');
  }

  /** Ends the connection; pending calls reject with 'ECLOSED'. */
  close() {
    this.#socket.end();
    this.#fail(closedError('closed by this client'));
  }
}
