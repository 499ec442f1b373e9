/**
 * Surprise removal over VFIO (lib/vfio/vfio-device-events.ts): the device request eventfd is registered
 * at open where the kernel offers VFIO_PCI_REQ_IRQ_INDEX; a request runs the listeners, ends pending
 * waits and closes the device — every fd released — so the kernel's unbind can complete.
 */
import t from 'tap';
import { join } from 'node:path';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD } from '../../lib/native/vfio-uapi.ts';
import { VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { openVfioDevice } from '../../lib/vfio/vfio-device.ts';
import { makeFixture } from './fixtures.ts';
import { fakeAddon } from './fake-addon.ts';

const fixture = makeFixture();
t.teardown(() => fixture.cleanup());
const EDU = '0000:00:01.0';
const open = (fake: ReturnType<typeof fakeAddon>) => openVfioDevice(EDU, {
  addon: fake.addon, sysfs: new Sysfs(fixture.sys), vfioDir: join(fixture.dev, 'vfio'), iommuPath: join(fixture.dev, 'iommu'),
});

t.test('a device request closes the device: listeners first, the pending line detached, every fd closed', async (t) => {
  const fake = fakeAddon({ requestIrq: true });
  const dev = open(fake);
  t.equal(dev.removalRequestSupported, true);
  const req = fake.irqSets.find((s) => s.index === VFIO_PCI_REQ_IRQ_INDEX);
  t.equal(req?.flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 'the request eventfd is registered at open');
  const order: string[] = [];
  dev.onRemovalRequest(() => order.push(`request (closed: ${dev.closed})`));
  dev.onClose(() => order.push('closed'));
  const line = new IrqLine('msi');
  let detached = 0;
  line.setConsumer({ fire: () => {}, detached: () => { detached++; } });
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, line);
  fake.watchers.get(req?.fds?.[0] as number)?.(1, 0n, 0n); // the kernel signals the request
  t.same(order, ['request (closed: false)', 'closed'], 'the driver hears it while the device is still open, then it closes');
  t.equal(detached, 1, 'the MSI line was detached: a pending wait resolves');
  t.equal(dev.closed, true);
  t.equal(fake.open.size, 0, 'no fd left: the kernel can finish the removal');
});

t.test('without the request index nothing is registered and the device works as before', async (t) => {
  const fake = fakeAddon();
  const dev = open(fake);
  t.equal(dev.removalRequestSupported, false);
  t.notOk(fake.irqSets.some((s) => s.index === VFIO_PCI_REQ_IRQ_INDEX));
  t.throws(() => dev.onRemovalRequest(null as unknown as () => void), TypeError);
  dev.close();
  t.equal(fake.open.size, 0);
});

t.test('a listener or an onClose that throws during a removal is a warning: the device is released, nothing escapes the watcher', async (t) => {
  const fake = fakeAddon({ requestIrq: true });
  const dev = open(fake);
  const req = fake.irqSets.find((s) => s.index === VFIO_PCI_REQ_IRQ_INDEX);
  const warnings: string[] = [];
  const warn = (w: Error): void => { warnings.push(w.message); };
  process.on('warning', warn);
  t.teardown(() => { process.off('warning', warn); });
  dev.onRemovalRequest(() => { throw new Error('driver bug'); });
  let heard = false;
  dev.onRemovalRequest(() => { heard = true; });
  dev.onClose(() => { throw new Error('close bug'); });
  t.doesNotThrow(() => fake.watchers.get(req?.fds?.[0] as number)?.(1, 0n, 0n), 'the watcher callback returns normally');
  t.equal(heard, true, 'the other listener still ran');
  t.equal(dev.closed, true);
  t.equal(fake.open.size, 0, 'every fd released');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(warnings, ['VFIO removal-request: a listener threw: driver bug', 'VFIO removal-request: closing the device threw: close bug']);
});
