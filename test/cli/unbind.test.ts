import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture } from '../vfio/fixtures.ts';
import { BAD_BDFS, runCli } from './harness.ts';

t.test('unbind restores the remembered driver and forgets it', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  t.equal((await runCli(['bind', '0000:00:02.0'], fx)).code, 0);
  fx.writes.length = 0;
  const r = await runCli(['unbind', '0000:00:02.0'], fx);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '0000:00:02.0: vfio-pci → nvme\n');
  t.same(fx.writes, [
    'bus/pci/devices/0000:00:02.0/driver_override=\n',
    'bus/pci/devices/0000:00:02.0/driver/unbind=0000:00:02.0',
    'bus/pci/drivers_probe=0000:00:02.0',
  ]);
  t.equal(readFileSync(join(fx.sys, 'bus/pci/drivers/vfio-pci/unbind'), 'utf8'), '0000:00:02.0');
  t.same(JSON.parse(readFileSync(join(fx.state, 'bindings.json'), 'utf8')), {});
});

t.test('unbind --to binds the named driver; unbind without memory lets the probe choose', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const to = await runCli(['unbind', '--to', 'virtio-pci', '0000:00:01.0'], fx);
  t.equal(to.code, 0, to.stderr);
  t.equal(to.stdout, '0000:00:01.0: vfio-pci → virtio-pci\n');
  t.equal(fx.writes.at(-1), 'bus/pci/drivers/virtio-pci/bind=0000:00:01.0');
  const probe = await runCli(['unbind', '0000:00:06.0'], fx);
  t.equal(probe.code, 0);
  t.equal(probe.stdout, '0000:00:06.0: vfio-pci → (no driver)\n');
});

t.test('unbind --group releases every vfio-pci member', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  t.equal((await runCli(['bind', '--group', '0000:00:03.1'], fx)).code, 0);
  const r = await runCli(['unbind', '--group', '0000:00:03.0'], fx);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '0000:00:03.0: vfio-pci → e1000e\n0000:00:03.1: vfio-pci → e1000e\n');
});

t.test('unbind of a device not on vfio-pci fails without writing', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['unbind', '0000:00:02.0'], fx);
  t.equal(r.code, 1);
  t.match(r.stderr, /not bound to vfio-pci \(driver: nvme\)/);
  t.same(fx.writes, []);
});

t.test('unbind validates its arguments first', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  for (const bad of BAD_BDFS) t.equal((await runCli(['unbind', bad], fx)).code, 2);
  t.equal((await runCli(['unbind', '--to', '../../x', '0000:00:01.0'], fx)).code, 2);
  t.equal((await runCli(['unbind', '0000:00:1e.0'], fx)).code, 3);
  t.same(fx.writes, []);
});
