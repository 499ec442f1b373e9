/**
 * `vfio-ddk guest --device/--qemu-arg/--qemu` and the pieces behind them that run without a guest:
 * the extra-device command line (scripts/guest/qemu.mjs), the QMP client (qmp.mjs) and the results-
 * share relay (qmp-relay.mjs) against a fake QMP server on a UNIX socket.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGuestVerb } from '../../lib/cli/verbs/guest.ts';
import { fakeGuestRunner, runVerb } from './demo-fakes.ts';

interface ExtraDevice { spec: string; id: string; name: string; slot: number }
interface QemuModule {
  parseExtraDevices(specs: unknown): ExtraDevice[];
  checkDeviceNames(bin: string, extra: ExtraDevice[]): void;
  qemuBinary(path?: string): string;
  qemuArgs(o: Record<string, unknown>): string[];
}
interface QmpClientLike {
  execute(cmd: string, args?: unknown): Promise<unknown>;
  deviceDel(id: string, timeoutMs?: number): Promise<void>;
  close(): void;
}
interface QmpModule { QmpClient: { connect(path: string, o?: { timeoutMs?: number }): Promise<QmpClientLike> } }
interface RelayModule { startQmpRelay(o: { resultsDir: string; socketPath: string; log: (m: string) => void }): () => void }
const script = async <T>(name: string): Promise<T> =>
  (await import(pathToFileURL(join(import.meta.dirname, '../../scripts/guest', name)).href)) as T;

t.test('guest --device/--qemu-arg/--qemu reach the runner, in order; its errors get the CLI status', async (t) => {
  const fake = fakeGuestRunner({ status: 0 });
  const r = await runVerb(createGuestVerb(fake.load), ['--device', 'e1000e', '--device', 'pci-testdev,id=t0',
    '--qemu-arg', '-object', '--qemu-arg', 'memory-backend-ram,id=m0,size=1M', '--qemu', '/opt/qemu/bin/qemu-system-x86_64', '--', 'true']);
  t.equal(r.code, 0);
  t.match(fake.calls[0], { extraDevices: ['e1000e', 'pci-testdev,id=t0'], qemuArgs: ['-object', 'memory-backend-ram,id=m0,size=1M'], qemu: '/opt/qemu/bin/qemu-system-x86_64' });
  const plain = fakeGuestRunner({ status: 0 });
  await runVerb(createGuestVerb(plain.load), ['--', 'true']);
  t.same(plain.calls[0]?.extraDevices, []);
  t.equal(plain.calls[0]?.qemu, undefined);

  const unknown = Object.assign(new Error("unknown QEMU device 'e1000x' (--device e1000x): run `qemu-system-x86_64 -device help`"), { code: 'EUSAGE' });
  const u = await runVerb(createGuestVerb(fakeGuestRunner({}, [], unknown).load), ['--device', 'e1000x', '--', 'true']);
  t.equal(u.code, 2);
  t.match(u.stderr, /unknown QEMU device 'e1000x'.*-device help/);
  const missing = Object.assign(new Error('--qemu /nope: no such executable'), { code: 'ENOENT' });
  const m = await runVerb(createGuestVerb(fakeGuestRunner({}, [], missing).load), ['--qemu', '/nope', '--', 'true']);
  t.equal(m.code, 3);
  t.match(m.stderr, /--qemu \/nope: no such executable/);
});

t.test('extra devices: an id each, their own root port at a fixed slot, QMP socket and native hotplug', async (t) => {
  const q = await script<QemuModule>('qemu.mjs');
  const extra = q.parseExtraDevices(['e1000e', 'pci-testdev,id=mine']);
  t.same(extra.map((d) => [d.spec, d.id, d.name, d.slot]), [['e1000e,id=ddkdev0', 'ddkdev0', 'e1000e', 0x10], ['pci-testdev,id=mine', 'mine', 'pci-testdev', 0x11]]);
  t.throws(() => q.parseExtraDevices(['e1000e,bus=pcie.0']), { code: 'EUSAGE', message: /leave out bus=/ });
  t.throws(() => q.parseExtraDevices(['e1000e x']), { code: 'EUSAGE' });
  t.throws(() => q.parseExtraDevices(Array(9).fill('edu')), { code: 'EUSAGE', message: /at most 8/ });
  const args = q.qemuArgs({ vmlinux: 'v', initramfs: 'i', resultsDir: '/r', devices: [], kvm: false, cmdline: [], extra, qemuArgs: ['-object', 'x'], qmpSocket: '/r/qmp.sock' });
  const line = args.join(' ');
  t.match(line, /-device pcie-root-port,id=ddkrp0,bus=pcie\.0,chassis=1,slot=1,addr=0x10 -device e1000e,id=ddkdev0,bus=ddkrp0/);
  t.match(line, /-device pcie-root-port,id=ddkrp1,bus=pcie\.0,chassis=2,slot=2,addr=0x11 -device pci-testdev,id=mine,bus=ddkrp1/);
  t.match(line, /-global ICH9-LPC\.acpi-pci-hotplug-with-bridge-support=off/);
  t.match(line, /-qmp unix:\/r\/qmp\.sock,server=on,wait=off -object x$/, 'QMP, then the user\'s arguments last');
  t.notMatch(q.qemuArgs({ vmlinux: 'v', initramfs: 'i', resultsDir: '/r', devices: [], kvm: false, cmdline: [] }).join(' '), /-global|root-port/, 'nothing extra without --device');
  t.throws(() => q.qemuBinary('/nope/qemu'), { code: 'ENOENT', message: /^--qemu \/nope\/qemu: no such executable/ });
  if (existsSync('/usr/bin/qemu-system-x86_64')) {
    t.throws(() => q.checkDeviceNames('/usr/bin/qemu-system-x86_64', q.parseExtraDevices(['e1000x'])), { code: 'EUSAGE', message: /unknown QEMU device 'e1000x'.*-device help/ });
    t.doesNotThrow(() => q.checkDeviceNames('/usr/bin/qemu-system-x86_64', q.parseExtraDevices(['e1000e', 'pci-testdev'])));
  }
});

/** A QMP server as QEMU's: greeting, capabilities first, DEVICE_DELETED a little after device_del. */
function fakeQmp(path: string): { server: Server; seen: unknown[] } {
  const seen: unknown[] = [];
  const server = createServer((sock: Socket) => {
    const send = (o: unknown): void => { sock.write(`${JSON.stringify(o)}\n`); };
    send({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: '' }, capabilities: [] } });
    let negotiated = false;
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; arguments?: { id?: string } };
        buf = buf.slice(nl + 1);
        seen.push(msg);
        if (msg.execute === 'qmp_capabilities') { negotiated = true; send({ return: {} }); continue; }
        if (!negotiated) { send({ error: { class: 'CommandNotFound', desc: 'Expecting capabilities negotiation with \'qmp_capabilities\'' } }); continue; }
        if (msg.execute === 'device_del') {
          if (msg.arguments?.id !== 'dev0') { send({ error: { class: 'DeviceNotFound', desc: `Device '${String(msg.arguments?.id)}' not found` } }); continue; }
          send({ return: {} });
          setTimeout(() => send({ event: 'DEVICE_DELETED', data: { device: 'dev0', path: '/machine/peripheral/dev0' } }), 50);
          continue;
        }
        send({ return: { status: 'running' } });
      }
    });
  });
  server.listen(path);
  return { server, seen };
}

t.test('QmpClient: capabilities first, results and errors in order, device_del waits for DEVICE_DELETED', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qmp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'qmp.sock');
  const { QmpClient } = await script<QmpModule>('qmp.mjs');
  const late = QmpClient.connect(path, { timeoutMs: 5000 }); // the socket appears after the client starts
  await sleep(150);
  const { server, seen } = fakeQmp(path);
  t.teardown(() => { server.close(); });
  const qmp = await late;
  t.same(await qmp.execute('query-status'), { status: 'running' });
  await t.rejects(qmp.deviceDel('nope'), { code: 'EQMP', qmpClass: 'DeviceNotFound' });
  const started = Date.now();
  await qmp.deviceDel('dev0');
  t.ok(Date.now() - started >= 40, 'resolved on the event, not on the return');
  t.same(seen.map((m) => (m as { execute: string }).execute), ['qmp_capabilities', 'query-status', 'device_del', 'device_del']);
  qmp.close();
  await t.rejects(QmpClient.connect(join(dir, 'none.sock'), { timeoutMs: 200 }), { code: 'ENOENT' });
});

t.test('QMP relay: a request file in the run folder gets a reply file, one at a time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qmp-relay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { server } = fakeQmp(join(dir, 'qmp.sock'));
  const { startQmpRelay } = await script<RelayModule>('qmp-relay.mjs');
  const stop = startQmpRelay({ resultsDir: dir, socketPath: join(dir, 'qmp.sock'), log: () => {} });
  t.teardown(() => { stop(); server.close(); });
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
  t.match(await ask('{"execute":"device_del","arguments":{"id":"x"}}'), { error: { class: 'DeviceNotFound' } });
  t.match(await ask('not json'), { error: { class: 'GenericError', desc: /bad qmp-request\.json/ } });
  t.match(await ask('{"arguments":{}}'), { error: { desc: /needs "execute"/ } });
});
