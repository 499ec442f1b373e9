/**
 * The trace file: complete JSON when the recording process exits (process.exit, its own SIGINT
 * handler), readable with every earlier turn's events when a signal killed it (Ctrl-C unhandled,
 * SIGKILL), and ended afterwards by repairTraceFile;
 * the reader's tolerance and its errors for files that are not traces.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forEachTraceEvent, readTrace, repairTraceFile } from '../../lib/trace/index.ts';

function runChild(file: string, how: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, 'fixtures', 'record-child.ts'), file, how], { stdio: 'ignore' });
  return new Promise((resolve) => { child.on('exit', (code, signal) => resolve({ code, signal })); });
}

const reads = (file: string): number => readTrace(file).events.filter((e) => e.name === 'read ID').length;

t.test('process.exit: the exit handler closes the file', async (t) => {
  const file = join(t.testdir(), 'exit.json');
  t.same(await runChild(file, 'exit'), { code: 3, signal: null });
  JSON.parse(readFileSync(file, 'utf8'));
  t.equal(reads(file), 2000);
  t.equal(repairTraceFile(file), false, 'nothing to repair');
});

t.test('a Ctrl-C nothing handles ends the process as always; what earlier turns recorded is on disk', async (t) => {
  const file = join(t.testdir(), 'sigint.json');
  t.same(await runChild(file, 'sigint'), { code: null, signal: 'SIGINT' });
  t.equal(reads(file), 2000, 'read without the closing bracket');
  t.equal(repairTraceFile(file), true);
  JSON.parse(readFileSync(file, 'utf8'));
});

t.test("the program's own SIGINT handler keeps control; the file is closed at exit", async (t) => {
  const file = join(t.testdir(), 'handled.json');
  t.same(await runChild(file, 'sigint-handled'), { code: 0, signal: null });
  JSON.parse(readFileSync(file, 'utf8'));
  t.equal(reads(file), 2000);
});

t.test('SIGKILL: the events written so far are read, and repairTraceFile ends the file', async (t) => {
  const file = join(t.testdir(), 'killed.json');
  t.same(await runChild(file, 'sigkill'), { code: null, signal: 'SIGKILL' });
  const text = readFileSync(file, 'utf8');
  t.notOk(text.trimEnd().endsWith(']'), 'no closing bracket');
  t.throws(() => JSON.parse(text));
  const before = forEachTraceEvent(file, () => {});
  t.equal(reads(file), 2000, `${before} events readable`);
  t.equal(repairTraceFile(file), true);
  t.equal(JSON.parse(readFileSync(file, 'utf8')).length, before);
  t.equal(repairTraceFile(file), false);
});

t.test('repair drops an event line cut in the middle of a write', async (t) => {
  const dir = t.testdir({
    cut: '[\n{"name":"a","ph":"i","pid":1,"ts":1},\n{"name":"b","ph":"i","pid":1,"ts":2},\n{"name":"c","ph":"i","p',
    empty: '[\n',
    cutFirst: '[\n{"name":"a","ph"',
  });
  t.equal(forEachTraceEvent(join(dir, 'cut'), () => {}), 2, 'the reader drops the cut line');
  for (const [name, events] of [['cut', 2], ['empty', 0], ['cutFirst', 0]] as const) {
    t.equal(repairTraceFile(join(dir, name)), true);
    t.equal(JSON.parse(readFileSync(join(dir, name), 'utf8')).length, events, name);
  }
});

t.test('the reader takes any trace-event JSON and refuses what is not', async (t) => {
  const event = { name: 'x', ph: 'X', pid: 1, tid: 1, ts: 5, dur: 2 };
  const dir = t.testdir({
    object: JSON.stringify({ traceEvents: [event, event], displayTimeUnit: 'ns' }),
    oneLine: JSON.stringify([event, event, event]),
    oneLineCut: `${JSON.stringify([event, event]).slice(0, -1)},`,
    notJson: 'hello',
    empty: '',
    noEvents: '{"foo": 1}',
    badLine: '[\n{"name":"a","ph":"i","pid":1},\n42,\n{"name":"b","ph":"i","pid":1}\n]\n',
  });
  t.equal(forEachTraceEvent(join(dir, 'object'), () => {}), 2);
  t.equal(forEachTraceEvent(join(dir, 'oneLine'), () => {}), 3);
  t.equal(forEachTraceEvent(join(dir, 'oneLineCut'), () => {}), 2);
  for (const name of ['notJson', 'empty', 'noEvents', 'badLine']) {
    t.throws(() => forEachTraceEvent(join(dir, name), () => {}), { code: 'ERR_NOT_A_TRACE', message: /is not a trace-event JSON file/ }, name);
  }
  t.throws(() => readTrace(join(dir, 'missing')), { code: 'ENOENT', message: /cannot read/ });
  writeFileSync(join(dir, 'noRecorder.json'), JSON.stringify([event]));
  t.equal(readTrace(join(dir, 'noRecorder.json')).info, null);
});

t.test('what is not a regular file, or a line no recorder writes, is refused without blocking or reading forever', async (t) => {
  const dir = t.testdir({ folder: {} });
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  for (const [path, kind] of [[fifo, /a FIFO/], [join(dir, 'folder'), /a directory/], ['/dev/zero', /a character device/]] as const) {
    t.throws(() => forEachTraceEvent(path, () => {}), { code: 'ERR_NOT_A_TRACE', message: kind }, path);
  }
  const long = join(dir, 'long');
  writeFileSync(long, `[\n${'x'.repeat((16 << 20) + 2)}`);
  t.throws(() => forEachTraceEvent(long, () => {}), { code: 'ERR_NOT_A_TRACE', message: /line 2 is longer than 16 Mi characters/ });
});
