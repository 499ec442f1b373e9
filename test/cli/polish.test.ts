// What a new user runs into at the prompt (issue 16 item 4): version, typos, numbers, JSON on every
// outcome, empty and broken sysfs, doctor's checks on /proc/interrupts and /dev/vfio/vfio.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestCacheProblem } from '../../lib/cli/demo-guest.ts';
import { closest, editDistance } from '../../lib/cli/suggest.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { runCli } from './harness.ts';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function fixture(t: { teardown(fn: () => void): void }, options: Parameters<typeof makeFixture>[0] = {}) {
  const fx = makeFixture(options);
  t.teardown(fx.cleanup);
  return fx;
}

t.test('--version prints the package version (and JSON with --json)', async (t) => {
  const fx = fixture(t);
  const r = await runCli(['--version'], fx);
  t.equal(r.code, 0);
  t.equal(r.stdout, `vfio-ddk ${version}\n`);
  t.same(JSON.parse((await runCli(['--version', '--json'], fx)).stdout), { version });
  t.match((await runCli(['--help'], fx)).stdout, /vfio-ddk --version/);
});

t.test('an unknown verb or option gets "did you mean"', async (t) => {
  const fx = fixture(t);
  const verb = await runCli(['lsit'], fx);
  t.equal(verb.code, 2);
  t.match(verb.stderr, /^vfio-ddk: unknown command "lsit" \(did you mean list\?\)/);
  t.match((await runCli(['docter'], fx)).stderr, /did you mean doctor\?/);
  t.notMatch((await runCli(['frobnicate'], fx)).stderr, /did you mean/, 'nothing close: no guess');
  t.match((await runCli(['--json', 'list'], fx)).stderr, /options go after the command/);
  const option = await runCli(['list', '--vfio-onyl'], fx);
  t.equal(option.code, 2);
  t.match(option.stderr, /vfio-ddk list: unknown option --vfio-onyl \(did you mean --vfio-only\?\)/);
  t.match((await runCli(['irqtop', '--intervl', '1'], fx)).stderr, /unknown option --intervl \(did you mean --interval\?\)/);
  t.match((await runCli(['list', '--jsno'], fx)).stderr, /did you mean --json\?/);
  t.equal(closest('vfio', ['vfio-only', 'json']), 'vfio-only', 'a unique prefix');
  t.equal(editDistance('lsit', 'list'), 1, 'a swap counts once');
});

t.test('negative numbers get the range message, not "argument is ambiguous"', async (t) => {
  const fx = fixture(t);
  for (const argv of [['irqtop', '--interval', '-1'], ['irqtop', '--count', '-5'], ['irqtop', '--count=-5'], ['guest', '--timeout', '-3', '--', 'true']]) {
    const r = await runCli(argv, fx);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.stderr, /must be (a number|an integer) from .* to .*, got "-\d+"/, argv.join(' '));
    t.notMatch(r.stderr, /ambiguous/);
  }
});

t.test('numbers are parsed one way everywhere: 1e3 and 0.5 read as numbers; integer options refuse 1.5', async (t) => {
  const fx = fixture(t);
  let slept: number[] = [];
  const sleep = async (ms: number): Promise<void> => { slept.push(ms); };
  t.equal((await runCli(['irqtop', '--interval', '5e-1', '--count', '1'], fx, { sleep })).code, 0);
  t.same(slept, [500], '5e-1 s');
  slept = [];
  t.equal((await runCli(['irqtop', '--interval', '0.25', '--count', '2e0', '--json'], fx, { sleep })).code, 0);
  t.same(slept, [250, 250], '0.25 s, 2e0 refreshes');
  const half = await runCli(['irqtop', '--count', '1.5'], fx, { sleep });
  t.equal(half.code, 2);
  t.match(half.stderr, /--count must be an integer from 1 to 9007199254740991 \(2\^53 - 1\), got "1\.5"/);
  t.match((await runCli(['irqtop', '--interval', '1e9'], fx)).stderr, /--interval must be a number from 0\.1 to 3600, got "1e9"/);
  t.match((await runCli(['irqtop', '--interval', '0x10'], fx)).stderr, /--interval must be a number/);
});

t.test('--json answers in JSON on every outcome: usage errors, bad BDFs, missing files', async (t) => {
  const fx = fixture(t);
  const cases: [string[], number, string][] = [
    [['info', '--json', 'nonsense'], 2, 'ERR_BAD_BDF'],
    [['info', '--json', '0000:00:1d.0'], 3, 'ENOENT'],
    [['doctor', '--json', '00:01.0;reboot'], 2, 'ERR_BAD_BDF'],
    [['list', '--json', 'extra'], 2, 'ERR_USAGE'],
    [['list', '--json', '--bogus'], 2, 'ERR_USAGE'],
    [['irqtop', '--json', '--count', '-1'], 2, 'ERR_USAGE'],
    [['demo', '--json', '--guest', '--device', '00:01.0'], 2, 'ERR_USAGE'],
    [['demo', '--json', '--device', '0000:00:03.0'], 1, ''],
    [['lsit', '--json'], 2, 'ERR_USAGE'],
  ];
  for (const [argv, status, code] of cases) {
    const r = await runCli(argv, fx);
    t.equal(r.code, status, argv.join(' '));
    const doc = JSON.parse(r.stdout) as { ok: boolean; exitStatus: number; error: { code: string | null; message: string } };
    t.equal(doc.ok, false, argv.join(' '));
    t.equal(doc.exitStatus, status);
    if (code !== '') t.equal(doc.error.code, code, argv.join(' '));
    t.match(doc.error.message, /\S/);
    t.match(r.stderr, /vfio-ddk/, 'the human line still goes to stderr');
  }
  rmSync(join(fx.proc, 'interrupts'));
  const irq = await runCli(['irqtop', '--once', '--json'], fx);
  t.equal(irq.code, 3);
  t.match(JSON.parse(irq.stdout), { ok: false, error: { code: 'ENOENT', message: /cannot read .*interrupts/ } });
});

t.test('list --vfio-only with nothing bound says so', async (t) => {
  const fx = fixture(t, { devices: [{ bdf: '0000:00:03.0', config: { vendor: 0x8086, device: 0x10d3, classCode: 0x020000 }, driver: 'e1000e', group: 3 }] });
  const r = await runCli(['list', '--vfio-only'], fx);
  t.equal(r.code, 0);
  t.match(r.stdout, /^no PCI function is bound to vfio-pci \(1 function\(s\) under .*\/bus\/pci\/devices\): `vfio-ddk list` shows them, `sudo vfio-ddk bind <bdf>` binds one\n$/);
  t.same(JSON.parse((await runCli(['list', '--vfio-only', '--json'], fx)).stdout), []);
});

t.test('garbage sysfs numbers are shown as unreadable, not as 8.6e22', async (t) => {
  const fx = fixture(t);
  writeFileSync(fx.devicePath('0000:00:01.0', 'numa_node'), '86000000000000000000000\n');
  writeFileSync(fx.devicePath('0000:00:01.0', 'irq'), '99999999999\n');
  writeFileSync(fx.devicePath('0000:00:01.0', 'class'), '0xffffffffffff\n');
  const info = await runCli(['info', '--sysfs-only', '0000:00:01.0'], fx);
  t.equal(info.code, 0, info.stderr);
  t.match(info.stdout, /numa node:\s+unreadable\s+irq: unreadable/);
  t.match(info.stdout, /class:\s+\? \[\?\?\?\?\?\?\]/);
  t.notMatch(info.stdout, /e\+?22|8\.6/);
  const list = await runCli(['list'], fx);
  t.equal(list.code, 0);
  t.match(list.stdout, /0000:00:01\.0 .* class \?\?\?\?\?\? /);
  t.match(list.stdout, /0000:00:01\.0: unreadable sysfs value\(s\): class, numa_node, irq/);
  const json = (JSON.parse((await runCli(['list', '--json'], fx)).stdout) as { bdf: string; numaNode: unknown; irq: unknown; unreadable: string[] }[])
    .find((d) => d.bdf === '0000:00:01.0');
  t.match(json, { numaNode: null, irq: null, unreadable: ['class', 'numa_node', 'irq'] });
});

t.test('one unreadable device does not abort list', async (t) => {
  const fx = fixture(t);
  // A vendor attribute that cannot be read (EISDIR: any error but "absent").
  unlinkSync(fx.devicePath('0000:00:03.1', 'vendor'));
  mkdirSync(fx.devicePath('0000:00:03.1', 'vendor'));
  const r = await runCli(['list'], fx);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /0000:00:01\.0/);
  t.match(r.stdout, /0000:00:06\.1/);
  t.notMatch(r.stdout, /0000:00:03\.1/);
  t.match(r.stderr, /^vfio-ddk list: 0000:00:03\.1 skipped, unreadable: cannot read .*03\.1\/vendor/m);
  // Its group mate cannot be judged without it (is the group viable?): set apart too, saying why.
  t.match(r.stderr, /^vfio-ddk list: 0000:00:03\.0 skipped, unreadable: cannot read .*03\.1\/vendor/m);
  const json = JSON.parse((await runCli(['list', '--json'], fx)).stdout) as { bdf: string; error?: { code: string } }[];
  t.match(json.find((d) => d.bdf === '0000:00:03.1'), { error: { code: /^E|^ERR_/ } });
  t.ok(json.length >= 9, 'the others are all there');
  t.equal((await runCli(['info', '--sysfs-only', '0000:00:01.0'], fx)).code, 0, 'info of another device works too');
});

t.test('doctor: an unreadable /proc/interrupts is a [FAIL] line; /dev/vfio/vfio must be a character device', async (t) => {
  const fx = fixture(t);
  rmSync(join(fx.proc, 'interrupts'));
  mkdirSync(join(fx.proc, 'interrupts'));
  const r = await runCli(['doctor'], fx);
  t.equal(r.code, 1);
  t.match(r.stdout, /^\[FAIL\] cannot read .*interrupts: .*: interrupt remapping cannot be judged without it\n\s+fix: /m);
  rmSync(join(fx.proc, 'interrupts'), { recursive: true });
  t.match((await runCli(['doctor'], fx)).stdout, /^\[FAIL\] cannot read .*interrupts: no such file \(is \/proc mounted\?\)/m);

  const fx2 = fixture(t);
  unlinkSync(join(fx2.dev, 'vfio', 'vfio'));
  writeFileSync(join(fx2.dev, 'vfio', 'vfio'), '');
  const node = await runCli(['doctor'], fx2);
  t.equal(node.code, 1);
  t.match(node.stdout, /^\[FAIL\] .*\/dev\/vfio\/vfio is not a character device \(VFIO's container node is char 10:196\)\n\s+fix: sudo rm /m);
  t.match((await runCli(['doctor'], fixture(t))).stdout, /\[ ok \] .*\/dev\/vfio\/vfio is readable and writable/, 'a character device passes');
});

t.test('guest from an installed package: its cache must be writable, or it says why not', async (t) => {
  const top = mkdtempSync(join(tmpdir(), 'vfio-ddk-guest-cache-'));
  t.teardown(() => rmSync(top, { recursive: true, force: true }));
  const installed = join(top, 'app', 'node_modules', 'vfio-ddk');
  mkdirSync(installed, { recursive: true });
  const note = guestCacheProblem(installed, join(installed, '.cache', 'guest'));
  t.match(note, { note: /inside the installed package: npm replaces it on every install/ });
  t.equal(guestCacheProblem(installed, join(top, 'home', '.cache', 'vfio-ddk')), null, 'the user\'s cache folder is fine');
  t.equal(guestCacheProblem(join(top, 'checkout'), join(top, 'checkout', '.cache', 'guest')), null, 'a checkout is fine');
  if (process.getuid?.() !== 0) {
    chmodSync(installed, 0o555);
    t.teardown(() => chmodSync(installed, 0o755));
    t.match(guestCacheProblem(installed, join(installed, '.cache', 'guest')), { error: /is not writable by this user \(an installed package, e\.g\. installed by root\)/ });
  }
});
