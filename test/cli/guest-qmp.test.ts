/**
 * The guest's QMP plumbing without a guest, against a fake QMP server on a UNIX socket that speaks
 * the protocol as QEMU does (greeting, capabilities first, replies carrying the command's id, events in
 * between): the client (scripts/guest/qmp.mjs), the one shared connection of a run and the handle the
 * host side gets (qmp-shared.mjs), and the results-share relay for the guest (qmp-relay.mjs) — host
 * and guest calls overlapping on one socket, events fanned out, errors, a socket that goes away.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

interface QmpEvent { event: string; data?: Record<string, unknown> }
interface QmpClientLike {
  readonly closed: boolean;
  readonly version: unknown;
  execute(cmd: unknown, args?: unknown): Promise<unknown>;
  deviceDel(id: string, timeoutMs?: number): Promise<void>;
  waitEvent(name: string, match?: (d: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<QmpEvent>;
  onEvent(listener: (e: QmpEvent) => void): () => void;
  close(): void;
}
interface QmpModule { QmpClient: { connect(path: string, o?: { timeoutMs?: number }): Promise<QmpClientLike> } }
interface SharedModule {
  sharedQmp(path: string, o?: { timeoutMs?: number }): { client(): Promise<QmpClientLike>; close(): void };
  hostQmpHandle(client: QmpClientLike): Record<string, unknown> & Omit<QmpClientLike, 'close'>;
}
interface RelayModule { startQmpRelay(o: { resultsDir: string; connect: () => Promise<QmpClientLike>; log: (m: string) => void }): () => void }
const script = async <T>(name: string): Promise<T> =>
  (await import(pathToFileURL(join(import.meta.dirname, '../../scripts/guest', name)).href)) as T;

interface Command { execute: string; arguments?: Record<string, unknown>; id?: unknown }

/**
 * QEMU's QMP as far as these tests need it. `slow` answers 80 ms late (a later `query-status` is
 * answered first: replies are matched by id), `emit` sends an event before its reply, device_del of
 * dev0 is followed by DEVICE_DELETED 50 ms later, `garbage` answers a line that is not JSON, `silent`
 * never answers, `hangup` closes the connection without answering. `splitGreeting` sends the greeting in two writes.
 */
function fakeQmp(path: string, o: { splitGreeting?: boolean; greeting?: unknown } = {}) {
  const seen: Command[] = [];
  let connections = 0;
  const server: Server = createServer((sock: Socket) => {
    connections++;
    const send = (msg: unknown): void => { if (!sock.destroyed) sock.write(`${JSON.stringify(msg)}\n`); };
    const greeting = `${JSON.stringify(o.greeting ?? { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: '' }, capabilities: [] } })}\n`;
    if (o.splitGreeting === true) {
      sock.write(greeting.slice(0, 10));
      setTimeout(() => sock.write(greeting.slice(10)), 30);
    } else sock.write(greeting);
    let negotiated = false;
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as Command;
        buf = buf.slice(nl + 1);
        seen.push(msg);
        const reply = (body: Record<string, unknown>): void => send(msg.id === undefined ? body : { ...body, id: msg.id });
        if (msg.execute === 'qmp_capabilities') { negotiated = true; reply({ return: {} }); continue; }
        if (!negotiated) { reply({ error: { class: 'CommandNotFound', desc: 'Expecting capabilities negotiation with \'qmp_capabilities\'' } }); continue; }
        switch (msg.execute) {
          case 'slow': setTimeout(() => reply({ return: { answer: 'slow' } }), 80); break;
          case 'emit': send({ event: 'TEST_EVENT', data: { n: msg.arguments?.['n'] } }); reply({ return: {} }); break;
          case 'garbage': sock.write('this is not json\n'); break;
          case 'hangup': sock.destroy(); break;
          case 'silent': break;
          case 'device_del':
            if (msg.arguments?.['id'] !== 'dev0') { reply({ error: { class: 'DeviceNotFound', desc: `Device '${String(msg.arguments?.['id'])}' not found` } }); break; }
            reply({ return: {} });
            setTimeout(() => send({ event: 'DEVICE_DELETED', data: { device: 'dev0', path: '/machine/peripheral/dev0' } }), 50);
            break;
          case 'query-status': reply({ return: { status: 'running' } }); break;
          default: reply({ error: { class: 'CommandNotFound', desc: `The command ${msg.execute} has not been found` } });
        }
      }
    });
  });
  server.listen(path);
  return { server, seen, connections: () => connections };
}

function tempDir(t: { teardown(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

t.test('QmpClient: capabilities first, results and errors, device_del waits for DEVICE_DELETED', async (t) => {
  const dir = tempDir(t, 'qmp-');
  const path = join(dir, 'qmp.sock');
  const { QmpClient } = await script<QmpModule>('qmp.mjs');
  const late = QmpClient.connect(path, { timeoutMs: 5000 }); // the socket appears after the client starts
  await sleep(150);
  const { server, seen } = fakeQmp(path, { splitGreeting: true });
  t.teardown(() => { server.close(); });
  const qmp = await late;
  t.match(qmp.version, { qemu: { major: 7 } }, 'a greeting in two pieces is read whole');
  t.same(await qmp.execute('query-status'), { status: 'running' });
  await t.rejects(qmp.deviceDel('nope'), { code: 'EQMP', qmpClass: 'DeviceNotFound', qmpDesc: 'Device \'nope\' not found', message: 'QMP device_del: Device \'nope\' not found' });
  await t.rejects(qmp.execute('no-such-command'), { code: 'EQMP', qmpClass: 'CommandNotFound' });
  const started = Date.now();
  await qmp.deviceDel('dev0');
  t.ok(Date.now() - started >= 40, 'resolved on the event, not on the return');
  t.same(seen.map((m) => m.execute), ['qmp_capabilities', 'query-status', 'device_del', 'no-such-command', 'device_del']);
  t.ok(seen.every((m) => typeof m.id === 'number'), 'every command carries an id');
  t.equal(new Set(seen.map((m) => m.id)).size, seen.length, 'a different one each');
  await t.rejects(qmp.execute(''), TypeError);
  await t.rejects(qmp.execute(42), TypeError);
  await t.rejects(qmp.execute('device_add', ['e1000e']), { name: 'TypeError', message: /arguments must be an object/ });
  await t.rejects(qmp.execute('device_add', null), TypeError);
  qmp.close();
  t.ok(qmp.closed);
  await t.rejects(qmp.execute('query-status'), { code: 'ECLOSED' }, 'a closed client refuses calls');
  await t.rejects(QmpClient.connect(join(dir, 'none.sock'), { timeoutMs: 200 }), { code: 'ENOENT' });
});

t.test('QmpClient: overlapping calls get their own replies (matched by id), events reach every listener', async (t) => {
  const dir = tempDir(t, 'qmp-mux-');
  const { server } = fakeQmp(join(dir, 'qmp.sock'));
  t.teardown(() => { server.close(); });
  const { QmpClient } = await script<QmpModule>('qmp.mjs');
  const qmp = await QmpClient.connect(join(dir, 'qmp.sock'));
  t.teardown(() => qmp.close());
  const order: string[] = [];
  const slow = qmp.execute('slow').then((v) => { order.push('slow'); return v; });
  const fast = qmp.execute('query-status').then((v) => { order.push('fast'); return v; });
  t.same(await Promise.all([slow, fast]), [{ answer: 'slow' }, { status: 'running' }]);
  t.same(order, ['fast', 'slow'], 'the server answered out of order; each call got its own reply');

  const a: QmpEvent[] = [];
  const b: QmpEvent[] = [];
  const stopA = qmp.onEvent((e) => a.push(e));
  const warnings: string[] = [];
  const warn = (w: Error): void => { warnings.push(w.message); };
  process.on('warning', warn);
  t.teardown(() => { process.off('warning', warn); });
  qmp.onEvent(() => { throw new Error('a broken listener'); }); // reported; the others still hear every event
  qmp.onEvent((e) => b.push(e));
  const waited = qmp.waitEvent('TEST_EVENT', (d) => d['n'] === 2);
  await qmp.execute('emit', { n: 1 });
  stopA();
  await qmp.execute('emit', { n: 2 });
  t.match(await waited, { event: 'TEST_EVENT', data: { n: 2 } }, 'waitEvent matched the second');
  t.same(a.map((e) => e.data?.['n']), [1], 'an unsubscribed listener stops getting events');
  t.same(b.map((e) => e.data?.['n']), [1, 2]);
  await sleep(0); // warnings are emitted on the next tick
  t.same(warnings, ['QMP event listener threw: a broken listener', 'QMP event listener threw: a broken listener']);
  t.throws(() => qmp.onEvent(42 as unknown as () => void), TypeError);
});

t.test('QmpClient: a socket that goes away rejects pending calls and event waits at once; nothing is left running', async (t) => {
  const dir = tempDir(t, 'qmp-close-');
  const { server } = fakeQmp(join(dir, 'qmp.sock'));
  t.teardown(() => { server.close(); });
  const { QmpClient } = await script<QmpModule>('qmp.mjs');
  const timersBefore = timers();
  const qmp = await QmpClient.connect(join(dir, 'qmp.sock'));
  const pending = qmp.execute('silent');
  const waiting = qmp.waitEvent('NEVER', undefined, 60_000);
  const hangup = qmp.execute('hangup');
  await t.rejects(hangup, { code: 'ECLOSED' });
  await t.rejects(pending, { code: 'ECLOSED' }, 'a call sent earlier is rejected too');
  await t.rejects(waiting, { code: 'ECLOSED' }, 'the event wait ends with the connection, not after 60 s');
  t.ok(qmp.closed);
  await t.rejects(qmp.waitEvent('NEVER'), { code: 'ECLOSED' });
  t.equal(timers(), timersBefore, 'no timer left behind');
});

t.test('QmpClient: a line that is not QMP ends the connection with EQMP ProtocolError; so does a greeting without QMP', async (t) => {
  const dir = tempDir(t, 'qmp-bad-');
  const { server } = fakeQmp(join(dir, 'qmp.sock'));
  const other = fakeQmp(join(dir, 'other.sock'), { greeting: { hello: 'world' } });
  t.teardown(() => { server.close(); other.server.close(); });
  const { QmpClient } = await script<QmpModule>('qmp.mjs');
  const qmp = await QmpClient.connect(join(dir, 'qmp.sock'));
  await t.rejects(qmp.execute('garbage'), { code: 'EQMP', qmpClass: 'ProtocolError', message: /not QMP: this is not json/ });
  t.ok(qmp.closed, 'the connection is given up');
  await t.rejects(QmpClient.connect(join(dir, 'other.sock')), { code: 'EQMP', qmpClass: 'ProtocolError', message: /not a QMP socket/ });
});

t.test('sharedQmp: one connection for the relay and the host; the host handle cannot close it; close rejects what is pending', async (t) => {
  const dir = tempDir(t, 'qmp-shared-');
  const path = join(dir, 'qmp.sock');
  const fake = fakeQmp(path);
  t.teardown(() => { fake.server.close(); });
  const { sharedQmp, hostQmpHandle } = await script<SharedModule>('qmp-shared.mjs');
  const { startQmpRelay } = await script<RelayModule>('qmp-relay.mjs');
  const shared = sharedQmp(path);
  const stopRelay = startQmpRelay({ resultsDir: dir, connect: shared.client, log: () => {} });
  t.teardown(stopRelay);
  const [c1, c2] = await Promise.all([shared.client(), shared.client()]);
  t.equal(c1, c2, 'the same client for every caller');
  const host = hostQmpHandle(c1);
  t.notOk('close' in host, 'the host handle has no close');
  t.ok(Object.isFrozen(host));

  // The guest asks for device_del through the share while the host runs its own commands and watches events.
  const hostEvents: QmpEvent[] = [];
  host.onEvent((e) => hostEvents.push(e));
  writeFileSync(join(dir, 'qmp-request.json.tmp'), '{"execute":"device_del","arguments":{"id":"dev0"}}');
  renameSync(join(dir, 'qmp-request.json.tmp'), join(dir, 'qmp-request.json'));
  const hostDeleted = host.waitEvent('DEVICE_DELETED', (d) => d['device'] === 'dev0', 5000);
  const [status, slow] = await Promise.all([host.execute('query-status'), host.execute('slow')]);
  t.same([status, slow], [{ status: 'running' }, { answer: 'slow' }], 'the host\'s calls answered while the guest\'s is under way');
  await hostDeleted;
  const reply = join(dir, 'qmp-reply.json');
  for (let i = 0; i < 100 && !existsSync(reply); i++) await sleep(20);
  t.same(JSON.parse(readFileSync(reply, 'utf8')), { return: {} }, 'the guest got its reply once the device was gone');
  t.same(hostEvents.map((e) => e.event), ['DEVICE_DELETED'], 'the host saw the event the guest\'s request caused');
  t.equal(fake.connections(), 1, 'one connection to the socket');

  const pending = host.execute('slow');
  shared.close();
  await t.rejects(pending, { code: 'ECLOSED' }, 'the run closing the connection rejects the host\'s pending call');
  t.ok(host.closed);
  await t.rejects(host.execute('query-status'), { code: 'ECLOSED' });
});

t.test('sharedQmp: closed before QEMU made the socket, it stops trying at once', async (t) => {
  const dir = tempDir(t, 'qmp-early-');
  const { sharedQmp } = await script<SharedModule>('qmp-shared.mjs');
  const shared = sharedQmp(join(dir, 'qmp.sock'), { timeoutMs: 60_000 });
  const connecting = shared.client();
  await sleep(120);
  const started = Date.now();
  shared.close();
  await t.rejects(connecting, { code: 'ECLOSED' });
  t.ok(Date.now() - started < 5000, 'not after the 60 s connect timeout');
});

t.test('QMP relay: a request file in the run folder gets a reply file, one at a time', async (t) => {
  const dir = tempDir(t, 'qmp-relay-');
  const { server } = fakeQmp(join(dir, 'qmp.sock'));
  const { sharedQmp } = await script<SharedModule>('qmp-shared.mjs');
  const { startQmpRelay } = await script<RelayModule>('qmp-relay.mjs');
  const shared = sharedQmp(join(dir, 'qmp.sock'));
  const stop = startQmpRelay({ resultsDir: dir, connect: shared.client, log: () => {} });
  t.teardown(() => { stop(); shared.close(); server.close(); });
  const ask = async (body: string): Promise<unknown> => {
    writeFileSync(join(dir, 'qmp-request.json.tmp'), body);
    renameSync(join(dir, 'qmp-request.json.tmp'), join(dir, 'qmp-request.json'));
    const reply = join(dir, 'qmp-reply.json');
    for (let i = 0; i < 100 && !existsSync(reply); i++) await sleep(50);
    const answer = JSON.parse(readFileSync(reply, 'utf8')) as unknown;
    rmSync(reply);
    t.notOk(existsSync(join(dir, 'qmp-request.json')), 'the request was taken');
    return answer;
  };
  t.same(await ask('{"execute":"device_del","arguments":{"id":"dev0"}}'), { return: {} });
  t.same(await ask('{"execute":"device_del","arguments":{"id":"x"}}'), { error: { class: 'DeviceNotFound', desc: 'Device \'x\' not found' } }, 'QEMU\'s class and desc as they are');
  t.match(await ask('not json'), { error: { class: 'GenericError', desc: /bad qmp-request\.json/ } });
  t.match(await ask('{"arguments":{}}'), { error: { desc: /needs "execute"/ } });
  t.match(await ask('{"execute":"device_add","arguments":[1]}'), { error: { class: 'GenericError', desc: /arguments must be an object/ } });
});

interface SnapshotModule {
  pciFunctions(buses: unknown): { bdf: string; vendorDevice: string; qdevId: string }[];
  qmpSnapshot(qmp: { execute(cmd: string): Promise<unknown> }, run: { running: Promise<void> }): Promise<{ status: string | null; functions: unknown[]; error: string | null }>;
  missingFromSnapshot(snapshot: unknown, devices: { id: string }[]): { id: string }[];
}

/** query-pci as QEMU 7.2 answers it for the guest of test:hw (trimmed): edu, NVMe, a root port with the e1000e. */
const QUERY_PCI = [{
  bus: 0,
  devices: [
    { bus: 0, slot: 1, function: 0, id: { vendor: 0x1234, device: 0x11e8 }, qdev_id: '' },
    { bus: 0, slot: 2, function: 0, id: { vendor: 0x1b36, device: 0x0010 }, qdev_id: '' },
    {
      bus: 0, slot: 16, function: 0, id: { vendor: 0x1b36, device: 0x000c }, qdev_id: 'ddkrp0',
      pci_bridge: { bus: { number: 1, secondary: 1, subordinate: 1 }, devices: [{ bus: 1, slot: 0, function: 0, id: { vendor: 0x8086, device: 0x10d3 }, qdev_id: 'ddkdev0' }] },
    },
  ],
}];

t.test('qmp-snapshot: query-pci flattened through bridges; checked against the guest\'s devices; a failure is reported, not thrown', async (t) => {
  const { pciFunctions, qmpSnapshot, missingFromSnapshot } = await script<SnapshotModule>('qmp-snapshot.mjs');
  t.same(pciFunctions(QUERY_PCI), [
    { bdf: '00:01.0', vendorDevice: '1234:11e8', qdevId: '' },
    { bdf: '00:02.0', vendorDevice: '1b36:0010', qdevId: '' },
    { bdf: '00:10.0', vendorDevice: '1b36:000c', qdevId: 'ddkrp0' },
    { bdf: '01:00.0', vendorDevice: '8086:10d3', qdevId: 'ddkdev0' },
  ]);
  t.same(pciFunctions(undefined), []);
  const asked: string[] = [];
  const qmp = { execute: async (cmd: string) => { asked.push(cmd); return cmd === 'query-status' ? { status: 'running', running: true } : QUERY_PCI; } };
  const snapshot = await qmpSnapshot(qmp, { running: Promise.resolve() });
  t.same(asked, ['query-status', 'query-pci']);
  t.match(snapshot, { status: 'running', error: null });
  t.same(missingFromSnapshot(snapshot, [{ id: '8086:10d3' }, { id: '1234:11e8' }]), []);
  t.same(missingFromSnapshot(snapshot, [{ id: '8086:10d3' }, { id: '1af4:1000' }]), [{ id: '1af4:1000' }]);
  const stopped = Object.assign(new Error('the guest stopped before its command ran'), { code: 'ECLOSED' });
  const failed = await qmpSnapshot(qmp, { running: Promise.reject(stopped) });
  t.same(failed, { status: null, functions: [], error: 'ECLOSED: the guest stopped before its command ran' });
  t.same(missingFromSnapshot(failed, [{ id: '8086:10d3' }]), [{ id: '8086:10d3' }], 'no snapshot: nothing confirmed');
});

t.test('runInGuest refuses an onQmp that is not a function before it starts anything', async (t) => {
  const { runInGuest } = await script<{ runInGuest(o: Record<string, unknown>): Promise<unknown> }>('guest.mjs');
  await t.rejects(runInGuest({ command: 'true', devices: [], onQmp: 'query-status' }), { name: 'TypeError', message: /onQmp must be a function/ });
});
