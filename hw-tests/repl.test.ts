/**
 * `vfio-ddk repl <edu>` on the real edu, as a user types at it: the bin (dist/) in a child process,
 * lines written to its stdin one at a time after each answer. Reads the ID register by name, a config
 * register by name, raises an MSI and waits for it, then .exit (device closed, exit 0). The same
 * lines run on the emulated edu in test/cli/repl.test.ts.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { guestBdf, skipReason } from './helpers.ts';

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  t.test('vfio-ddk repl on the real edu: ID by name, config by name, an MSI, .exit', async (t) => {
    const root = dirname(createRequire(import.meta.url).resolve('vfio-ddk/package.json'));
    const cache = mkdtempSync(join(tmpdir(), 'repl-hw-'));
    t.teardown(() => rmSync(cache, { recursive: true, force: true }));
    const child = spawn(process.execPath, [join(root, 'bin', 'vfio-ddk.mjs'), 'repl', bdf], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, XDG_CACHE_HOME: cache },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const send = async (line: string, expect: RegExp): Promise<string> => {
      const from = out.length;
      child.stdin.write(`${line}\n`);
      const deadline = Date.now() + 20_000;
      while (!expect.test(out.slice(from))) {
        if (Date.now() > deadline) throw new Error(`no ${String(expect)} after ${line}: ${out.slice(from)} ${err}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return out.slice(from);
    };
    t.match(await send('', /edu> /), /edu> /);
    t.match(out, new RegExp(`vfio-ddk repl: ${bdf} at ${bdf} \\(vfio\\), 1234:11e8`));
    t.match(await send("bar0.read('ID').toString(16)", /'\w+'/), /'10000ed'/, 'edu D.2 identification');
    t.match(await send("cfg.read('PCI_VENDOR_ID').toString(16)", /'\w+'/), /'1234'/);
    await send("cfg.write('PCI_COMMAND', cfg.read('PCI_COMMAND') | 0x6); irq.attach('msi', 0)", /'msi:0'/);
    await send("bar0.write('IRQ_RAISE', 1)", /edu> /);
    t.match(await send("(await irq.wait('msi', 0, { timeoutMs: 5000 })).count", /\d+\n/), /1\n/, 'the MSI arrived');
    await send("bar0.write('IRQ_ACK', 1)", /edu> /);
    child.stdin.write('.exit\n');
    t.equal(await exited, 0, err);
    t.equal(err, '');
  });
}
