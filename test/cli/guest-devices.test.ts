/**
 * `vfio-ddk guest --device/--qemu-arg/--qemu` and the pieces behind them that run without a guest:
 * the extra-device command line (scripts/guest/qemu.mjs). The QMP pieces: test/cli/guest-qmp.test.ts.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGuestVerb } from '../../lib/cli/verbs/guest.ts';
import { fakeGuestRunner, runVerb } from './demo-fakes.ts';

interface ExtraDevice { spec: string; id: string; name: string; slot: number }
interface QemuModule {
  parseExtraDevices(specs: unknown): ExtraDevice[];
  checkDeviceNames(bin: string, extra: ExtraDevice[]): void;
  qemuBinary(path?: string): string;
  qemuArgs(o: Record<string, unknown>): string[];
}
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
