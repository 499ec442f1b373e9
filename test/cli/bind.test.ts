import t from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { BAD_BDFS, runCli } from './harness.ts';

t.test('bind hands a function to vfio-pci and remembers its driver', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['bind', '00:02.0'], fx);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '0000:00:02.0: nvme → vfio-pci (group 2, /dev/vfio/2)\n');
  t.equal(readFileSync(fx.devicePath('0000:00:02.0', 'driver_override'), 'utf8'), 'vfio-pci');
  t.equal(readFileSync(join(fx.sys, 'bus/pci/drivers/nvme/unbind'), 'utf8'), '0000:00:02.0');
  t.equal(readFileSync(join(fx.sys, 'bus/pci/drivers_probe'), 'utf8'), '0000:00:02.0');
  const state = JSON.parse(readFileSync(join(fx.state, 'bindings.json'), 'utf8')) as Record<string, { previousDriver: string | null }>;
  t.match(state, { '0000:00:02.0': { previousDriver: 'nvme', iommuGroup: 2 } });
  t.equal(statSync(fx.state).mode & 0o777, 0o700);
  t.equal(statSync(join(fx.state, 'bindings.json')).mode & 0o777, 0o600);
});

t.test('bind refuses a group that other drivers hold, listing them, unless --group', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const refused = await runCli(['bind', '0000:00:03.0'], fx);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /IOMMU group 3[\s\S]*0000:00:03\.1\s+e1000e[\s\S]*vfio-ddk bind --group 0000:00:03\.0/);
  t.same(fx.writes, [], 'nothing written');
  const r = await runCli(['bind', '--group', '0000:00:03.0'], fx);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /0000:00:03\.0: e1000e → vfio-pci[\s\S]*0000:00:03\.1: e1000e → vfio-pci/);
  const state = JSON.parse(readFileSync(join(fx.state, 'bindings.json'), 'utf8')) as Record<string, unknown>;
  t.same(Object.keys(state).sort(), ['0000:00:03.0', '0000:00:03.1']);
});

t.test('bind of an already bound device changes nothing', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['bind', '0000:00:01.0'], fx);
  t.equal(r.code, 0);
  t.match(r.stdout, /already bound to vfio-pci/);
  t.same(fx.writes, []);
  t.notOk(existsSync(fx.state));
});

t.test('bind reports a probe that vfio-pci did not win and rolls it back', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  // No fixture kernel: the writes land but the driver link never moves, as when vfio-pci's probe fails.
  const r = await runCli(['bind', '0000:00:04.0'], fx, { sysfs: new Sysfs(fx.sys) });
  t.equal(r.code, 1);
  t.match(r.stderr, /vfio-pci did not claim it \(driver now: none\)[\s\S]*rolled back 0000:00:04\.0/);
  t.equal(readFileSync(fx.devicePath('0000:00:04.0', 'driver_override'), 'utf8'), '\n', 'driver_override cleared again');
  t.same(JSON.parse(readFileSync(join(fx.state, 'bindings.json'), 'utf8')), {}, 'rolled back: nothing to remember');
});

t.test('bind: no IOMMU group → 1, no such device → 3, vfio-pci missing → 1', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const nogroup = await runCli(['bind', '0000:00:05.0'], fx);
  t.equal(nogroup.code, 1);
  t.match(nogroup.stderr, /no IOMMU group.*vfio-ddk doctor/);
  const missing = await runCli(['bind', '0000:00:1f.0'], fx);
  t.equal(missing.code, 3);
  t.match(missing.stderr, /no PCI device 0000:00:1f\.0/);
  const nodrv = makeFixture({ drivers: ['nvme'] });
  t.teardown(nodrv.cleanup);
  const r = await runCli(['bind', '0000:00:02.0'], nodrv);
  t.equal(r.code, 1);
  t.match(r.stderr, /modprobe vfio-pci/);
});

t.test('bind refuses malformed BDFs with exit 2 before touching sysfs', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  for (const bad of BAD_BDFS) {
    const r = await runCli(['bind', bad], fx);
    t.equal(r.code, 2, JSON.stringify(bad.slice(0, 20)));
    t.match(r.stderr, /expected a PCI address like 0000:00:01\.0/);
  }
  t.same(fx.writes, []);
  t.equal((await runCli(['bind'], fx)).code, 2, 'missing <bdf>');
  t.equal((await runCli(['bind', '0000:00:02.0', '0000:00:03.0'], fx)).code, 2, 'two BDFs');
});

t.test('bind of a vfio-pci device whose group is blocked points at --group, which releases the rest', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['bind', '0000:00:06.0'], fx);
  t.equal(r.code, 1);
  t.match(r.stderr, /0000:00:06\.0 is bound to vfio-pci, but IOMMU group 6[\s\S]*0000:00:06\.1\s+snd_hda_intel/);
  t.same(fx.writes, []);
  const g = await runCli(['bind', '--group', '0000:00:06.0'], fx);
  t.equal(g.code, 0, g.stderr);
  t.equal(g.stdout, '0000:00:06.1: snd_hda_intel → vfio-pci (group 6, /dev/vfio/6)\n');
});
