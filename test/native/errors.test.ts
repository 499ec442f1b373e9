import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD } from '../../lib/native/vfio-uapi.ts';
import { native, skip, thrown } from './helpers.ts';

t.test('a missing container node throws ENOENT with errno, syscall, path and a fix', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'vfio');
  const error = thrown(() => native().vfioOpenContainer(path));
  t.equal(error.code, 'ENOENT');
  t.equal(error.errno, 2);
  t.equal(error.syscall, 'open');
  t.equal(error.path, path);
  t.match(error.message, /modprobe vfio-pci/);
});

t.test('group numbers must be integers in [0, 2^31)', { skip }, async (t) => {
  const a = native();
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ddk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const group of [-1, 1.5, 2 ** 31, 2 ** 53, Number.POSITIVE_INFINITY, Number.NaN]) {
    const error = thrown(() => a.vfioOpenGroup(group, dir));
    t.equal(error.name, 'RangeError', `group ${group}`);
    t.equal(error.code, 'ERR_OUT_OF_RANGE');
  }
  t.equal(thrown(() => a.vfioOpenGroup('5' as never, dir)).code, 'ERR_INVALID_ARG_TYPE');
  const missing = thrown(() => a.vfioOpenGroup(5, dir));
  t.equal(missing.code, 'ENOENT', 'a valid number reaches open()');
  t.equal(missing.path, join(dir, '5'));
});

t.test('bad BDF strings are rejected before the fd is even looked at', { skip }, async (t) => {
  const a = native();
  const bad = ['0000:00:04.0 ', '0000:00:04', '0000:00:04.8', '0000:00:20.0', '0000:0G:04.0', 'ABCD:00:04.0',
    '00:04.0', '0000:00:04.0\n', '../../0000:00:04.0', ''];
  for (const bdf of bad) {
    const error = thrown(() => a.vfioGroupGetDeviceFd(-1, bdf));
    t.equal(error.code, 'ERR_BAD_BDF', JSON.stringify(bdf));
  }
  t.equal(thrown(() => a.vfioGroupGetDeviceFd(-1, 42 as never)).code, 'ERR_INVALID_ARG_TYPE');
  const valid = thrown(() => a.vfioGroupGetDeviceFd(-1, '0000:00:1f.7'));
  t.equal(valid.code, 'EBADF', 'a valid BDF gets as far as the fd check');
});

t.test('closed and wrong-kind fds give EBADF / ENOTTY errors, not crashes', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate();
  a.close(fd);
  const calls: [string, () => unknown][] = [
    ['vfioGetApiVersion', () => a.vfioGetApiVersion(fd)],
    ['vfioGroupGetStatus', () => a.vfioGroupGetStatus(fd)],
    ['vfioDeviceGetInfo', () => a.vfioDeviceGetInfo(fd)],
    ['vfioDeviceGetRegionInfo', () => a.vfioDeviceGetRegionInfo(fd, 0)],
    ['vfioDeviceReset', () => a.vfioDeviceReset(fd)],
    ['iommufdIoasAlloc', () => a.iommufdIoasAlloc(fd)],
    ['eventfdRead', () => a.eventfdRead(fd)],
    ['eventfdWrite', () => a.eventfdWrite(fd, 1)],
    ['close', () => a.close(fd)],
  ];
  for (const [name, call] of calls) {
    const error = thrown(call);
    t.equal(error.code, 'EBADF', name);
    t.equal(error.fd, fd, `${name} names the fd`);
  }
  const efd = a.eventfdCreate();
  t.teardown(() => a.close(efd));
  const notVfio = thrown(() => a.vfioDeviceGetInfo(efd));
  t.equal(notVfio.code, 'ENOTTY');
  t.equal(notVfio.syscall, 'ioctl(VFIO_DEVICE_GET_INFO)');
  t.equal(thrown(() => a.vfioDeviceGetInfo(-3)).code, 'EBADF');
  t.equal(thrown(() => a.vfioDeviceGetInfo(1.5)).code, 'ERR_INVALID_ARG_TYPE');
});

t.test('SET_IRQS validates flags and data before the ioctl', { skip }, async (t) => {
  const a = native();
  const efd = a.eventfdCreate();
  t.teardown(() => a.close(efd));
  const trigger = VFIO_IRQ_SET_ACTION_TRIGGER;
  const two = thrown(() => a.vfioDeviceSetIrqs(efd, { index: 1, flags: VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD | trigger, count: 1 }));
  t.equal(two.name, 'RangeError', 'two data types');
  const mismatch = thrown(() => a.vfioDeviceSetIrqs(efd, { index: 1, flags: VFIO_IRQ_SET_DATA_EVENTFD | trigger, count: 2, fds: [efd] }));
  t.equal(mismatch.name, 'RangeError', 'fds length differs from count');
  const badFd = thrown(() => a.vfioDeviceSetIrqs(efd, { index: 1, flags: VFIO_IRQ_SET_DATA_EVENTFD | trigger, count: 1, fds: [-2] }));
  t.equal(badFd.name, 'RangeError', 'fd below -1');
  const bools = thrown(() => a.vfioDeviceSetIrqs(efd, { index: 0, flags: VFIO_IRQ_SET_DATA_BOOL | trigger, count: 1, bools: [1 as never] }));
  t.equal(bools.name, 'TypeError');
  const ok = thrown(() => a.vfioDeviceSetIrqs(efd, { index: 1, flags: VFIO_IRQ_SET_DATA_EVENTFD | trigger, start: 0, count: 1, fds: [-1] }));
  t.equal(ok.code, 'ENOTTY', 'well-formed arguments reach the ioctl');
});

t.test('eventfd create/read/write validate their arguments', { skip }, async (t) => {
  const a = native();
  const fd = a.eventfdCreate(2, { semaphore: true, nonblock: true });
  t.teardown(() => a.close(fd));
  t.equal(a.eventfdRead(fd), 1, 'semaphore reads 1');
  t.equal(a.eventfdRead(fd), 1);
  t.equal(a.eventfdRead(fd), 0, 'EAGAIN → 0');
  t.equal(thrown(() => a.eventfdWrite(fd, 0)).name, 'RangeError');
  t.equal(thrown(() => a.eventfdWrite(fd, 2n ** 64n - 1n)).name, 'RangeError');
  t.equal(thrown(() => a.eventfdWrite(fd, -1n)).name, 'RangeError');
  t.equal(thrown(() => a.eventfdCreate(-1)).name, 'RangeError');
  t.equal(thrown(() => a.eventfdCreate(0, { nonblock: 1 as never })).name, 'TypeError');
  const blocking = a.eventfdCreate();
  t.equal(a.eventfdRead(blocking), 0, 'an empty blocking eventfd does not block');
  a.close(blocking);
});
