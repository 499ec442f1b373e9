/**
 * QMP for a command inside the guest, through the results share (/run/ddk in the guest, the run
 * folder on the host). One request at a time:
 *
 *   guest: writes qmp-request.json.tmp, renames it to qmp-request.json:
 *          { "execute": "device_del", "arguments": { "id": "ddkdev0" } }
 *   host:  polls every 100 ms; takes the request (removes it), runs it on the QMP socket, writes
 *          qmp-reply.json.tmp and renames it to qmp-reply.json: { "return": … } or
 *          { "error": { "class": "…", "desc": "…" } }
 *   guest: polls for qmp-reply.json, reads it, removes it.
 *
 * device_del is answered only once QEMU emitted DEVICE_DELETED for that id (the guest released the
 * slot), so the reply means "gone". hw-tests/helpers.ts `qmp(cmd, args)` is the guest side.
 *
 * The relay does not own the connection: `connect()` gives the run's shared client (qmp-shared.mjs),
 * which the host side may be using at the same time.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const QMP_REQUEST = 'qmp-request.json';
export const QMP_REPLY = 'qmp-reply.json';
export const QMP_POLL_MS = 100;

/** Starts relaying `resultsDir`'s requests to the client `connect()` resolves with; returns stop(). */
export function startQmpRelay({ resultsDir, connect, log }) {
  const requestPath = join(resultsDir, QMP_REQUEST);
  let busy = false;
  const reply = (obj) => {
    const tmp = join(resultsDir, `${QMP_REPLY}.tmp`);
    writeFileSync(tmp, JSON.stringify(obj));
    renameSync(tmp, join(resultsDir, QMP_REPLY));
  };
  const handle = async () => {
    let request;
    try {
      request = JSON.parse(readFileSync(requestPath, 'utf8'));
    } catch (err) {
      rmSync(requestPath, { force: true });
      reply({ error: { class: 'GenericError', desc: `bad ${QMP_REQUEST}: ${err.message}` } });
      return;
    }
    rmSync(requestPath, { force: true });
    try {
      if (typeof request?.execute !== 'string') throw Object.assign(new Error(`${QMP_REQUEST} needs "execute": a QMP command name`), { qmpClass: 'GenericError' });
      const client = await connect();
      const args = request.arguments;
      log(`QMP ${request.execute}${args ? ` ${JSON.stringify(args)}` : ''} (asked by the guest)`);
      const value = request.execute === 'device_del' && typeof args?.id === 'string'
        ? (await client.deviceDel(args.id), {})
        : await client.execute(request.execute, args);
      reply({ return: value ?? {} });
    } catch (err) {
      reply({ error: { class: err.qmpClass ?? 'GenericError', desc: err.qmpDesc ?? err.message } });
    }
  };
  const timer = setInterval(() => {
    if (busy || !existsSync(requestPath)) return;
    busy = true;
    handle().finally(() => { busy = false; });
  }, QMP_POLL_MS);
  return () => {
    clearInterval(timer);
  };
}
