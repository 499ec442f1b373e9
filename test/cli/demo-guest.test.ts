import t from 'tap';
import { loadGuestRunner, packageRoot } from '../../lib/cli/demo-guest.ts';
import { createDemoVerb } from '../../lib/cli/verbs/demo.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { fakeGuestRunner, runVerb } from './demo-fakes.ts';
import { runCli } from './harness.ts';

t.test('demo --guest boots a guest with an edu and runs this package\'s `demo --device $VFIO_DDK_EDU_BDF` in it', async (t) => {
  const fake = fakeGuestRunner({ status: 0 }, ['vfio-ddk demo: QEMU edu at 0000:00:01.0 through VFIO', 'all 7 steps passed in 9.000 ms']);
  const r = await runVerb(createDemoVerb({ loadGuestRunner: fake.load }), ['--guest']);
  t.equal(r.code, 0);
  t.equal(fake.calls.length, 1);
  const call = fake.calls[0];
  t.same(call?.devices, ['edu']);
  t.equal(call?.cwd, packageRoot());
  t.ok(call?.command?.startsWith(`${process.execPath} ${packageRoot()}/bin/vfio-ddk.mjs demo --device "$VFIO_DDK_EDU_BDF"`), call?.command ?? 'no command');
  t.notMatch(call?.command ?? '', /--json/);
  t.equal(r.stdout, 'vfio-ddk demo: QEMU edu at 0000:00:01.0 through VFIO\nall 7 steps passed in 9.000 ms\n', 'guest console streamed to stdout');
  t.match(r.stderr, /\[guest\] booting[\s\S]*\[guest\] done: status 0, boot 4\.2 s, total 9\.5 s \(tcg\)/);
  const json = fakeGuestRunner({ status: 0 });
  await runVerb(createDemoVerb({ loadGuestRunner: json.load }), ['--guest', '--json']);
  t.match(json.calls[0]?.command, /demo --device "\$VFIO_DDK_EDU_BDF" --json$/);
});

t.test('demo --guest passes the demo\'s failure through; a timeout or crash is a failure (exit 1)', async (t) => {
  for (const [status, expected] of [[1, 1], [3, 3], [124, 1], [137, 1]] as const) {
    const fake = fakeGuestRunner({ status, timedOut: status === 124 });
    const r = await runVerb(createDemoVerb({ loadGuestRunner: fake.load }), ['--guest']);
    t.equal(r.code, expected, `guest status ${status}`);
    if (status === 124) t.match(r.stderr, /timed out/);
  }
});

t.test('demo --guest without root and without the guest packages: the runner\'s apt-get command, exit 3', async (t) => {
  const err = Object.assign(new Error('the QEMU guest needs these Debian packages: qemu-system-x86\ninstall them as root (about 86 MB to download):\n  sudo sh -c \'apt-get update && apt-get install -y qemu-system-x86\''), { code: 'EPERM' });
  const fake = fakeGuestRunner({}, [], err);
  const r = await runVerb(createDemoVerb({ loadGuestRunner: fake.load }), ['--guest']);
  t.equal(r.code, 3);
  t.match(r.stderr, /sudo sh -c 'apt-get update && apt-get install -y qemu-system-x86'/);
  t.match(r.stderr, /first run needs root/);
});

t.test('demo --guest with --device is a usage error; nothing boots', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  const r = await runCli(['demo', '--guest', '--device', '0000:00:01.0'], fx);
  t.equal(r.code, 2);
  t.match(r.stderr, /--guest runs the demo on the guest's own edu: drop --device[\s\S]*vfio-ddk demo --help/);
  t.equal((await runCli(['demo', 'extra'], fx)).code, 2);
});

t.test('the real runner loads from scripts/guest/guest.mjs without booting anything', async (t) => {
  t.type(await loadGuestRunner(), 'function');
});
