/**
 * The SET_IRQS sequence of an MSI-X index in both modes (lib/vfio/vfio-msix-dynamic.ts), through
 * `openVfioDevice` on a scripted addon whose GET_IRQ_INFO reports 5 MSI-X vectors (an e1000e's count)
 * with VFIO_IRQ_INFO_NORESIZE set (Debian 6.1: the whole table on the first attach) or clear (Linux ≥ 6.5
 * with dynamic MSI-X: one vector per attach, -1 per detach, the others untouched).
 */
import t from 'tap';
import { join } from 'node:path';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import type { IrqSet, NativeAddon } from '../../lib/native/addon-types.ts';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../../lib/native/vfio-uapi.ts';
import type { IrqInfo } from '../../lib/pci/device.ts';
import { VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import { isDynamicMsix, vectorSetupFor } from '../../lib/vfio/vfio-msix-dynamic.ts';
import { makeFixture } from './fixtures.ts';
import { fakeAddon, type FakeOptions } from './fake-addon.ts';

const fixture = makeFixture();
t.teardown(() => fixture.cleanup());
const DEVICE = '0000:00:01.0';
const VECTORS = 5;
const MSIX = VFIO_PCI_MSIX_IRQ_INDEX;
const TRIGGER_EVENTFD = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
const DISABLE = { index: MSIX, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 0, count: 0, fds: undefined };

function open(noresize: boolean, extra: FakeOptions = {}) {
  const fake = fakeAddon({ msix: { count: VECTORS, noresize }, ...extra });
  const dev = openVfioDevice(DEVICE, {
    addon: fake.addon, sysfs: new Sysfs(fixture.sys), vfioDir: join(fixture.dev, 'vfio'), iommuPath: join(fixture.dev, 'iommu'),
  });
  const eventfds = (): number => fake.calls.filter((c) => c === 'eventfd').length;
  /** The fds open right after the open (container, group, device): what "no eventfd open" leaves. */
  const base = fake.open.size;
  return { fake, dev, eventfds, base };
}

/** A line recording the counts delivered to it. */
function recorder(name: string): { line: IrqLine; counts: number[] } {
  const line = new IrqLine(name);
  const counts: number[] = [];
  line.setConsumer({ fire: (count) => counts.push(count) });
  return { line, counts };
}

/** Only the SET_IRQS requests made by `fn`. */
function setsDuring(fake: ReturnType<typeof fakeAddon>, fn: () => void): IrqSet[] {
  const before = fake.irqSets.length;
  fn();
  return fake.irqSets.slice(before);
}

t.test('NORESIZE set (Linux < 6.5): the first attach sets up all 5 vectors; later attaches and detaches reach nothing', async (t) => {
  const { fake, dev, eventfds, base } = open(true);
  t.equal(dev.irq.info(MSIX).noresize, true);
  const v0 = recorder('v0');
  const first = setsDuring(fake, () => dev.irq.attach(MSIX, 0, v0.line));
  t.equal(first.length, 1, 'one SET_IRQS');
  t.match(first[0], { index: MSIX, flags: TRIGGER_EVENTFD, start: 0, count: VECTORS });
  t.equal(new Set(first[0]?.fds).size, VECTORS, 'an eventfd of its own per vector');
  t.equal(eventfds(), VECTORS);
  const v3 = recorder('v3');
  t.same(setsDuring(fake, () => {
    dev.irq.attach(MSIX, 3, v3.line);
    dev.irq.detach(MSIX, 3);
    dev.irq.attach(MSIX, 3, v3.line);
  }), [], 'attach / detach / attach of vector 3 is routing in JS only');
  fake.watchers.get(first[0]?.fds?.[3] as number)?.(2, 1n, 1n);
  t.same(v3.counts, [2], 'vector 3 fires on the eventfd set up at enable');
  t.same(setsDuring(fake, () => { dev.irq.detach(MSIX, 3); dev.irq.detach(MSIX, 0); }), [DISABLE], 'the last detach disables the index');
  t.equal(fake.open.size, base, 'every eventfd closed');
  dev.close();
});

t.test('NORESIZE clear (dynamic MSI-X): one vector per attach, -1 per detach, the others untouched', async (t) => {
  const { fake, dev, eventfds, base } = open(false);
  t.equal(dev.irq.info(MSIX).noresize, false);
  const lines = Array.from({ length: VECTORS }, (_, v) => recorder(`v${v}`));
  const fdOf = new Map<number, number>();
  for (const v of [2, 0, 4]) {
    const sets = setsDuring(fake, () => dev.irq.attach(MSIX, v, lines[v]?.line as IrqLine));
    t.equal(sets.length, 1, `attach ${v}: one SET_IRQS`);
    t.match(sets[0], { index: MSIX, flags: TRIGGER_EVENTFD, start: v, count: 1 }, `attach ${v}: start ${v}, count 1`);
    fdOf.set(v, sets[0]?.fds?.[0] as number);
  }
  t.equal(eventfds(), 3, 'eventfds only for the attached vectors');
  for (const [v, fd] of fdOf) fake.watchers.get(fd)?.(v + 1, 1n, 1n);
  t.same(lines.map((l) => l.counts), [[1], [], [3], [], [5]], 'each vector delivers to its own line');

  t.same(setsDuring(fake, () => dev.irq.trigger(MSIX, 4)), [{ index: MSIX, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, start: 4, count: 1, fds: undefined }]);
  t.throws(() => dev.irq.trigger(MSIX, 1), { code: 'EINVAL' }, 'a vector never attached cannot be triggered');

  t.same(setsDuring(fake, () => dev.irq.detach(MSIX, 2)), [{ index: MSIX, flags: TRIGGER_EVENTFD, start: 2, count: 1, fds: [-1] }], 'detach 2 releases only vector 2');
  t.notOk(fake.open.has(fdOf.get(2) as number), 'vector 2\'s eventfd is closed');
  t.ok(fake.open.has(fdOf.get(0) as number) && fake.open.has(fdOf.get(4) as number), 'the others keep theirs');
  t.notOk(lines[2]?.line.attached);

  const again = setsDuring(fake, () => dev.irq.attach(MSIX, 2, lines[2]?.line as IrqLine));
  t.match(again, [{ index: MSIX, flags: TRIGGER_EVENTFD, start: 2, count: 1 }], 're-attach sets vector 2 up again');
  t.not(again[0]?.fds?.[0], fdOf.get(2), 'on a new eventfd');

  t.same(setsDuring(fake, () => { dev.irq.detach(MSIX, 4); dev.irq.detach(MSIX, 2); }).map((s) => [s.start, s.fds]), [[4, [-1]], [2, [-1]]]);
  t.same(setsDuring(fake, () => dev.irq.detach(MSIX, 0)), [DISABLE], 'the last detach disables the index (no -1 first)');
  t.equal(fake.open.size, base, 'every eventfd closed');
  t.equal(dev.irq.activeIndex, null);
  dev.close();
});

t.test('dynamic MSI-X: a refused add leaves the line unattached and the other vectors as they were', async (t) => {
  const { fake, dev } = open(false, { setIrqsError: (s) => (s.index === MSIX && s.start === 3 && s.fds?.[0] !== -1 ? 'ENOSPC' : undefined) });
  const v0 = recorder('v0');
  const v3 = recorder('v3');
  dev.irq.attach(MSIX, 0, v0.line);
  const openBefore = fake.open.size;
  t.throws(() => dev.irq.attach(MSIX, 3, v3.line), { code: 'ENOSPC' });
  t.notOk(v3.line.attached, 'the line is not attached');
  t.equal(fake.open.size, openBefore, 'its eventfd was closed');
  t.equal(dev.irq.activeIndex, MSIX, 'vector 0 is still enabled');
  t.throws(() => dev.irq.trigger(MSIX, 3), { code: 'EINVAL' });
  dev.close();
  t.equal(fake.irqSets.at(-1)?.count, 0, 'close disabled the index');
  t.equal(fake.open.size, 0, 'close released every fd');
});

t.test('dynamic MSI-X: a vector whose watcher cannot be created is not set up; the index and its other vectors stay as they were', async (t) => {
  let refuse: string | undefined;
  const { fake, dev, base } = open(false, { watcherError: () => refuse });
  const v0 = recorder('v0');
  const v3 = recorder('v3');
  refuse = 'ENOMEM';
  t.throws(() => dev.irq.attach(MSIX, 0, v0.line), { code: 'ENOMEM' }, 'a first attach');
  t.same([fake.irqSets.length, fake.open.size, dev.irq.activeIndex], [0, base, null], 'enabled nothing, its eventfd closed');
  refuse = undefined;
  dev.irq.attach(MSIX, 0, v0.line);
  const openBefore = fake.open.size;
  refuse = 'ENOMEM';
  t.same(setsDuring(fake, () => t.throws(() => dev.irq.attach(MSIX, 3, v3.line), { code: 'ENOMEM' })), [], 'no SET_IRQS for vector 3');
  t.notOk(v3.line.attached, 'the line is not attached');
  t.equal(fake.open.size, openBefore, 'its eventfd was closed');
  t.equal(dev.irq.activeIndex, MSIX, 'vector 0 is still enabled');
  refuse = undefined;
  t.match(setsDuring(fake, () => dev.irq.attach(MSIX, 3, v3.line)), [{ index: MSIX, start: 3, count: 1 }], 'the next attach sets it up');
  t.ok(v3.line.attached);
  dev.close();
  t.equal(fake.open.size, 0, 'close released every fd');
});

t.test('dynamic MSI-X: a release the kernel refuses still unroutes the line, which attaches again', async (t) => {
  let refuse = true;
  const { fake, dev } = open(false, { setIrqsError: (s) => (s.index === MSIX && s.start === 2 && s.fds?.[0] === -1 && refuse ? 'EIO' : undefined) });
  const v0 = recorder('v0');
  const v2 = recorder('v2');
  dev.irq.attach(MSIX, 0, v0.line);
  dev.irq.attach(MSIX, 2, v2.line);
  const openBefore = fake.open.size;
  t.throws(() => dev.irq.detach(MSIX, 2), { code: 'EIO' });
  t.notOk(v2.line.attached, 'the line is unattached all the same');
  t.equal(fake.open.size, openBefore - 1, 'and its eventfd closed');
  refuse = false;
  const again = setsDuring(fake, () => dev.irq.attach(MSIX, 2, v2.line));
  t.match(again, [{ index: MSIX, start: 2, count: 1 }], 'a new attach sets the vector up again');
  t.ok(v2.line.attached);
  dev.close();
  t.equal(fake.open.size, 0);
});

t.test('dynamic MSI-X: a first attach the kernel refuses enables nothing', async (t) => {
  const { fake, dev, base } = open(false, { setIrqsError: (s) => (s.index === MSIX ? 'EINVAL' : undefined) });
  t.throws(() => dev.irq.attach(MSIX, 1, new IrqLine()), { code: 'EINVAL' });
  t.equal(dev.irq.activeIndex, null);
  t.equal(fake.open.size, base, 'its eventfd was closed');
  dev.close();
});

t.test('dynamic MSI-X: closing the device with vectors attached disables the index once', async (t) => {
  const { fake, dev } = open(false);
  const a = recorder('a');
  const b = recorder('b');
  let detached = 0;
  a.line.setConsumer({ fire: () => {}, detached: () => detached++ });
  b.line.setConsumer({ fire: () => {}, detached: () => detached++ });
  dev.irq.attach(MSIX, 1, a.line);
  dev.irq.attach(MSIX, 3, b.line);
  const sets = setsDuring(fake, () => dev.close());
  t.same(sets, [DISABLE], 'no per-vector release: the disable frees them all');
  t.equal(detached, 2);
  t.equal(fake.open.size, 0);
});

t.test('dynamic MSI-X: an MSI-X Enable written by a bus driver still sets up the whole table', async (t) => {
  const { fake, dev } = open(false);
  const source = { addressLo: () => 0xfee00000, addressHi: () => 0, data: (v: number) => 0x40 + v };
  const sets = setsDuring(fake, () => dev.irq.configEnable(MSIX, VECTORS, source));
  t.match(sets, [{ index: MSIX, flags: TRIGGER_EVENTFD, start: 0, count: VECTORS }], 'config-enabled MSI-X: every entry (the driver owns the table)');
  dev.irq.configDisable(MSIX);
  dev.close();
  t.equal(fake.open.size, 0);
});

t.test('vectorSetupFor: dynamic only for an MSI-X index whose NORESIZE is clear', async (t) => {
  const info = (index: 0 | 1 | 2, noresize: boolean, count = 4): IrqInfo => ({ index, count, noresize, eventfd: true, maskable: false, automasked: false });
  t.ok(isDynamicMsix(info(MSIX, false)));
  t.notOk(isDynamicMsix(info(MSIX, true)), 'NORESIZE set');
  t.notOk(isDynamicMsix(info(MSIX, false, 0)), 'no MSI-X');
  t.notOk(isDynamicMsix(info(VFIO_PCI_MSI_IRQ_INDEX, false)), 'MSI never grows (vfio_msi_alloc_irq allocates only for MSI-X)');
  t.notOk(isDynamicMsix(info(VFIO_PCI_INTX_IRQ_INDEX, false, 1)));
  const sets: IrqSet[] = [];
  const addon = { vfioDeviceSetIrqs: (_fd: number, s: IrqSet) => { sets.push(s); } } as unknown as NativeAddon;
  const whole = vectorSetupFor(addon, 9, info(VFIO_PCI_MSI_IRQ_INDEX, true));
  t.equal(whole.dynamic, false);
  t.same(whole.initialVectors(2), [0, 1, 2, 3], 'every vector, whichever is attached first');
  t.throws(() => whole.add(1, 5), { code: 'EINVAL', message: /NORESIZE/ }, 'a whole index is never grown');
  t.throws(() => whole.release(1), { code: 'EINVAL' });
  const dynamic = vectorSetupFor(addon, 9, info(MSIX, false));
  t.same(dynamic.initialVectors(2), [2]);
  dynamic.enable([undefined, undefined, 7, undefined]);
  t.same(sets, [{ index: MSIX, flags: TRIGGER_EVENTFD, start: 2, count: 1, fds: [7] }]);
});
