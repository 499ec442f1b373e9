import t from 'tap';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { makeFixture } from './fixtures.ts';

t.test('listDevices reads every function with driver, group and numa node', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const list = new Sysfs(fx.sys).listDevices();
  t.same(list.map((d) => d.bdf), ['0000:00:00.0', '0000:00:01.0', '0000:00:02.0', '0000:00:03.0', '0000:00:03.1',
    '0000:00:04.0', '0000:00:05.0', '0000:00:06.0', '0000:00:06.1']);
  const edu = list[1];
  t.match(edu, { vendorId: 0x1234, deviceId: 0x11e8, classCode: 0x00ff00, revision: 0x10, subsystemVendorId: 0x1234,
    subsystemId: 0x1100, driver: 'vfio-pci', driverOverride: null, iommuGroup: 1, numaNode: 0, irq: 11 });
  t.equal(list[0]?.driver, null);
  t.equal(list[0]?.numaNode, null, 'numa_node -1 means unknown');
  t.equal(list[6]?.iommuGroup, null);
});

t.test('an empty or missing bus lists nothing', async (t) => {
  t.same(new Sysfs('/nonexistent-vfio-ddk-root').listDevices(), []);
});

t.test('device, iommuGroup, groupDevices, driverOf, readConfig', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys);
  t.equal(s.device('00:02.0').bdf, '0000:00:02.0');
  t.equal(s.iommuGroup('0000:00:03.1'), 3);
  t.equal(s.iommuGroup('0000:00:05.0'), null);
  t.same(s.groupDevices(3), ['0000:00:03.0', '0000:00:03.1']);
  t.same(s.groupDevices(99), []);
  t.throws(() => s.groupDevices(-1), RangeError);
  t.throws(() => s.groupDevices(1.5), RangeError);
  t.equal(s.driverOf('0000:00:02.0'), 'nvme');
  t.equal(s.driverOf('0000:00:04.0'), null);
  t.equal(s.readConfig('0000:00:02.0').length, 4096);
  t.equal(s.readConfig('0000:00:01.0').length, 256);
  t.equal(s.readConfig('0000:00:04.0').length, 64);
  t.equal(s.readConfig('0000:00:01.0')[0], 0x34, 'vendor id low byte');
  t.throws(() => s.device('0000:00:09.0'), { code: 'ENOENT', message: /vfio-ddk list/ });
  t.equal(s.has('0000:00:09.0'), false);
  t.equal(s.has('0000:00:01.0'), true);
});

t.test('malformed BDFs are refused before any filesystem access', async (t) => {
  // A root that does not exist: any access would give ENOENT, so ERR_BAD_BDF proves no access happened.
  const s = new Sysfs('/nonexistent-vfio-ddk-root');
  for (const bad of ['../../etc', '0000:00:01.0/../x', '', 'x'.repeat(100), '0000:00:01.0/config']) {
    for (const call of [
      () => s.device(bad), () => s.driverOf(bad), () => s.readConfig(bad), () => s.bindVfio(bad),
      () => s.unbind(bad), () => s.restore(bad, null), () => s.bindGroup(bad), () => s.iommuGroup(bad), () => s.resources(bad),
    ]) t.throws(call, { code: 'ERR_BAD_BDF' });
  }
});

t.test('bindVfio writes driver_override, unbind and drivers_probe and returns the previous driver', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys, { onWrite: fx.kernelHook });
  t.equal(s.bindVfio('00:02.0'), 'nvme');
  t.same(fx.writes, [
    'bus/pci/devices/0000:00:02.0/driver_override=vfio-pci',
    'bus/pci/devices/0000:00:02.0/driver/unbind=0000:00:02.0',
    'bus/pci/drivers_probe=0000:00:02.0',
  ]);
  t.equal(fx.read(fx.devicePath('0000:00:02.0', 'driver_override')), 'vfio-pci');
  t.equal(fx.read(join(fx.sys, 'bus/pci/drivers/nvme/unbind')), '0000:00:02.0');
  t.equal(fx.read(join(fx.sys, 'bus/pci/drivers_probe')), '0000:00:02.0');
  t.equal(s.driverOf('0000:00:02.0'), 'vfio-pci', 'the fixture kernel honoured driver_override');
  t.equal(s.bindVfio('0000:00:02.0'), 'vfio-pci', 'already bound: no-op');
  t.equal(fx.writes.length, 3);
});

t.test('bindVfio of an unbound device skips the unbind write', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys, { onWrite: fx.kernelHook });
  t.equal(s.bindVfio('0000:00:04.0'), null);
  t.same(fx.writes, ['bus/pci/devices/0000:00:04.0/driver_override=vfio-pci', 'bus/pci/drivers_probe=0000:00:04.0']);
});

t.test('bindVfio without the vfio-pci driver says to modprobe it and writes nothing', async (t) => {
  const fx = makeFixture({ drivers: ['nvme', 'e1000e', 'virtio-pci', 'snd_hda_intel'] });
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys, { onWrite: fx.kernelHook });
  t.throws(() => s.bindVfio('0000:00:02.0'), { code: 'ENODEV', message: /modprobe vfio-pci/ });
  t.same(fx.writes, []);
});

t.test('unbind and restore', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys, { onWrite: fx.kernelHook });
  s.bindVfio('0000:00:02.0');
  fx.writes.length = 0;
  t.equal(s.restore('0000:00:02.0', 'nvme'), 'nvme');
  t.same(fx.writes, [
    'bus/pci/devices/0000:00:02.0/driver_override=\n',
    'bus/pci/devices/0000:00:02.0/driver/unbind=0000:00:02.0',
    'bus/pci/drivers_probe=0000:00:02.0',
  ]);
  t.equal(fx.read(fx.devicePath('0000:00:02.0', 'driver_override')), '\n');
  t.equal(s.device('0000:00:02.0').driverOverride, null);
  t.equal(s.unbind('0000:00:02.0'), 'nvme');
  t.equal(s.driverOf('0000:00:02.0'), null);
  t.equal(s.unbind('0000:00:02.0'), null, 'nothing bound: nothing written');
  t.throws(() => s.restore('0000:00:02.0', '../x'), { code: 'EINVAL' });
});

t.test('restore binds the previous driver explicitly when the probe leaves the device unbound', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys, { onWrite: fx.kernelHook });
  s.bindVfio('0000:00:04.0'); // unbound device with no ID-table driver in the fixture kernel
  fx.writes.length = 0;
  t.equal(s.restore('0000:00:04.0', 'virtio-pci'), 'virtio-pci');
  t.equal(fx.writes.at(-1), 'bus/pci/drivers/virtio-pci/bind=0000:00:04.0');
});

t.test('bindGroup binds every blocking function of the group', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys, { onWrite: fx.kernelHook });
  t.same(s.bindGroup('0000:00:03.0'), [
    { bdf: '0000:00:03.0', previousDriver: 'e1000e' },
    { bdf: '0000:00:03.1', previousDriver: 'e1000e' },
  ]);
  t.equal(s.driverOf('0000:00:03.1'), 'vfio-pci');
  t.throws(() => s.bindGroup('0000:00:05.0'), { code: 'ENODEV' });
});

t.test('bindGroup undoes its bindings when one fails', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  // driver_override of the second function is a directory: writing it fails with EISDIR.
  rmSync(fx.devicePath('0000:00:03.1', 'driver_override'));
  mkdirSync(fx.devicePath('0000:00:03.1', 'driver_override'));
  const s = new Sysfs(fx.sys, { onWrite: fx.kernelHook });
  t.throws(() => s.bindGroup('0000:00:03.0'), { code: 'EISDIR' });
  t.equal(s.driverOf('0000:00:03.0'), 'e1000e', 'first function given back');
  t.equal(readFileSync(fx.devicePath('0000:00:03.0', 'driver_override'), 'utf8'), '\n');
});

t.test('a write without permission reports EACCES with the fix', async (t) => {
  if (process.getuid?.() === 0) {
    t.pass('running as root: permissions are not enforced, nothing to check');
    return;
  }
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const { chmodSync } = await import('node:fs');
  chmodSync(fx.devicePath('0000:00:02.0', 'driver_override'), 0o444);
  t.throws(() => new Sysfs(fx.sys).bindVfio('0000:00:02.0'), { code: 'EACCES', message: /run as root/ });
});

t.test('resources lists implemented BARs', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const s = new Sysfs(fx.sys);
  t.same(s.resources('0000:00:01.0'), [{ index: 0, kind: 'mem', start: 0xfea00000n, size: 0x100000n, is64: false, prefetchable: false }]);
  t.same(s.resources('0000:00:02.0'), []);
});
