/**
 * sysfs trees an attacker (or a broken container) controls (issue 15 row 6): a FIFO where an
 * attribute should be, `config` pointing at /dev/zero, attributes far larger than the kernel makes
 * them. Each is a clear DdkError, at once — never a blocked process or an unbounded read.
 */
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { readText, writeAttr, SYSFS_ATTR_MAX } from '../../lib/vfio/sysfs-files.ts';
import { runCli } from '../cli/harness.ts';
import { makeFixture } from './fixtures.ts';

const BDF = '0000:00:02.0';

t.test('a FIFO in place of an attribute is refused at once, not waited on', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const vendor = fx.devicePath(BDF, 'vendor');
  rmSync(vendor);
  execFileSync('mkfifo', [vendor]);
  // A writer that shows up after 3 s: an implementation that blocks in open() is released by it (so
  // this test cannot hang), but too late to pass the timing check below.
  const writer = spawn('sh', ['-c', `sleep 3; echo 0x1b36 > '${vendor}'`], { stdio: 'ignore' });
  t.teardown(() => { writer.kill('SIGKILL'); });
  const started = Date.now();
  let error: unknown = null;
  try { new Sysfs(fx.sys).device(BDF); } catch (err) { error = err; }
  t.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
  t.match(error, { code: 'ERR_NOT_ATTRIBUTE', message: /vendor: it is a FIFO, not a sysfs\/procfs attribute/ });
  const r = await runCli(['info', BDF], fx);
  t.not(r.code, 0);
  t.match(r.stderr, /it is a FIFO/);
  // No reader: open(O_WRONLY | O_NONBLOCK) fails ENXIO at once; with one, fstat refuses it.
  t.throws(() => writeAttr(vendor, 'x'), { code: /^(ENXIO|ERR_NOT_ATTRIBUTE)$/ }, 'writes do not block on a FIFO either');
});

t.test('config linked to /dev/zero is refused, not read without end', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const config = fx.devicePath(BDF, 'config');
  unlinkSync(config);
  symlinkSync('/dev/zero', config);
  t.throws(() => new Sysfs(fx.sys).readConfig(BDF), { code: 'ERR_NOT_ATTRIBUTE', message: /config: it is a character device/ });
});

t.test('attributes larger than the kernel makes them are EFBIG; the limits themselves are fine', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const config = fx.devicePath(BDF, 'config');
  writeFileSync(config, new Uint8Array(4096));
  t.equal(new Sysfs(fx.sys).readConfig(BDF).length, 4096, 'a 4096-byte PCIe config space reads whole');
  writeFileSync(config, new Uint8Array(8192));
  t.throws(() => new Sysfs(fx.sys).readConfig(BDF), { code: 'EFBIG', message: /more than 4096 bytes/ });
  const override = fx.devicePath(BDF, 'driver_override');
  writeFileSync(override, 'x'.repeat(SYSFS_ATTR_MAX + 1));
  t.throws(() => new Sysfs(fx.sys).device(BDF), { code: 'EFBIG' });
  writeFileSync(override, 'x'.repeat(100));
  t.equal(readText(override), 'x'.repeat(100));
});

t.test('writing an attribute that does not exist is ENOENT, never creates it', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const path = fx.devicePath(BDF, 'no_such_attr');
  t.throws(() => writeAttr(path, '1'), { code: 'ENOENT' });
  t.equal(readText(path), null, 'reading it says absent');
});
