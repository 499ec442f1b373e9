/**
 * `vfio-ddk bench` stops on Ctrl-C (issue 15 row 10): the first SIGINT ends the run at the suite's
 * next check with exit 130, the second at once; `--plot` into a folder that cannot be written fails
 * before anything is measured (issue 16). The bench runs in a child, as the bin runs it.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.ts';

function startBench(argv: string[]): { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> } {
  const child = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, 'cli-child.ts'), 'bench', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => { err += s; });
  child.stdout?.resume();
  let interruptedAt = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - interruptedAt }));
  });
  const kill = child.kill.bind(child);
  child.kill = (sig?: NodeJS.Signals | number): boolean => { if (interruptedAt === 0) interruptedAt = Date.now(); return kill(sig); };
  return { child, stderr: () => err, exited };
}

async function progressStarted(stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!/bench: .* \d+ %/.test(stderr())) {
    if (Date.now() > deadline) throw new Error(`no progress within 60 s: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('one Ctrl-C stops a long host bench with exit 130 within seconds', async (t) => {
  const run = startBench(['--iterations', '5000000']);
  t.teardown(() => { run.child.kill('SIGKILL'); });
  await progressStarted(run.stderr);
  run.child.kill('SIGINT');
  const done = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
  t.not(done, null, `stopped within 20 s; stderr: ${run.stderr().slice(-500)}`);
  t.equal(done?.code, 130);
  t.match(run.stderr(), /interrupted: stopping[\s\S]*vfio-ddk bench: interrupted; nothing was written/);
});

t.test('two Ctrl-Cs in a row end it with 130 too', async (t) => {
  const run = startBench(['--iterations', '5000000']);
  t.teardown(() => { run.child.kill('SIGKILL'); });
  await progressStarted(run.stderr);
  run.child.kill('SIGINT');
  run.child.kill('SIGINT');
  const done = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
  t.not(done, null, `stopped within 20 s; stderr: ${run.stderr().slice(-500)}`);
  t.equal(done?.code, 130);
});

t.test('--plot into a folder that does not exist or cannot be written fails before measuring', async (t) => {
  const dir = t.testdir({ file: 'x' });
  for (const [path, code] of [[join(dir, 'missing', 'out.svg'), 3], [join(dir, 'file', 'out.svg'), 1]] as const) {
    let stderr = '';
    const started = Date.now();
    const status = await main(['bench', '--iterations', '10', '--plot', path], { stdout: () => {}, stderr: (s) => { stderr += s; } });
    t.equal(status, code, path);
    t.match(stderr, /--plot .*out\.svg/);
    t.notMatch(stderr, /bench: .* \d+ %/, 'nothing ran');
    t.ok(Date.now() - started < 2000, 'answered at once');
  }
});
