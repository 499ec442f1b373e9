/**
 * QMP from inside the guest (helpers.ts qmp → scripts/guest/qmp-relay.mjs): hot-unplug of an extra
 * device on its own root port while nobody has it open, then hot-plug of the same device again.
 * QEMU's device_del presses the slot's attention button; the guest's pciehp removes the function and
 * QEMU emits DEVICE_DELETED (qmp() answers only then); device_add on the same port makes pciehp find
 * it again at the same BDF, and it binds to vfio-pci again. (Removal while open: surprise-removal.test.ts.)
 * Skipped without an extra device (npm run test:hw -- --device e1000e).
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { guestDevices, plugBack, qmp, sysfsDevice as sysfs, until } from './helpers.ts';

const extra = guestDevices().find((d) => d.bus !== 'pcie.0');

if (extra === undefined) {
  t.plan(0, 'no --device on a root port in this guest (VFIO_DDK_DEVICES): run npm run test:hw -- --device e1000e');
} else {
  t.test('device_del of an unknown id is a QMP error', async (t) => {
    await t.rejects(qmp('device_del', { id: 'no-such-device' }), { code: 'EQMP', qmpClass: 'DeviceNotFound' });
  });

  t.test(`device_del ${extra.id} (not open): it leaves sysfs; device_add brings it back on vfio-pci`, async (t) => {
    t.ok(existsSync(sysfs(extra.bdf)), `${extra.bdf} is there`);
    const started = Date.now();
    await qmp('device_del', { id: extra.id });
    t.ok(await until(() => !existsSync(sysfs(extra.bdf)), 10_000), `${extra.bdf} left sysfs (${Date.now() - started} ms)`);
    t.throws(() => openVfioDevice(extra.bdf), { code: 'ENOENT' }, 'opening it now says it is not there');

    t.ok(await plugBack(extra), `${extra.bdf} is back at the same address, bound to vfio-pci again`);
    using again = openVfioDevice(extra.bdf);
    t.equal(`${again.identity.vendorId.toString(16).padStart(4, '0')}:${again.identity.deviceId.toString(16).padStart(4, '0')}`, extra.vendorDevice, 'the same model answers');
  });
}
