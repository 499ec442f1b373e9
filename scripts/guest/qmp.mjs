/**
 * A small QMP (QEMU Machine Protocol) client for the guest's monitor socket (QEMU started with
 * `-qmp unix:<run folder>/qmp.sock,server=on,wait=off`, scripts/guest/qemu.mjs).
 *
 * The protocol (qemu docs/interop/qmp-spec.rst): one JSON object per line; the server greets with
 * {"QMP": …}; the client must send {"execute":"qmp_capabilities"} before any other command; each
 * command gets {"return": …} or {"error": {"class", "desc"}}, in order; {"event": …} lines come
 * in between at any time.
 *
 *   const qmp = await QmpClient.connect(socketPath);
 *   await qmp.execute('query-status');
 *   await qmp.deviceDel('ddkdev0');          // resolves on DEVICE_DELETED (the guest let go)
 *   await qmp.deviceAdd({ driver: 'e1000e', id: 'ddkdev0', bus: 'ddkrp0' });
 *   await qmp.systemReset();                 // with -no-reboot (qemu.mjs), QEMU then exits
 *   qmp.close();
 */
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long device_del waits for the guest's pciehp to release the slot (Linux waits 5 s after the button). */
export const DEVICE_DELETED_TIMEOUT_MS = 30_000;

function qmpError(message, cls) {
  return Object.assign(new Error(message), { code: 'EQMP', qmpClass: cls });
}

export class QmpClient {
  #socket;
  #buffer = '';
  /** @type {{ resolve: (v: unknown) => void, reject: (e: Error) => void }[]} */
  #pending = [];
  /** @type {((event: { event: string, data?: any }) => void)[]} */
  #eventListeners = [];
  #greeting;
  #closed = null;

  constructor(socket, greeting) {
    this.#socket = socket;
    this.#greeting = greeting;
  }

  /**
   * Connects (retrying while QEMU has not created the socket yet, up to `timeoutMs`), reads the
   * greeting and negotiates capabilities.
   */
  static async connect(path, { timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const client = await QmpClient.#open(path);
        await client.execute('qmp_capabilities');
        return client;
      } catch (err) {
        if (!(err.code === 'ENOENT' || err.code === 'ECONNREFUSED') || Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }

  static #open(path) {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.setEncoding('utf8');
      let client = null;
      socket.once('error', reject);
      socket.on('data', (chunk) => {
        if (client) { client.#receive(chunk); return; }
        const nl = chunk.indexOf('\n');
        if (nl < 0) return; // the greeting is one line; wait for the rest
        const greeting = JSON.parse(chunk.slice(0, nl));
        if (!greeting.QMP) { reject(qmpError(`${path}: not a QMP socket (greeting ${chunk.slice(0, nl)})`)); socket.destroy(); return; }
        client = new QmpClient(socket, greeting.QMP);
        socket.off('error', reject);
        socket.on('error', (err) => client.#fail(err));
        socket.on('close', () => client.#fail(qmpError('QMP connection closed')));
        client.#receive(chunk.slice(nl + 1));
        resolve(client);
      });
    });
  }

  /** QEMU's version as the greeting gave it ({ qemu: { major, minor, micro }, package }). */
  get version() {
    return this.#greeting.version;
  }

  #receive(chunk) {
    this.#buffer += chunk;
    let nl;
    while ((nl = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line === '') continue;
      const msg = JSON.parse(line);
      if (msg.event !== undefined) { for (const l of [...this.#eventListeners]) l(msg); continue; }
      const waiter = this.#pending.shift();
      if (!waiter) continue;
      if (msg.error) waiter.reject(qmpError(`QMP: ${msg.error.desc}`, msg.error.class));
      else waiter.resolve(msg.return);
    }
  }

  #fail(err) {
    this.#closed ??= err;
    for (const w of this.#pending.splice(0)) w.reject(err);
  }

  /** Runs one QMP command; resolves with its "return" value, rejects (code EQMP) with its error. */
  execute(command, args) {
    if (typeof command !== 'string' || command === '') return Promise.reject(new TypeError('QMP command must be a non-empty string'));
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#socket.write(`${JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args })}\n`);
    });
  }

  /** Resolves with the next event named `name` for which `match(data)` holds. */
  waitEvent(name, match = () => true, timeoutMs = DEVICE_DELETED_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      const listener = (msg) => {
        if (msg.event !== name || !match(msg.data ?? {})) return;
        clearTimeout(timer);
        this.#eventListeners = this.#eventListeners.filter((l) => l !== listener);
        resolve(msg);
      };
      const timer = setTimeout(() => {
        this.#eventListeners = this.#eventListeners.filter((l) => l !== listener);
        reject(qmpError(`no ${name} event within ${timeoutMs / 1000} s`, 'Timeout'));
      }, timeoutMs);
      this.#eventListeners.push(listener);
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

  close() {
    this.#socket.end();
  }
}
