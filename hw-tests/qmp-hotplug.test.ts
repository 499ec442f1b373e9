/**
 * QMP from inside the guest (helpers.ts qmp → scripts/guest/qmp-relay.mjs): hot-unplug of an extra
 * device on its own root port while nobody has it open, then hot-plug of the same device again.
 * QEMU's device_del presses the slot's attention button; the guest's pciehp removes the function and
 * QEMU emits DEVICE_DELETED (qmp() answers only then); device_add on the same port makes pciehp find
 * it again at the same BDF, and it binds to vfio-pci again. (Removal while open: issue 15.)
 * Skipped without an extra device (npm run test:hw -- --device e1000e).
 */
import t from 'tap';
import { existsSync, readlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { guestDevices, qmp } from './helpers.ts';

const extra = guestDevices().find((d) => d.bus !== 'pcie.0');
const sysfs = (bdf: string): string => `/sys/bus/pci/devices/${bdf}`;

/** Polls until `cond` holds (pciehp works asynchronously) or `ms` pass. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The -device string as device_add's arguments: "e1000e,id=ddkdev0" → { driver, id, bus }. */
function deviceAddArgs(spec: string, bus: string): Record<string, string> {
  const [driver, ...props] = spec.split(',');
  const args: Record<string, string> = { driver: driver ?? '' };
  for (const p of props) {
    const eq = p.indexOf('=');
    if (eq > 0) args[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return { ...args, bus };
}

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

    await qmp('device_add', deviceAddArgs(extra.spec, extra.bus));
    t.ok(await until(() => existsSync(sysfs(extra.bdf)), 15_000), `${extra.bdf} is back at the same address`);
    // A hot-added function gets the default driver, if any: bind it to vfio-pci as init.sh does.
    const dev = sysfs(extra.bdf);
    if (existsSync(`${dev}/driver`)) writeFileSync(`${dev}/driver/unbind`, extra.bdf);
    writeFileSync(`${dev}/driver_override`, 'vfio-pci');
    writeFileSync('/sys/bus/pci/drivers_probe', extra.bdf);
    t.equal(readlinkSync(`${dev}/driver`).split('/').at(-1), 'vfio-pci', 'bound to vfio-pci again');
    using again = openVfioDevice(extra.bdf);
    t.equal(`${again.identity.vendorId.toString(16).padStart(4, '0')}:${again.identity.deviceId.toString(16).padStart(4, '0')}`, extra.vendorDevice, 'the same model answers');
  });
}
