import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseVerbArgs } from '../../lib/cli/args.ts';
import { createGuestVerb, guestVerb } from '../../lib/cli/verbs/guest.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { fakeGuestRunner, runVerb } from './demo-fakes.ts';
import { runCli } from './harness.ts';

// Every command line here is invalid, so the real verb refuses it before loading the runner: no QEMU.
t.test('guest refuses bad command lines with a usage error (exit 2)', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  const cases: [string[], RegExp][] = [
    [['guest'], /no command: vfio-ddk guest \[options\] -- <command…>, or --shell/],
    [['guest', '--'], /no command/],
    [['guest', '--', ''], /no command/],
    [['guest', '--devices', 'edu,gpu', '--', 'true'], /unknown guest device "gpu": --devices takes a comma-separated list of edu, nvme \(or none\)/],
    [['guest', '--devices', '', '--', 'true'], /unknown guest device ""/],
    [['guest', '--devices', 'edu,edu', '--', 'true'], /--devices names edu twice/],
    [['guest', '--shell', '--', 'ls'], /--shell takes no command/],
    [['guest', '--timeout', '0', '--', 'true'], /--timeout must be an integer from 1 to 86400, got "0"/],
    [['guest', '--timeout', 'soon', '--', 'true'], /--timeout must be an integer/],
    [['guest', '--timeout', '-5', '--', 'true'], /--timeout must be an integer from 1 to 86400, got "-5"/],
    [['guest', '--timeout', '1.5', '--', 'true'], /--timeout must be an integer from 1 to 86400, got "1\.5"/],
    [['guest', '--timout', '5', '--', 'true'], /unknown option --timout \(did you mean --timeout\?\)/],
    [['guest', '--devices'], /--devices/],
    [['guest', '--frobnicate'], /frobnicate/],
    [['guest', '--kernel', 'linux', '--', 'true'], /unknown guest kernel "linux": --kernel takes debian, iommufd or the path of a vmlinux\/bzImage/],
    [['guest', '--kernel'], /--kernel/],
    [['guest', 'ls', '-la'], /unknown option -l \(a command's own options go after "--": vfio-ddk guest \[options\] \[-- command…\]\)/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCli(argv, fx);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.stderr, message, argv.join(' '));
    t.match(r.stderr, /Run `vfio-ddk guest --help` for usage/);
    t.equal(r.stdout, '');
  }
});

t.test('guest --help explains the guest; --help after -- belongs to the command', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  const help = await runCli(['guest', '--help'], fx);
  t.equal(help.code, 0);
  t.match(help.stdout, /--devices LIST[\s\S]*--shell[\s\S]*--timeout SECONDS[\s\S]*VFIO_DDK_EDU_BDF[\s\S]*needs root/);
  t.match(help.stdout, /^Usage: vfio-ddk guest \[options\] \[-- command…\]\n/, 'options before "--" in the usage line');
  t.same(parseVerbArgs(guestVerb.spec, ['--', 'npx', 'tap', '--help'])?.positionals, ['npx', 'tap', '--help']);
});

t.test('guest runs the command in the guest at the current directory and exits with its status', async (t) => {
  const fake = fakeGuestRunner({ status: 7 }, ['hello from the guest']);
  const r = await runVerb(createGuestVerb(fake.load), ['--devices', 'edu', '--timeout', '60', '--', 'node', '-e', "console.log('a b')"]);
  t.equal(r.code, 7, 'the command\'s status');
  t.equal(r.stdout, 'hello from the guest\n');
  t.match(r.stderr, /\[guest\] done: status 7/);
  t.match(fake.calls[0], { command: `node -e 'console.log('\\''a b'\\'')'`, shell: false, devices: ['edu'], cwd: process.cwd(), timeoutMs: 60_000 });
});

t.test('guest: one command word is a shell command as written; defaults are both devices and 300 s', async (t) => {
  const fake = fakeGuestRunner({ status: 0 });
  t.equal((await runVerb(createGuestVerb(fake.load), ['--', 'node bin/vfio-ddk.mjs demo --device $VFIO_DDK_EDU_BDF'])).code, 0);
  t.match(fake.calls[0], { command: 'node bin/vfio-ddk.mjs demo --device $VFIO_DDK_EDU_BDF', devices: ['edu', 'nvme'], timeoutMs: 300_000 });
  const none = fakeGuestRunner({ status: 0 });
  await runVerb(createGuestVerb(none.load), ['--devices', 'none', '--', 'true']);
  t.same(none.calls[0]?.devices, []);
});

t.test('guest --shell: interactive, no time limit unless asked', async (t) => {
  const fake = fakeGuestRunner({ status: 0 });
  t.equal((await runVerb(createGuestVerb(fake.load), ['--shell', '--devices', 'nvme'])).code, 0);
  t.match(fake.calls[0], { shell: true, devices: ['nvme'] });
  t.equal(fake.calls[0]?.command, undefined);
  t.equal(fake.calls[0]?.timeoutMs, undefined);
  const limited = fakeGuestRunner({ status: 0 });
  await runVerb(createGuestVerb(limited.load), ['--shell', '--timeout', '30']);
  t.equal(limited.calls[0]?.timeoutMs, 30_000);
});

t.test('guest as a user without the packages: the exact apt-get command to run as root, exit 3', async (t) => {
  const err = Object.assign(new Error('the QEMU guest needs these Debian packages: busybox-static\ninstall them as root (about 86 MB to download):\n  sudo sh -c \'apt-get update && apt-get install -y --no-install-recommends busybox-static\''), { code: 'EPERM' });
  const r = await runVerb(createGuestVerb(fakeGuestRunner({}, [], err).load), ['--', 'true']);
  t.equal(r.code, 3);
  t.match(r.stderr, /needs these Debian packages: busybox-static[\s\S]*sudo sh -c[\s\S]*first run needs root/);
  const other = await runVerb(createGuestVerb(fakeGuestRunner({}, [], new Error('qemu exploded')).load), ['--', 'true']);
  t.equal(other.code, 1);
  t.match(other.stderr, /qemu exploded/);
});

t.test('guest --kernel: the choice reaches the runner; a bad kernel file is one line with the CLI status', async (t) => {
  const fake = fakeGuestRunner({ status: 0, kernel: 'iommufd 6.12.118' });
  const r = await runVerb(createGuestVerb(fake.load), ['--kernel', 'iommufd', '--', 'true']);
  t.equal(r.code, 0);
  t.equal(fake.calls[0]?.kernel, 'iommufd');
  t.match(r.stderr, /done: status 0, .*\(tcg, iommufd 6\.12\.118\)/, 'the done line names the kernel');
  const byPath = fakeGuestRunner({ status: 0 });
  await runVerb(createGuestVerb(byPath.load), ['--kernel', './my/bzImage', '--', 'true']);
  t.equal(byPath.calls[0]?.kernel, './my/bzImage');
  const plain = fakeGuestRunner({ status: 0 });
  await runVerb(createGuestVerb(plain.load), ['--', 'true']);
  t.equal(plain.calls[0]?.kernel, undefined, 'no --kernel: the runner\'s default (debian)');

  const missing = Object.assign(new Error('--kernel /nope/vmlinux: no such file'), { code: 'ENOENT' });
  const m = await runVerb(createGuestVerb(fakeGuestRunner({}, [], missing).load), ['--kernel', '/nope/vmlinux', '--', 'true']);
  t.equal(m.code, 3);
  t.match(m.stderr, /--kernel \/nope\/vmlinux: no such file/);
  const notKernel = Object.assign(new Error('--kernel /etc/passwd: not a kernel image (neither an ELF vmlinux nor a bzImage)'), { code: 'ENOEXEC' });
  const n = await runVerb(createGuestVerb(fakeGuestRunner({}, [], notKernel).load), ['--kernel', '/etc/passwd', '--', 'true']);
  t.equal(n.code, 2);
  t.match(n.stderr, /not a kernel image/);
  const build = Object.assign(new Error('the kernel config fragment did not stick'), { code: 'EBUILD' });
  const b = await runVerb(createGuestVerb(fakeGuestRunner({}, [], build).load), ['--kernel', 'iommufd', '--', 'true']);
  t.equal(b.code, 1);
  t.match(b.stderr, /did not stick/);
});

/** The guest scripts are plain JavaScript: loaded by URL, typed here by what the tests use. */
interface KernelBuild {
  FRAGMENT: string;
  LINUX_SOURCE: { package: string; version: string };
  cacheRoot(env: Record<string, string | undefined>): string;
  fragmentOptions(text: string): [string, string | null][];
  unmetOptions(fragment: string, config: string): [string, string, string][];
  kernelKey(version?: string, fragment?: string): string;
  ensureBuiltKernel(o: { env: Record<string, string | undefined>; log?: (m: string) => void }): Promise<{ vmlinux: string; cached: boolean }>;
}
const script = async <T>(name: string): Promise<T> =>
  (await import(pathToFileURL(join(import.meta.dirname, '../../scripts/guest', name)).href)) as T;

t.test('kernel build: the fragment is checked option by option after olddefconfig', async (t) => {
  const kb = await script<KernelBuild>('kernel-build.mjs');
  t.same(kb.fragmentOptions('# a comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_N=64\n\n'), [['CONFIG_A', 'y'], ['CONFIG_B', null], ['CONFIG_N', '64']]);
  const fragment = 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_N=64\n';
  t.same(kb.unmetOptions(fragment, 'CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_N=32\n'),
    [['CONFIG_B', 'n', 'y'], ['CONFIG_C', 'y', 'n'], ['CONFIG_N', '64', '32']]);
  t.same(kb.unmetOptions(fragment, 'CONFIG_A=y\nCONFIG_C=y\nCONFIG_N=64\n'), [], 'an option left out counts as not set');
  const real = kb.fragmentOptions(readFileSync(kb.FRAGMENT, 'utf8'));
  const names = new Map(real);
  for (const o of ['CONFIG_PVH', 'CONFIG_IOMMUFD', 'CONFIG_VFIO_DEVICE_CDEV', 'CONFIG_VFIO_CONTAINER', 'CONFIG_VFIO_IOMMU_TYPE1', 'CONFIG_VFIO_PCI',
    'CONFIG_INTEL_IOMMU_DEFAULT_ON', 'CONFIG_IRQ_REMAP', 'CONFIG_NET_9P_VIRTIO', 'CONFIG_9P_FS', 'CONFIG_HOTPLUG_PCI_PCIE', 'CONFIG_DEVTMPFS', 'CONFIG_HUGETLBFS']) {
    t.equal(names.get(o), 'y', `${o}=y in the fragment`);
  }
  t.equal(names.get('CONFIG_MODULES'), null, 'everything built in: no modules');
});

t.test('kernel build: keyed by source version + fragment, cached outside the clone, reused without building', async (t) => {
  const kb = await script<KernelBuild>('kernel-build.mjs');
  t.equal(kb.cacheRoot({ VFIO_DDK_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c');
  t.equal(kb.cacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/vfio-ddk');
  t.equal(kb.cacheRoot({ HOME: '/h' }), '/h/.cache/vfio-ddk');
  t.match(kb.kernelKey(), new RegExp(`^linux-${kb.LINUX_SOURCE.version.replace(/[^\w.+-]/g, '_').replace(/[.+]/g, '\\$&')}-[0-9a-f]{12}$`));
  t.not(kb.kernelKey('6.12.1-1', 'CONFIG_A=y\n'), kb.kernelKey('6.12.1-1', 'CONFIG_A=y\nCONFIG_B=y\n'), 'another fragment, another key');
  t.not(kb.kernelKey('6.12.1-1', 'CONFIG_A=y\n'), kb.kernelKey('6.12.2-1', 'CONFIG_A=y\n'), 'another source, another key');
  const cache = mkdtempSync(join(tmpdir(), 'vfio-ddk-kcache-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const vmlinux = join(cache, 'kernels', kb.kernelKey(), 'vmlinux');
  mkdirSync(dirname(vmlinux), { recursive: true });
  writeFileSync(vmlinux, 'built before');
  const started = Date.now();
  const k = await kb.ensureBuiltKernel({ env: { VFIO_DDK_CACHE: cache } });
  t.same(k, { vmlinux, dir: dirname(vmlinux), version: kb.LINUX_SOURCE.version, cached: true, seconds: 0 });
  t.ok(Date.now() - started < 5000, 'no build, no download');
});

t.test('kernel build: a second build of the same kernel waits for the running one instead of building too', async (t) => {
  const kb = await script<KernelBuild>('kernel-build.mjs');
  const cache = mkdtempSync(join(tmpdir(), 'vfio-ddk-klock-'));
  const owner = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => { owner.kill(); rmSync(cache, { recursive: true, force: true }); });
  const lock = join(cache, 'kernels', `.lock-${kb.kernelKey()}`);
  mkdirSync(lock, { recursive: true });
  writeFileSync(join(lock, 'pid'), `${owner.pid}\n`);
  const vmlinux = join(cache, 'kernels', kb.kernelKey(), 'vmlinux');
  setTimeout(() => { mkdirSync(dirname(vmlinux), { recursive: true }); writeFileSync(vmlinux, 'built by the other'); }, 500);
  const lines: string[] = [];
  const k = await kb.ensureBuiltKernel({ env: { VFIO_DDK_CACHE: cache }, log: (m) => lines.push(m) });
  t.match(k, { vmlinux, cached: true });
  t.match(lines.join('\n'), new RegExp(`another build of this kernel is running \\(pid ${owner.pid}\\): waiting for it`));
  t.notOk(lines.some((l) => l.startsWith('downloading')), 'nothing downloaded or built');
});

/** A minimal ELF64 image with one PT_NOTE segment holding one note (name, type). */
function elfWithNote(name: string, type: number): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const pad = (n: number): number => (n + 3) & ~3;
  const note = Buffer.alloc(12 + pad(nameBytes.length) + 4);
  note.writeUInt32LE(nameBytes.length, 0);
  note.writeUInt32LE(4, 4);
  note.writeUInt32LE(type, 8);
  nameBytes.copy(note, 12);
  const image = Buffer.alloc(64 + 56 + note.length);
  image.writeUInt32BE(0x7f454c46, 0);
  image[4] = 2; // ELFCLASS64
  image[5] = 1; // little-endian
  image.writeBigUInt64LE(64n, 0x20); // e_phoff
  image.writeUInt16LE(56, 0x36); // e_phentsize
  image.writeUInt16LE(1, 0x38); // e_phnum
  image.writeUInt32LE(4, 64); // PT_NOTE
  image.writeBigUInt64LE(120n, 64 + 8); // p_offset
  image.writeBigUInt64LE(BigInt(note.length), 64 + 32); // p_filesz
  note.copy(image, 120);
  return image;
}

t.test('--kernel PATH: a PVH vmlinux or a bzImage boots; anything else is refused with what to do', async (t) => {
  const k = await script<{ checkBootableKernel(path: string): string; kernelRelease(image: Buffer): string | null }>('kernel.mjs');
  const setup = await script<{ parseKernelChoice(v: string): string }>('setup.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-kernels-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pvh'), elfWithNote('Xen', 18));
  writeFileSync(join(dir, 'nopvh'), elfWithNote('GNU', 3));
  const bz = Buffer.alloc(0x400);
  bz.write('HdrS', 0x202, 'latin1');
  bz.writeUInt16LE(0x300 - 0x200, 0x20e); // kernel_version: offset from 0x200
  bz.write('6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP\0', 0x300, 'latin1');
  t.equal(k.kernelRelease(bz), '6.1.0-57-amd64', 'a bzImage names its release (then /lib/modules/<release> is used)');
  t.equal(k.kernelRelease(Buffer.concat([elfWithNote('Xen', 18), Buffer.from('Linux version 6.12.118 (root@x) #1\0')])), '6.12.118');
  t.equal(k.kernelRelease(elfWithNote('Xen', 18)), null);
  writeFileSync(join(dir, 'bzImage'), bz);
  writeFileSync(join(dir, 'text'), 'not a kernel at all, just text');
  t.equal(k.checkBootableKernel(join(dir, 'pvh')), 'vmlinux');
  t.equal(k.checkBootableKernel(join(dir, 'bzImage')), 'bzImage');
  t.throws(() => k.checkBootableKernel(join(dir, 'nopvh')), { code: 'ENOEXEC', message: /no PVH entry point \(build it with CONFIG_PVH=y\)/ });
  t.throws(() => k.checkBootableKernel(join(dir, 'text')), { code: 'ENOEXEC', message: /not a kernel image/ });
  t.throws(() => k.checkBootableKernel(join(dir, 'missing')), { code: 'ENOENT', message: /--kernel .*missing: no such file/ });
  t.equal(setup.parseKernelChoice('debian'), 'debian');
  t.equal(setup.parseKernelChoice('iommufd'), 'iommufd');
  t.equal(setup.parseKernelChoice('./vmlinux'), join(process.cwd(), 'vmlinux'));
  t.throws(() => setup.parseKernelChoice('linux'), { code: 'EUSAGE', message: /unknown guest kernel 'linux'/ });
});
