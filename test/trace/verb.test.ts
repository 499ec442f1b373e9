/**
 * `vfio-ddk trace` end to end: the CLI in a child process (as the bin runs it) recording a driver
 * that runs as a user's node program, exit statuses passed on, Ctrl-C; then -i, --replay and every
 * command-line mistake through `main` (exit 2 before anything runs; a missing file 3).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.ts';
import { traceNodeOptions } from '../../lib/cli/trace-child.ts';
import { createEduDevice } from '../../lib/emu/index.ts';
import { EduDriver } from '../../lib/drivers/edu.ts';
import { startTrace, stopTrace } from '../../lib/trace/index.ts';

const CLI = join(import.meta.dirname, '..', 'bench', 'cli-child.ts');
const DRIVER = join(import.meta.dirname, 'fixtures', 'driver.mjs');

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function cli(argv: string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, [...process.execArgv, CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; onStdout?.(stdout, child); });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  return new Promise((resolve) => { child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })); });
}

async function inProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['trace', ...argv], { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  return { code, stdout, stderr };
}

// Each recording starts two node processes that load the TypeScript sources: slow on a loaded machine.
t.setTimeout(900_000);

t.test('-o records a node program the command runs, prints the summary, draws the timeline, passes its status on', async (t) => {
  const dir = t.testdir({ 'out.json': 'an old file' });
  const file = join(dir, 'out.json');
  const r = await cli(['trace', '-o', file, '--plot', join(dir, 'out.svg'), '--', process.execPath, DRIVER, '3']);
  t.equal(r.code, 3, r.stderr);
  t.match(r.stderr, /the command exited with status 3/);
  const trace = JSON.parse(readFileSync(file, 'utf8')) as { name: string }[];
  t.ok(trace.some((e) => e.name === 'write FACTORIAL'));
  t.match(r.stdout, /out\.json: 1 device, \d+ events over/);
  t.match(r.stdout, /BAR0 IRQ_RAISE\s+0\s+1/);
  t.match(r.stdout, /MSI 0\s+2\s+2\s+[\d.]+ ?k?\/s\s+[\d.]+ [µm]s \/ .* \(1 raise\)/);
  t.match(r.stderr, /timeline → .*out\.svg/);
  t.match(readFileSync(join(dir, 'out.svg'), 'utf8'), /^<svg /);
});

t.test('a command that records nothing says so (exit 1); a command that is not there is exit 3', async (t) => {
  const dir = t.testdir();
  const none = await cli(['trace', '-o', join(dir, 'none.json'), '--', 'true']);
  t.equal(none.code, 1);
  t.match(none.stderr, /nothing was recorded — the command exited with status 0 without a node process of it opening a device or calling a kit/);
  t.notOk(existsSync(join(dir, 'none.json')));
  const missing = await cli(['trace', '-o', join(dir, 'x.json'), '--', 'vfio-ddk-no-such-command']);
  t.equal(missing.code, 3);
  t.match(missing.stderr, /cannot run "vfio-ddk-no-such-command": no such command/);
});

t.test('Ctrl-C: the command is stopped, the file ended as valid JSON, exit 130', async (t) => {
  const file = join(t.testdir(), 'ctrl-c.json');
  let sent = false;
  const r = await cli(['trace', '-o', file, '--', process.execPath, DRIVER, 'hang'], (out, child) => {
    if (!sent && out.includes('ready')) {
      sent = true;
      setTimeout(() => child.kill('SIGINT'), 100);
    }
  });
  t.equal(r.code, 130, r.stderr);
  t.match(r.stderr, /the command was ended by SIGINT before it closed .*ctrl-c\.json; its last events were kept and the file ended/);
  const events = JSON.parse(readFileSync(file, 'utf8')) as { name: string }[];
  t.ok(events.some((e) => e.name === 'write IRQ_ACK'), 'events before the Ctrl-C are in the file');
  t.match(r.stdout, /ready\n[^]*ctrl-c\.json: 1 device/);
});

t.test('-i summarizes and draws, --replay compares: equal 0, different 1, JSON on request', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'rec.json');
  startTrace(file);
  try {
    const device = createEduDevice();
    const driver = EduDriver.open(device);
    t.equal(await driver.factorial(4), 24);
    driver.close();
    device.close();
  } finally {
    stopTrace();
  }
  const summary = await inProcess(['-i', file, '--plot', join(dir, 'rec.svg')]);
  t.equal(summary.code, 0);
  t.match(summary.stdout, /rec\.json: 1 device/);
  t.ok(existsSync(join(dir, 'rec.svg')));
  t.match(JSON.parse((await inProcess(['-i', file, '--json'])).stdout), { ok: true, summary: { events: Number } });
  const equal = await inProcess(['--replay', file]);
  t.equal(equal.code, 0);
  t.match(equal.stdout, /rec\.json: equal\n {2}.* edu: \d+ events replayed on the emulated edu/);
  const changed = readFileSync(file, 'utf8').replace('"value":"0x00000018"', '"value":"0x00000019"');
  writeFileSync(join(dir, 'changed.json'), changed);
  const different = await inProcess(['--replay', join(dir, 'changed.json'), '--slack', '20']);
  t.equal(different.code, 1);
  t.match(different.stdout, /DIFFERENT\n[^]*BAR0 FACTORIAL \(offset 0x8, 4 bytes\): recorded 0x00000019, model 0x00000018/);
  const json = await inProcess(['--replay', join(dir, 'changed.json'), '--slack', '20', '--json']);
  t.equal(json.code, 1);
  t.match(JSON.parse(json.stdout), { ok: false, equal: false, difference: { kind: 'read', recorded: '0x00000019' } });
});

t.test('mistakes are one line and exit 2 (a missing file 3), before anything runs', async (t) => {
  const dir = t.testdir({ 'notes.txt': 'not a trace', 'file': 'x' });
  const cases: [string[], number, RegExp][] = [
    [[], 2, /nothing to do: -o FILE\.json -- command… records, -i FILE\.json summarizes, --replay FILE\.json replays/],
    [['--', 'node', 'x.mjs'], 2, /missing -o FILE/],
    [['-o', join(dir, 'a.json')], 2, /-o needs the command to record after --/],
    [['-o', join(dir, 'missing', 'a.json'), '--', 'node'], 2, /-o .*missing\/a\.json: cannot write into .* \(ENOENT\); pick a writable folder/],
    [['-o', join(dir, 'file', 'a.json'), '--', 'node'], 2, /is not a directory/],
    [['-o', 'a.json', '-i', 'b.json'], 2, /give one of them/],
    [['-i', join(dir, 'notes.txt'), '--', 'node'], 2, /a command is only run with -o/],
    [['-i', join(dir, 'notes.txt'), '--plot', 'x.png'], 2, /--plot needs a file name ending in \.svg/],
    [['--replay', join(dir, 'notes.txt'), '--plot', join(dir, 'x.svg')], 2, /--plot draws a recording: use it with -o or -i/],
    [['-i', join(dir, 'notes.txt'), '--slack', '5'], 2, /--slack only applies to --replay/],
    [['--replay', join(dir, 'notes.txt'), '--slack', '-1'], 2, /--slack must be a number from 0 to 3600000/],
    [['--replay', join(dir, 'notes.txt')], 2, /notes\.txt is not a trace-event JSON file \(not JSON/],
    [['-i', join(dir, 'notes.txt')], 2, /is not a trace-event JSON file/],
    [['--replay', join(dir, 'nope.json')], 3, /cannot read .*nope\.json \(ENOENT\)/],
    [['--frobnicate'], 2, /unknown option --frobnicate/],
    [['-o', ''], 2, /--output needs a file name/],
  ];
  for (const [argv, code, message] of cases) {
    const r = await inProcess(argv);
    t.equal(r.code, code, argv.join(' '));
    t.match(r.stderr, message, argv.join(' '));
    t.equal(r.stderr.split('\n').filter((l) => l.startsWith('vfio-ddk trace:')).length, 1, 'one line');
  }
  t.match((await inProcess(['--help'])).stdout, /^Usage: vfio-ddk trace \[options\] \[-- command…\]/);
});

t.test('NODE_OPTIONS for the command: what it had, the loaders of a source run, the recorder', async (t) => {
  const options = traceNodeOptions('--max-old-space-size=100', ['--import=file:///x/loader.mjs', '--conditions', 'vfio-ddk-source', '--inspect', '-C=dev']);
  t.match(options, /^--max-old-space-size=100 --import=file:\/\/\/x\/loader\.mjs --conditions=vfio-ddk-source -C=dev --import=file:\/\/\/.*\/lib\/trace\/auto-start\.ts$/);
  t.notMatch(options, /--inspect/);
  t.match(traceNodeOptions(undefined, []), /^--import=file:\/\/\/.*\/auto-start\.ts$/);
});
