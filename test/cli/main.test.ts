import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { VERBS } from '../../lib/cli/main.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { runCli } from './harness.ts';

t.test('no command → usage on stderr, exit 2; --help → exit 0', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  const none = await runCli([], fx);
  t.equal(none.code, 2);
  t.match(none.stderr, /Usage: vfio-ddk <command>[\s\S]*list[\s\S]*irqtop[\s\S]*Exit status: 0 ok, 1 failure, 2 usage error/);
  const help = await runCli(['--help'], fx);
  t.equal(help.code, 0);
  t.match(help.stdout, /VFIO_DDK_SYSFS/);
  const unknown = await runCli(['frob'], fx);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command "frob"/);
});

t.test('every verb has --help with its exit statuses', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  for (const v of VERBS) {
    const r = await runCli([v.spec.name, '--help'], fx);
    t.equal(r.code, 0, v.spec.name);
    t.match(r.stdout, new RegExp(`^Usage: vfio-ddk ${v.spec.name}[\\s\\S]*-h, --help[\\s\\S]*Exit status`));
  }
});

t.test('the bin says what to run when dist/ is missing', async (t) => {
  const dir = t.testdir({});
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(import.meta.dirname, '..', '..', 'bin', 'vfio-ddk.mjs'), join(dir, 'bin', 'vfio-ddk.mjs'));
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'vfio-ddk.mjs'), 'list'], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /run `npm run build:ts`/);
});
