/**
 * A bind whose vfio-pci probe fails (issue 15 row 7): bind rolls back to the previous driver and
 * forgets the device; a device left half bound (driverless, driver_override=vfio-pci — e.g. by an
 * older bind or a killed one) is restored by `unbind` from what was remembered.
 */
import t from 'tap';
import { readFileSync, readlinkSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import type { Fixture } from '../vfio/fixtures.ts';
import { runCli } from './harness.ts';

/** The fixture kernel, except that vfio-pci's probe fails (the device stays driverless). */
function vfioProbeFails(fx: Fixture): Sysfs {
  return new Sysfs(fx.sys, {
    onWrite: (rel, value) => {
      if (rel === 'bus/pci/drivers_probe' && readFileSync(fx.devicePath(value.trim(), 'driver_override'), 'utf8').trim() === 'vfio-pci') {
        fx.writes.push(`${rel}=${value}`);
        return;
      }
      fx.kernelHook(rel, value);
    },
  });
}

const driverOf = (fx: Fixture, bdf: string): string | null => {
  try { return basename(readlinkSync(fx.devicePath(bdf, 'driver'))); } catch { return null; }
};
const state = (fx: Fixture): Record<string, unknown> => JSON.parse(readFileSync(join(fx.state, 'bindings.json'), 'utf8')) as Record<string, unknown>;

t.test('a failed vfio-pci probe is rolled back to the previous driver and forgotten', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['bind', '0000:00:02.0'], fx, { sysfs: vfioProbeFails(fx) });
  t.equal(r.code, 1);
  t.match(r.stderr, /vfio-pci did not claim it \(driver now: none\)[\s\S]*rolled back 0000:00:02\.0: driver now nvme/);
  t.equal(driverOf(fx, '0000:00:02.0'), 'nvme', 'back on its driver');
  t.equal(readFileSync(fx.devicePath('0000:00:02.0', 'driver_override'), 'utf8'), '\n', 'driver_override cleared');
  t.same(state(fx), {}, 'nothing left remembered');
});

t.test('a --group bind with one failed probe rolls back every member', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const sysfs = new Sysfs(fx.sys, {
    onWrite: (rel, value) => {
      // vfio-pci claims 03.0 but not 03.1.
      if (rel === 'bus/pci/drivers_probe' && value.trim() === '0000:00:03.1'
        && readFileSync(fx.devicePath('0000:00:03.1', 'driver_override'), 'utf8').trim() === 'vfio-pci') return;
      fx.kernelHook(rel, value);
    },
  });
  const r = await runCli(['bind', '--group', '0000:00:03.0'], fx, { sysfs });
  t.equal(r.code, 1);
  t.equal(driverOf(fx, '0000:00:03.0'), 'e1000e');
  t.equal(driverOf(fx, '0000:00:03.1'), 'e1000e');
  t.same(state(fx), {});
});

t.test('unbind restores a half-bound device from the remembered driver', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  // What a bind without rollback left behind: no driver, driver_override=vfio-pci, nvme remembered.
  unlinkSync(fx.devicePath('0000:00:02.0', 'driver'));
  writeFileSync(fx.devicePath('0000:00:02.0', 'driver_override'), 'vfio-pci\n');
  mkdirSync(fx.state, { recursive: true });
  writeFileSync(join(fx.state, 'bindings.json'), JSON.stringify({ '0000:00:02.0': { previousDriver: 'nvme', iommuGroup: 2, boundAt: 'then' } }));
  const r = await runCli(['unbind', '0000:00:02.0'], fx);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /0000:00:02\.0: .* → nvme/);
  t.equal(driverOf(fx, '0000:00:02.0'), 'nvme');
  t.same(state(fx), {});
});

t.test('unbind restores a half-bound device with nothing remembered by letting the probe choose', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  unlinkSync(fx.devicePath('0000:00:02.0', 'driver'));
  writeFileSync(fx.devicePath('0000:00:02.0', 'driver_override'), 'vfio-pci\n');
  const r = await runCli(['unbind', '0000:00:02.0'], fx);
  t.equal(r.code, 0, r.stderr);
  t.equal(driverOf(fx, '0000:00:02.0'), 'nvme', 'the probe (ID tables) picks nvme once the override is cleared');
});

t.test('an unbound device with no override and nothing remembered is still "nothing to do"', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['unbind', '0000:00:04.0'], fx);
  t.equal(r.code, 1);
  t.match(r.stderr, /nothing to do/);
  t.same(fx.writes, []);
});

t.test('a bind whose unbind write fails after driver_override landed undoes the override', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  let refused = false; // the kernel refuses the first unbind only (a driver busy for a moment)
  const sysfs = new Sysfs(fx.sys, {
    onWrite: (rel, value) => {
      if (rel === 'bus/pci/devices/0000:00:02.0/driver/unbind' && !refused) {
        refused = true;
        throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
      }
      fx.kernelHook(rel, value);
    },
  });
  const r = await runCli(['bind', '0000:00:02.0'], fx, { sysfs });
  t.equal(r.code, 1);
  t.match(r.stderr, /rolled back 0000:00:02\.0: driver now nvme/);
  t.equal(readFileSync(fx.devicePath('0000:00:02.0', 'driver_override'), 'utf8'), '\n');
  t.equal(driverOf(fx, '0000:00:02.0'), 'nvme');
  t.same(state(fx), {});
});
