/**
 * `vfio-ddk repl`: driven through its input/output streams on the emulated edu, NVMe and test device
 * — register reads by name, config by name, hexdump, MSI raise + irq.wait, a DMA round trip through
 * the edu's engine, tab completion, .help, .exit closing the device — and the bad targets.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { parseVerbArgs } from '../../lib/cli/args.ts';
import { createContext } from '../../lib/cli/context.ts';
import { main } from '../../lib/cli/main.ts';
import { completeRegisterName } from '../../lib/cli/repl/completer.ts';
import { buildScope } from '../../lib/cli/repl/scope.ts';
import { EMULATED_TARGETS } from '../../lib/cli/repl/targets.ts';
import { createReplVerb, replHistoryPath } from '../../lib/cli/verbs/repl.ts';
import { createEduDevice } from '../../lib/emu/edu.ts';
import type { PciDevice } from '../../lib/pci/device.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { runCli } from './harness.ts';

interface Session {
  device: () => PciDevice;
  /** Sends one line and resolves with the output it produced once `expect` matches (5 s at most). */
  send(line: string, expect: RegExp): Promise<string>;
  /** Ends the session with `line` (default .exit) and resolves with the exit status. */
  end(line?: string): Promise<number>;
  /** Ends the input stream (what Ctrl-D on an empty line is to node:repl) and resolves with the status. */
  endOfInput(): Promise<number>;
  output: () => string;
  stderr: () => string;
}

function startRepl(target: string, options: { terminal?: boolean; historyPath?: string | null } = {}): Session {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  let err = '';
  output.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  let opened: PciDevice | null = null;
  const emulated = Object.fromEntries(Object.entries(EMULATED_TARGETS).map(([name, create]) => [name, () => (opened = create())]));
  const verb = createReplVerb({ terminal: options.terminal ?? false, historyPath: options.historyPath ?? null, emulated });
  const ctx = createContext({ input, output, stderr: (s) => { err += s; }, stdout: (s) => { out += s; } });
  const args = parseVerbArgs(verb.spec, [target]);
  if (args === null) throw new Error('unexpected --help');
  const status = verb.run(args, ctx);
  return {
    device: () => { if (opened === null) throw new Error('no device opened'); return opened; },
    async send(line, expect) {
      const from = out.length;
      // Text ending in Tab is typed without Enter: the completer answers asynchronously.
      input.write(line.endsWith('\t') ? line : `${line}\n`);
      const deadline = Date.now() + 5000;
      while (!expect.test(out.slice(from))) {
        if (Date.now() > deadline) throw new Error(`no ${String(expect)} after ${JSON.stringify(line)}; output: ${out.slice(from)}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      return out.slice(from);
    },
    async end(line = '.exit') {
      input.write(`${line}\n`);
      return status;
    },
    async endOfInput() {
      input.end();
      return status;
    },
    output: () => out,
    stderr: () => err,
  };
}

t.test('emu:edu: the ID register by name, config by name, caps and a hexdump', async (t) => {
  const s = startRepl('emu:edu');
  t.match(await s.send("bar0.read('ID').toString(16)", /'10000ed'/), /'10000ed'/, 'edu D.2 identification 0x010000ed');
  t.match(await s.send("cfg.read('PCI_VENDOR_ID').toString(16)", /'1234'/), /'1234'/);
  t.match(await s.send("cfg.read('PCI_DEVICE_ID') === cfg.read16(0x02)", /true|false/), /true/, 'name and offset agree');
  t.match(await s.send('cfg.caps()', /PCI_CAP_ID_MSI/), /name: 'PCI_CAP_ID_MSI', offset: 64/);
  t.match(await s.send('bar0.dump(0, 16)', /00000000 .*\n/), /00000000  ed 00 00 01 00 00 00 00  00 00 00 00 ff ff ff ff/);
  t.match(await s.send("bar0.write('LIVENESS', 0x12345678); bar0.read('LIVENESS').toString(16)", /'\w+'/), /'edcba987'/, 'liveness reads the inverse');
  t.equal(await s.end(), 0, 'exit 0');
  t.equal(s.device().closed, true, '.exit closed the device');
});

t.test('emu:edu: MSI raised by IRQ_RAISE, seen by irq.wait, counted by irq.counts', async (t) => {
  const s = startRepl('emu:edu');
  await s.send("cfg.write('PCI_COMMAND', 0x6); cfg.read('PCI_COMMAND')", /6/);
  await s.send("irq.attach('msi', 0)", /'msi:0'/);
  await s.send("bar0.write('IRQ_RAISE', 1)", /edu> /);
  t.match(await s.send("await irq.wait('msi', 0, { timeoutMs: 2000 })", /count/), /\{ count: 1, bootNs: \d+n, monoNs: \d+n \}/);
  t.match(await s.send('irq.counts()', /fires/), /vector: 'msi:0', fires: 1, deliveries: 1, unclaimed: 0/);
  t.match(await s.send("await irq.wait('msi', 0, { timeoutMs: 20 })", /ETIMEDOUT/), /Uncaught ETIMEDOUT: irq\.wait: no interrupt on msi:0 within 20 ms/, 'nothing pending: a timeout');
  t.equal(await s.end(), 0);
  t.equal(s.device().irq.activeIndex, null, 'closing disabled the interrupts');
});

t.test('emu:edu: a DMA buffer round trip through the edu engine, and DMA unmapped on close', async (t) => {
  const s = startRepl('emu:edu');
  await s.send("cfg.write('PCI_COMMAND', 0x6); const a = dma.alloc(4096); const c = dma.alloc(4096); a.write(0, 'vfio-ddk')", /8/);
  const run = (src: string, dst: string, cmd: number): string =>
    `bar0.write('DMA_SRC', ${src}); bar0.write('DMA_DST', ${dst}); bar0.write('DMA_CNT', 8n); bar0.write('DMA_CMD', ${cmd}n); `
    + "while (bar0.read('DMA_CMD') & 1n) await new Promise((r) => setTimeout(r, 1)); 'done'";
  await s.send(run('a.iova', '0x40000n', 1), /'done'/);
  await s.send(run('0x40000n', 'c.iova', 3), /'done'/);
  t.match(await s.send('c.read(0, 8).toString()', /'vfio-ddk'|'[^']*'/), /'vfio-ddk'/, 'RAM → edu → RAM');
  t.match(await s.send('dma.list().length', /\d/), /2/);
  t.match(await s.send('a.free(); dma.list().length', /\d/), /1/, 'a freed buffer leaves the list');
  t.equal(await s.end(), 0);
  t.throws(() => s.device().dma.alloc(4096), { code: 'ECLOSED' }, 'DMA is gone with the device');
});

t.test('emu:edu: errors print code and message and the REPL stays up', async (t) => {
  const s = startRepl('emu:edu');
  t.match(await s.send("bar0.read('NOPE')", /Uncaught/), /Uncaught ENOENT: bar0: no register named "NOPE"; known: ID, LIVENESS/);
  t.match(await s.send('cfg.read32(3)', /Uncaught/), /Uncaught RangeError: .*not 4-byte aligned/);
  t.notMatch(s.output(), /\n\s+at /, 'no stack trace');
  t.match(await s.send("bar0.read('ID')", /\d+/), /16777453/, 'still answering');
  t.equal(await s.end(), 0);
});

t.test('emu:edu: .help lists what is in scope', async (t) => {
  const s = startRepl('emu:edu');
  const help = await s.send('.help', /\.exit/);
  for (const word of ['cfg', 'bar0 (1048576 bytes, names: ID LIVENESS', 'irq.wait', 'dma.alloc', 'zx, ddi', '.exit']) t.ok(help.includes(word), word);
  await s.send('.clear', /Clearing context/);
  t.match(await s.send("bar0.read('ID')", /\d+/), /16777453/, 'the scope survives .clear');
  t.match(await s.send('typeof zx.zx_interrupt_wait + typeof ddi.ddi_intr_add_handler', /'\w+'/), /'functionfunction'/, 'the kits are loaded');
  t.equal(await s.end(), 0);
});

t.test('tab completes register names (terminal mode)', async (t) => {
  const s = startRepl('emu:edu', { terminal: true });
  await s.send('', /edu> /);
  const from = s.output().length;
  await s.send("bar0.read('LIV\t", /LIVENESS/);
  t.ok(s.output().slice(from).includes("bar0.read('LIVENESS"), 'the prefix completed');
  await s.send("')\r", /\d/);
  await s.send("cfg.read('PCI_COMMA\t", /PCI_COMMAND/);
  await s.send("')\r", /\d/);
  t.equal(await s.end('.exit\r'), 0);
});

t.test('the completer knows each window\'s names', async (t) => {
  const scope = buildScope(createEduDevice());
  t.same(completeRegisterName(scope, "x = bar0.read('IRQ_"), [['IRQ_STATUS', 'IRQ_RAISE', 'IRQ_ACK'], 'IRQ_']);
  t.same(completeRegisterName(scope, 'cfg.write("PCI_BASE_ADDRESS_'), [['PCI_BASE_ADDRESS_0', 'PCI_BASE_ADDRESS_1', 'PCI_BASE_ADDRESS_2', 'PCI_BASE_ADDRESS_3', 'PCI_BASE_ADDRESS_4', 'PCI_BASE_ADDRESS_5'], 'PCI_BASE_ADDRESS_']);
  t.same(completeRegisterName(scope, "bar3.read('"), [[], ''], 'no bar3 on edu');
  t.equal(completeRegisterName(scope, 'bar0.rea'), null, 'not a name argument: the JS completer');
  scope.device.close();
});

t.test('emu:nvme: NVMe register names, 64-bit CAP', async (t) => {
  const s = startRepl('emu:nvme');
  t.match(await s.send("bar0.read('VS').toString(16)", /'\w+'/), /'10400'/, 'NVMe 1.4');
  t.match(await s.send("typeof bar0.read('CAP')", /'\w+'/), /'bigint'/);
  t.match(await s.send("bar0.read('CAP') === bar0.read64(0)", /true|false/), /true/);
  t.match(await s.send('cfg.caps().map((c) => c.name).join()', /'[^']*'/), /PCI_CAP_ID_MSIX/);
  t.equal(await s.end(), 0);
  t.equal(s.device().closed, true);
});

t.test('emu:test: ID by name, MSI and MSI-X raised and waited for', async (t) => {
  const s = startRepl('emu:test');
  t.match(await s.send("bar0.read('ID').toString(16)", /'\w+'/), /'7e570001'/);
  t.match(await s.send("bar0.read('TEST_DEV_ID') === bar0.read('ID')", /true|false/), /true/, 'the C name works too');
  await s.send("cfg.write('PCI_COMMAND', 0x6); irq.attach('msi', 2)", /'msi:2'/);
  await s.send("bar0.write('RAISE_MSI', 2)", /> /);
  t.match(await s.send("(await irq.wait('msi', 2)).count", /\d/), /1/);
  t.match(await s.send("bar0.read('INTR_CAUSE').toString(16)", /'\w+'/), /'4'/, 'cause bit 2');
  t.equal(await s.end(), 0);
  t.equal(s.device().irq.activeIndex, null);
});

t.test('Ctrl-D (end of input) closes the device too', async (t) => {
  const s = startRepl('emu:test');
  await s.send("bar0.read('ID')", /\d+/);
  t.equal(await s.endOfInput(), 0);
  t.equal(s.device().closed, true);
});

t.test('history goes to ${XDG_CACHE_HOME}/vfio-ddk/repl_history', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'repl-history-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(replHistoryPath({ XDG_CACHE_HOME: dir }), join(dir, 'vfio-ddk', 'repl_history'));
  t.equal(replHistoryPath({ HOME: '/home/u' }), '/home/u/.cache/vfio-ddk/repl_history');
  const path = replHistoryPath({ XDG_CACHE_HOME: dir });
  const s = startRepl('emu:edu', { terminal: true, historyPath: path });
  await s.send("bar0.read('ID')\r", /16777453/);
  t.equal(await s.end('.exit\r'), 0);
  await new Promise((r) => setTimeout(r, 50));
  t.match(readFileSync(path, 'utf8'), /bar0\.read\('ID'\)/);
});

t.test('bad targets are usage errors (exit 2) before anything is opened', async (t) => {
  for (const target of ['emu:foo', 'emu:', 'zz:zz.z', '../../etc', '0000:00:01.0/driver']) {
    let stderr = '';
    const input = new PassThrough();
    const output = new PassThrough();
    const status = await main(['repl', target], { input, output, stderr: (s) => { stderr += s; }, stdout: () => {} });
    t.equal(status, 2, `${target}: exit 2`);
    t.match(stderr, target.startsWith('emu:') ? /unknown emulated device .*expected emu:edu, emu:nvme, emu:test or a BDF/ : /bad PCI address/, target);
  }
  let stderr = '';
  t.equal(await main(['repl', 'emu:edu', 'extra'], { stderr: (s) => { stderr += s; }, stdout: () => {} }), 2);
  t.match(stderr, /unexpected argument "extra"/);
});

t.test('a BDF: must be bound to vfio-pci, then opens through openVfioDevice', async (t) => {
  const fx = makeFixture();
  t.teardown(() => fx.cleanup());
  const notBound = await runCli(['repl', '0000:00:02.0'], fx, { input: new PassThrough(), output: new PassThrough() });
  t.equal(notBound.code, 1);
  t.match(notBound.stderr, /0000:00:02\.0 is bound to nvme, not vfio-pci: run `vfio-ddk bind 0000:00:02\.0`/);
  const noVfio = await runCli(['repl', '0000:00:06.0'], fx, { input: new PassThrough(), output: new PassThrough() });
  t.match(noVfio.stderr, /no openVfioDevice/);
  let device: PciDevice | null = null;
  const opened: string[] = [];
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (c: Buffer) => { out += c.toString(); });
  input.end("bar0.read('ID').toString(16)\n.exit\n");
  const r = await runCli(['repl', '00:06.0'], fx, {
    input, output,
    importVfio: async () => ({ openVfioDevice: (bdf: string) => { opened.push(bdf); return (device = createEduDevice()); } }),
  });
  t.equal(r.code, 0, r.stderr);
  t.same(opened, ['0000:00:06.0'], 'the canonical BDF');
  t.match(out, /'10000ed'/);
  t.equal((device as PciDevice | null)?.closed, true);
});

t.test('emu:test: irq.trigger, detach, intx; dma fill/dump; cfg.dump', async (t) => {
  const s = startRepl('emu:test');
  t.match(await s.send("irq.trigger('msi', 1); (await irq.wait('msi', 1)).count", /\d/), /1/, 'loopback trigger');
  t.match(await s.send("irq.detach('msi', 1); irq.counts().length", /\d/), /0/);
  t.match(await s.send("irq.attach('bogus')", /Uncaught/), /Uncaught EINVAL: irq: kind must be one of intx, msi, msix/);
  t.match(await s.send("await irq.wait('msi', 0, { timeoutMs: -1 })", /Uncaught/), /Uncaught RangeError: irq\.wait: timeoutMs/);
  t.match(await s.send("cfg.write('PCI_COMMAND', 0x6); irq.attach('intx', 0); bar0.write('INTX_LEVEL', 1); (await irq.wait('intx', 0)).count", /\d\n/), /1\n/, 'INTx');
  t.match(await s.send("bar0.read('INTR_CAUSE'); bar0.write('INTX_LEVEL', 0); 'ok'", /'ok'/), /'ok'/);
  t.match(await s.send('const d = dma.alloc(100); d.fill(0x41, 0, 4); d.dump(0, 8)', /00000000/), /00000000  41 41 41 41 00 00 00 00 +AAAA\.\.\.\./);
  t.match(await s.send('d.read(4090, 10)', /Uncaught/), /Uncaught RangeError: dma buffer read/);
  t.match(await s.send('cfg.dump(0, 4)', /00000000/), /00000000  34 12 57 7e/);
  t.match(await s.send("cfg.write('PCI_INTERRUPT_LINE', 5); cfg.read('PCI_INTERRUPT_LINE')", /\d/), /5/);
  t.match(await s.send("bar0.write('ID', 1n)", /Uncaught/), /Uncaught TypeError: .*takes a number/);
  t.match(await s.send('bar0.dump(0, 0)', /Uncaught/), /Uncaught RangeError: dump: length/);
  t.match(await s.send("bar1.read('ID')", /Uncaught/), /Uncaught ENOENT: bar1: no register named "ID"; this device model names none/);
  t.equal(await s.end(), 0);
});

t.test('an unusable history path is a warning, not a failure', async (t) => {
  const s = startRepl('emu:edu', { historyPath: '/proc/version/repl_history' });
  t.match(await s.send("bar0.read('ID')", /\d+/), /16777453/);
  t.equal(await s.end(), 0);
  t.match(s.stderr(), /vfio-ddk repl: history disabled: .*\/proc\/version\/repl_history/);
});
