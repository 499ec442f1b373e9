/**
 * vfioDevicePciHotReset (native/vfio_device.cc): VFIO_DEVICE_PCI_HOT_RESET with its group-fd array read
 * once and bounds-checked before the ioctl; every refusal is an Error with code/errno/syscall/fd. The
 * ioctl itself runs on real devices in hw-tests/hot-reset.test.ts. Also run under ASan (npm run test:asan).
 */
import t from 'tap';
import { native, skip, thrown } from './helpers.ts';

const SYSCALL = 'ioctl(VFIO_DEVICE_PCI_HOT_RESET)';

t.test('the struct is the kernel\'s: a 12-byte header before the group fds', { skip }, async (t) => {
  t.equal(native().structSizes()['vfio_pci_hot_reset'], 12);
  t.equal(native().ioctlNumbers()['VFIO_DEVICE_PCI_HOT_RESET'], 0x3b71);
});

t.test('a closed fd is EBADF and a non-VFIO fd ENOTTY, each naming the fd and the ioctl', { skip }, async (t) => {
  const a = native();
  const closed = a.eventfdCreate();
  a.close(closed);
  t.match(thrown(() => a.vfioDevicePciHotReset(closed, [])), { code: 'EBADF', syscall: SYSCALL, fd: closed });
  const efd = a.eventfdCreate();
  t.teardown(() => a.close(efd));
  t.match(thrown(() => a.vfioDevicePciHotReset(efd, [])), { code: 'ENOTTY', errno: 25, syscall: SYSCALL, fd: efd });
  t.match(thrown(() => a.vfioDevicePciHotReset(efd, [efd])), { code: 'ENOTTY' }, 'with group fds too');
  t.match(thrown(() => a.vfioDevicePciHotReset(-1, [])), { code: 'EBADF' });
});

t.test('groupFds must be an array of non-negative int32 fds, at most 256', { skip }, async (t) => {
  const a = native();
  const efd = a.eventfdCreate();
  t.teardown(() => a.close(efd));
  const call = (fds: unknown) => thrown(() => a.vfioDevicePciHotReset(efd, fds as number[]));
  t.match(call(undefined), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /groupFds must be an array/ });
  t.match(call({ length: 1, 0: 3 }), { name: 'TypeError' }, 'an array-like is not an array');
  t.match(call([-1]), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /groupFds\[0\]/ }, 'no -1 placeholder as in SET_IRQS');
  t.match(call([efd, 2 ** 31]), { name: 'RangeError', message: /groupFds\[1\]/ });
  t.match(call([1.5]), { name: 'RangeError', message: /must be an integer/ });
  t.match(call(['3']), { code: 'ERR_INVALID_ARG_TYPE' });
  t.match(call(new Array(257).fill(efd)), { name: 'RangeError', message: /257 entries; at most 256/ });
  t.match(call(new Array(256).fill(efd)), { code: 'ENOTTY' }, '256 reaches the ioctl');
});

t.test('an element getter that grows, shrinks or throws is caught before the ioctl', { skip }, async (t) => {
  const a = native();
  const efd = a.eventfdCreate();
  t.teardown(() => a.close(efd));
  const mutating = (mutate: (arr: number[]) => void): number[] => {
    const arr = [efd, efd];
    Object.defineProperty(arr, 0, { get() { mutate(arr); return efd; }, enumerable: true, configurable: true });
    return arr;
  };
  const grown = thrown(() => a.vfioDevicePciHotReset(efd, mutating((arr) => { for (let i = 0; i < 1000; i++) arr.push(efd); })));
  t.match(grown, { name: 'RangeError', message: /changed length while being read \(2 → 1002\)/ });
  const shrunk = thrown(() => a.vfioDevicePciHotReset(efd, mutating((arr) => { arr.length = 1; })));
  t.match(shrunk, { name: 'RangeError', message: /changed length/ });
  const boom = Object.defineProperty([0], 0, { get() { throw new Error('boom:element'); } }) as number[];
  t.match(thrown(() => a.vfioDevicePciHotReset(efd, boom)), { message: 'boom:element' }, 'the getter\'s own error');
});
