import t from 'tap';
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
    [['guest', '--timeout', '0', '--', 'true'], /--timeout must be a number from 1/],
    [['guest', '--timeout', 'soon', '--', 'true'], /--timeout must be a number/],
    [['guest', '--devices'], /--devices/],
    [['guest', '--frobnicate'], /frobnicate/],
    [['guest', 'ls', '-la'], /Unknown option '-l'/],
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
