/**
 * Which IOMMU path `openVfioDevice` takes and why (lib/vfio/vfio-iommu-choice.ts): the automatic
 * choice from sysfs + /dev, forcing either path by option or VFIO_DDK_IOMMU (option first), a bad
 * VFIO_DDK_IOMMU refused, and the "already open" diagnostics of both paths — on the cdev path the
 * kernel says EINVAL at VFIO_DEVICE_BIND_IOMMUFD, which must still read as EBUSY "already open in
 * this process" (or "in another process") like the type1 path's.
 */
import t from 'tap';
import type { Test } from 'tap';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeAddon } from '../../lib/native/addon-types.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import { decideIommuPath, iommuChoiceFromEnv } from '../../lib/vfio/vfio-iommu-choice.ts';
import { fdsOpenOn } from '../../lib/vfio/vfio-open.ts';
import { makeFixture } from './fixtures.ts';
import { errno, fakeAddon } from './fake-addon.ts';

const EDU = '0000:00:01.0';

/** A fixture whose edu has a VFIO cdev; `iommu: false` leaves /dev/iommu out. */
function cdevFixture(t: Test, o: { iommu?: boolean; cdev?: boolean } = {}) {
  const fx = makeFixture();
  t.teardown(() => fx.cleanup());
  if (o.cdev !== false) {
    mkdirSync(fx.devicePath(EDU, 'vfio-dev', 'vfio0'), { recursive: true });
    mkdirSync(join(fx.dev, 'vfio', 'devices'), { recursive: true });
    writeFileSync(join(fx.dev, 'vfio', 'devices', 'vfio0'), '');
  }
  if (o.iommu !== false) writeFileSync(join(fx.dev, 'iommu'), '');
  const input = { sysfsRoot: fx.sys, vfioDir: join(fx.dev, 'vfio'), iommuPath: join(fx.dev, 'iommu') };
  return { fx, input, cdevPath: join(fx.dev, 'vfio', 'devices', 'vfio0'), groupPath: join(fx.dev, 'vfio', '1') };
}

/** Env-var tests set process.env: restore it. */
function withEnv(t: Test, value: string | undefined): void {
  const before = process.env['VFIO_DDK_IOMMU'];
  if (value === undefined) delete process.env['VFIO_DDK_IOMMU'];
  else process.env['VFIO_DDK_IOMMU'] = value;
  t.teardown(() => {
    if (before === undefined) delete process.env['VFIO_DDK_IOMMU'];
    else process.env['VFIO_DDK_IOMMU'] = before;
  });
}

t.test('auto: iommufd with a cdev and /dev/iommu, type1 otherwise, each with its reason', async (t) => {
  const both = cdevFixture(t);
  const d = decideIommuPath(EDU, { ...both.input, choice: 'auto', source: 'default' });
  t.equal(d.kind, 'iommufd');
  t.equal(d.cdevPath, both.cdevPath);
  t.match(d.reason, /VFIO cdev .*vfio0 and .*iommu exists/);
  t.equal(d.unavailable, null);

  const noIommufd = cdevFixture(t, { iommu: false });
  const n = decideIommuPath(EDU, { ...noIommufd.input, choice: 'auto', source: 'default' });
  t.equal(n.kind, 'type1');
  t.match(n.reason, /iommu is missing \(kernel without CONFIG_IOMMUFD/);

  const noCdev = cdevFixture(t, { cdev: false });
  const c = decideIommuPath(EDU, { ...noCdev.input, choice: 'auto', source: 'default' });
  t.equal(c.kind, 'type1');
  t.match(c.reason, /no VFIO device cdev \(kernel without CONFIG_VFIO_DEVICE_CDEV/);

  // Linux 6.1–6.5: sysfs has vfio-dev/vfio0 but there is no /dev/vfio/devices/ node.
  const noNode = cdevFixture(t);
  rmSync(noNode.cdevPath);
  const nn = decideIommuPath(EDU, { ...noNode.input, choice: 'auto', source: 'default' });
  t.equal(nn.kind, 'type1');
  t.match(nn.reason, /no VFIO device cdev node .*vfio0 \(kernel without CONFIG_VFIO_DEVICE_CDEV/);
});

t.test('forcing: type1 over an available iommufd, iommufd where it is missing says what lacks', async (t) => {
  const both = cdevFixture(t);
  const forced = decideIommuPath(EDU, { ...both.input, choice: 'type1', source: 'env' });
  t.equal(forced.kind, 'type1');
  t.equal(forced.reason, 'forced by VFIO_DDK_IOMMU=type1');
  const noCdev = cdevFixture(t, { cdev: false });
  const missing = decideIommuPath(EDU, { ...noCdev.input, choice: 'iommufd', source: 'option' });
  t.equal(missing.kind, 'iommufd');
  t.match(missing.unavailable, /iommufd path unavailable: the device has no VFIO device cdev/);
  t.match(missing.reason, /forced by the iommu: 'iommufd' open option/);
  t.throws(() => openVfioDevice(EDU, { addon: fakeAddon().addon, sysfs: new Sysfs(noCdev.fx.sys), ...noCdev.input, iommu: 'iommufd' }),
    { code: 'ENOTSUP', message: /no VFIO device cdev.*use the type1 path/ });
});

t.test('VFIO_DDK_IOMMU forces the path of every open; the option wins over it; a bad value is refused', async (t) => {
  const { fx, input } = cdevFixture(t);
  const options = { sysfs: new Sysfs(fx.sys), vfioDir: input.vfioDir, iommuPath: input.iommuPath };
  withEnv(t, 'type1');
  t.equal(iommuChoiceFromEnv(), 'type1');
  {
    using dev = openVfioDevice(EDU, { ...options, addon: fakeAddon().addon });
    t.equal(dev.iommuKind, 'type1', 'VFIO_DDK_IOMMU=type1 keeps the container although the cdev is there');
    t.equal(dev.iommuReason, 'forced by VFIO_DDK_IOMMU=type1');
  }
  {
    using dev = openVfioDevice(EDU, { ...options, addon: fakeAddon().addon, iommu: 'auto' });
    t.equal(dev.iommuKind, 'iommufd', "the open option ('auto') wins over the environment");
  }
  process.env['VFIO_DDK_IOMMU'] = 'vfio';
  t.throws(() => iommuChoiceFromEnv(), { code: 'EINVAL', message: /VFIO_DDK_IOMMU=vfio is not a VFIO IOMMU path: use type1, iommufd or auto/ });
  t.throws(() => openVfioDevice(EDU, { ...options, addon: fakeAddon().addon }), { code: 'EINVAL' });
  process.env['VFIO_DDK_IOMMU'] = '';
  t.equal(iommuChoiceFromEnv(), 'auto', 'empty means unset');
});

/** The fake with a cdev open that opens a real fd on the node (as the kernel's would) and a bind that fails. */
function bindFailing(bindError: string): { addon: NativeAddon; leaked: () => number } {
  const fake = fakeAddon();
  const real = new Set<number>();
  const addon = {
    ...fake.addon,
    vfioCdevOpen: (path: string) => {
      const fd = openSync(path, 'r');
      real.add(fd);
      return fd;
    },
    vfioDeviceBindIommufd: () => { throw errno(bindError); },
    close: (fd: number) => {
      if (real.delete(fd)) closeSync(fd);
      else fake.addon.close(fd);
    },
  } as NativeAddon;
  return { addon, leaked: () => real.size + fake.open.size };
}

t.test('cdev double open: BIND_IOMMUFD EINVAL reads as EBUSY, naming this process or another', async (t) => {
  const { fx, input, cdevPath } = cdevFixture(t);
  const sysfs = new Sysfs(fx.sys);
  const elsewhere = bindFailing('EINVAL');
  t.throws(() => openVfioDevice(EDU, { ...input, sysfs, addon: elsewhere.addon }),
    { code: 'EBUSY', message: /already open in another process/ }, 'only our own (new) fd is on the cdev: someone else has it');
  t.equal(elsewhere.leaked(), 0, 'the cdev fd and the iommufd were closed again');

  const held = openSync(cdevPath, 'r'); // what an earlier VfioDevice of this process holds
  t.teardown(() => closeSync(held));
  t.equal(fdsOpenOn(cdevPath), 1);
  const here = bindFailing('EINVAL');
  t.throws(() => openVfioDevice(EDU, { ...input, sysfs, addon: here.addon }),
    { code: 'EBUSY', message: /0000:00:01.0 \(IOMMU group 1\) is already open in this process/ });
  t.equal(here.leaked(), 0);
  const other = bindFailing('ENODEV');
  t.throws(() => openVfioDevice(EDU, { ...input, sysfs, addon: other.addon }), { code: 'ENODEV' }, 'other bind errors pass through');
});

t.test('type1 double open: the group EBUSY says in this process when this process holds the group node', async (t) => {
  const { fx, input, groupPath } = cdevFixture(t, { cdev: false, iommu: false });
  const busy = (): NativeAddon => ({ ...fakeAddon().addon, vfioOpenGroup: () => { throw errno('EBUSY'); } }) as NativeAddon;
  const sysfs = new Sysfs(fx.sys);
  t.throws(() => openVfioDevice(EDU, { ...input, sysfs, addon: busy() }), { code: 'EBUSY', message: /already open in another process/ });
  const held = openSync(groupPath, 'r');
  t.teardown(() => closeSync(held));
  t.throws(() => openVfioDevice(EDU, { ...input, sysfs, addon: busy() }), { code: 'EBUSY', message: /already open in this process/ });
});
