/**
 * Resets of a VfioDevice against a scripted addon (lib/vfio/vfio-hot-reset.ts, vfio-device.ts): what
 * VFIO_DEVICE_PCI_HOT_RESET gets on each IOMMU path, the errors that name what blocks a reset, and the
 * onReset listeners. The ioctls themselves run on real devices in hw-tests/hot-reset.test.ts and
 * hw-tests/reset-under-load.test.ts.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { HotResetInfo } from '../../lib/native/addon-types.ts';
import {
  VFIO_PCI_DEVID_NOT_OWNED, VFIO_PCI_DEVID_OWNED, VFIO_PCI_HOT_RESET_FLAG_DEV_ID, VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED,
} from '../../lib/native/vfio-uapi.ts';
import type { ResetEvent } from '../../lib/pci/device.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import { planHotReset } from '../../lib/vfio/vfio-hot-reset.ts';
import { makeFixture } from './fixtures.ts';
import { fakeAddon, type FakeOptions } from './fake-addon.ts';

const fixture = makeFixture();
t.teardown(() => fixture.cleanup());
const EDU = '0000:00:01.0';
const open = (o: FakeOptions = {}) => {
  const fake = fakeAddon(o);
  const dev = openVfioDevice(EDU, { addon: fake.addon, sysfs: new Sysfs(fixture.sys), vfioDir: join(fixture.dev, 'vfio'), iommuPath: join(fixture.dev, 'iommu') });
  return { fake, dev };
};
const fn = (bdf: string, groupId: number) => {
  const m = /^(\w{4}):(\w{2}):(\w{2})\.(\d)$/.exec(bdf) as RegExpExecArray;
  return { groupId, segment: parseInt(m[1] as string, 16), bus: parseInt(m[2] as string, 16), devfn: (parseInt(m[3] as string, 16) << 3) | Number(m[4]), bdf };
};
/** The fake numbers fds from 100 in the order opened: container, group, device. */
const GROUP_FD = 101;

t.test('reset(): VFIO_DEVICE_RESET, then every onReset listener hears { kind: function }', async (t) => {
  const { fake, dev } = open({ resetWorks: true });
  const events: ResetEvent[] = [];
  const unregister = dev.onReset((e) => events.push(e));
  dev.onReset(() => { throw new Error('a driver failed'); });
  dev.onReset((e) => events.push(e));
  t.throws(() => dev.reset(), { message: 'a driver failed' }, 'a throwing listener is reported after all ran');
  t.ok(fake.calls.includes('reset'));
  t.same(events, [{ kind: 'function' }, { kind: 'function' }]);
  unregister();
  t.throws(() => dev.onReset(null as never), TypeError);
  dev.close();
  t.throws(() => dev.reset(), { code: 'ECLOSED' });
  t.same(fake.open.size, 0);
});

t.test('hotReset() on type1 hands the kernel the group fd and tells the device', async (t) => {
  const info: HotResetInfo = { flags: 0, devices: [fn(EDU, 1)] };
  const { fake, dev } = open({ hotResetInfo: info });
  const events: ResetEvent[] = [];
  dev.onReset((e) => events.push(e));
  t.same(dev.hotReset(), [EDU], 'returns the functions it reset');
  t.same(fake.hotResets, [[GROUP_FD]], 'one group fd: this device\'s group');
  t.same(events, [{ kind: 'bus' }]);
  dev.close();
});

t.test('hotReset() of a function on the root bus is ENOTSUP (GET_PCI_HOT_RESET_INFO or the reset says ENODEV)', async (t) => {
  const { fake, dev } = open();
  t.throws(() => dev.hotReset(), { code: 'ENOTSUP', message: /0000:00:01\.0 cannot be hot reset.*root bus.*reset\(\)/ });
  t.same(fake.hotResets, []);
  dev.close();
  const late = open({ hotResetInfo: { flags: 0, devices: [fn(EDU, 1)] }, hotResetError: 'ENODEV' });
  t.throws(() => late.dev.hotReset(), { code: 'ENOTSUP' });
  late.dev.close();
});

t.test('hotReset() reaching a function whose group is not open here is EPERM naming it, before the ioctl', async (t) => {
  const { fake, dev } = open({ hotResetInfo: { flags: 0, devices: [fn(EDU, 1), fn('0000:00:01.1', 9)] } });
  t.throws(() => dev.hotReset(), { code: 'EPERM', message: /also resets 0000:00:01\.1 \(IOMMU group 9\).*openVfioDevice/ });
  t.same(fake.hotResets, []);
  dev.close();
});

t.test('the kernel\'s EINVAL (ownership not proven) becomes EPERM with the affected functions; other errors pass', async (t) => {
  const { dev } = open({ hotResetInfo: { flags: 0, devices: [fn(EDU, 1)] }, hotResetError: 'EINVAL' });
  t.throws(() => dev.hotReset(), { code: 'EPERM', message: /refused the hot reset of 0000:00:01\.0/ });
  dev.close();
  const busy = open({ hotResetInfo: { flags: 0, devices: [fn(EDU, 1)] }, hotResetError: 'EBUSY' });
  t.throws(() => busy.dev.hotReset(), { code: 'EBUSY' });
  busy.dev.close();
  const info = open({ hotResetInfo: 'EFAULT' });
  t.throws(() => info.dev.hotReset(), { code: 'EFAULT' });
  info.dev.close();
});

t.test('planHotReset on type1: one fd per affected group, taken from the process\'s open devices', async (t) => {
  const self = { bdf: '0000:01:00.0', group: 7, groupFd: 30 };
  const sibling = { bdf: '0000:01:00.1', group: 8, groupFd: 31 };
  const sameGroup = { bdf: '0000:01:00.2', group: 7, groupFd: 30 };
  const info: HotResetInfo = { flags: 0, devices: [fn(self.bdf, 7), fn(sibling.bdf, 8), fn(sameGroup.bdf, 7)] };
  t.same(planHotReset(info, self, [self, sibling]), { affected: [self.bdf, sibling.bdf, sameGroup.bdf], groupFds: [30, 31] });
  t.throws(() => planHotReset(info, self, [self]), { code: 'EPERM', message: /0000:01:00\.1 \(IOMMU group 8\)/ });
});

t.test('planHotReset on the cdev flow: [] when the iommufd owns every function, else EPERM naming the others', async (t) => {
  const self = { bdf: '0000:01:00.0', group: 7, groupFd: null };
  const owned: HotResetInfo = { flags: VFIO_PCI_HOT_RESET_FLAG_DEV_ID | VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED, devices: [fn(self.bdf, 1)] };
  t.same(planHotReset(owned, self, [self]), { affected: [self.bdf], groupFds: [] });
  const notOwned: HotResetInfo = {
    flags: VFIO_PCI_HOT_RESET_FLAG_DEV_ID,
    devices: [fn(self.bdf, 1), fn('0000:01:00.1', VFIO_PCI_DEVID_NOT_OWNED), fn('0000:01:00.2', VFIO_PCI_DEVID_OWNED)],
  };
  t.throws(() => planHotReset(notOwned, self, [self]), { code: 'EPERM', message: /also resets 0000:01:00\.1, which is not bound to 0000:01:00\.0's iommufd/ });
});

t.test('hotReset() on the iommufd path passes an empty array', async (t) => {
  const cdev = makeFixture();
  t.teardown(() => cdev.cleanup());
  mkdirSync(cdev.devicePath(EDU, 'vfio-dev', 'vfio0'), { recursive: true });
  mkdirSync(join(cdev.dev, 'vfio', 'devices'), { recursive: true });
  writeFileSync(join(cdev.dev, 'vfio', 'devices', 'vfio0'), '');
  writeFileSync(join(cdev.dev, 'iommu'), '');
  const fake = fakeAddon({ hotResetInfo: { flags: VFIO_PCI_HOT_RESET_FLAG_DEV_ID | VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED, devices: [fn(EDU, 1)] } });
  using dev = openVfioDevice(EDU, { addon: fake.addon, sysfs: new Sysfs(cdev.sys), vfioDir: join(cdev.dev, 'vfio'), iommuPath: join(cdev.dev, 'iommu') });
  t.equal(dev.iommuKind, 'iommufd');
  t.same(dev.hotReset(), [EDU]);
  t.same(fake.hotResets, [[]]);
});
