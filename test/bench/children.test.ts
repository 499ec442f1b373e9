/**
 * scripts/bench/children.mjs: what `bench` kills on Ctrl-C (the guest QEMU, builds) — every
 * descendant of the process, grandchildren included, and nothing else.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const CHILDREN = pathToFileURL(join(import.meta.dirname, '..', '..', 'scripts', 'bench', 'children.mjs')).href;

/** Running (a killed grandchild may linger as a zombie until its new parent reaps it: that is gone). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

t.test('killDescendants stops children and grandchildren of this process only', async (t) => {
  const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => { bystander.kill('SIGKILL'); });
  const script = `
    import { spawn } from 'node:child_process';
    import { descendants, killDescendants } from ${JSON.stringify(CHILDREN)};
    const child = spawn('sh', ['-c', 'sleep 30 & sleep 30; wait'], { stdio: 'ignore' });
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    await wait(300);
    const before = descendants();
    const killed = killDescendants('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await wait(100);
    console.log(JSON.stringify({ before, killed, child: child.pid }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { before: number[]; killed: number[]; child: number };
  t.equal(out.before.length, 3, 'sh and its two sleeps');
  t.ok(out.before.includes(out.child), 'the direct child');
  t.same([...out.killed].sort(), [...out.before].sort());
  for (const pid of out.killed) t.notOk(alive(pid), `pid ${pid} is gone`);
  t.ok(bystander.pid !== undefined && alive(bystander.pid), 'a process that is not a descendant is left alone');
});
