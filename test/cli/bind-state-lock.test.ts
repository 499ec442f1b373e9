/**
 * The bind state under concurrency and bad locations (issue 15 row 8): concurrent writers never lose
 * an entry; a state dir that is a file, or a bindings.json that is a directory, fails before sysfs is
 * touched; a lock left by a crashed bind is taken over.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBindStateDir, loadBindState, withBindState } from '../../lib/cli/bind-state.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { runCli } from './harness.ts';

function writer(stateDir: string, bus: string, count: number, mode = 'locked'): Promise<number | null> {
  const child = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, 'bind-state-writer.ts'), stateDir, bus, String(count), mode], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

t.test('three processes adding entries at once lose none of them', async (t) => {
  const dir = join(t.testdir({}), 'state');
  const codes = await Promise.all(['1', '2', '3'].map((bus) => writer(dir, bus, 12)));
  t.same(codes, [0, 0, 0]);
  t.equal(Object.keys(loadBindState(dir)).length, 36, 'every entry of every writer is there');
  t.notOk(existsSync(join(dir, 'bindings.lock')), 'the lock is released');
});

t.test('a lock whose holder died is taken over; a live holder makes the wait end in EBUSY', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'bindings.lock'), '999999999\n');
  t.equal(withBindState(dir, () => 'ran'), 'ran');
  writeFileSync(join(dir, 'bindings.lock'), `${process.pid}\n`);
  t.throws(() => withBindState(dir, () => 'ran', 50), { code: 'EBUSY', message: new RegExp(`pid ${process.pid}`) });
});

t.test('a state dir that is a file or a bindings.json that is a directory fails before any sysfs write', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  mkdirSync(join(fx.state, '..'), { recursive: true });
  writeFileSync(fx.state, 'not a directory');
  const file = await runCli(['bind', '0000:00:02.0'], fx);
  t.equal(file.code, 1);
  t.match(file.stderr, /must be a directory.*VFIO_DDK_STATE_DIR|not a directory.*VFIO_DDK_STATE_DIR/);
  t.same(fx.writes, [], 'sysfs untouched');
  t.throws(() => checkBindStateDir(fx.state), { code: 'ENOTDIR' });

  const fx2 = makeFixture();
  t.teardown(fx2.cleanup);
  mkdirSync(join(fx2.state, 'bindings.json'), { recursive: true });
  const dir = await runCli(['bind', '0000:00:02.0'], fx2);
  t.equal(dir.code, 1);
  t.match(dir.stderr, /bindings\.json is not a regular file/);
  t.same(fx2.writes, [], 'sysfs untouched');
});
