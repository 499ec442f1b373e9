/**
 * Conformance: the emulated NVMe controller (createNvmeDevice) and QEMU's real one over VFIO driven
 * with the same register-level steps (test/suites/nvme-observe.ts: config header, BAR types and
 * sizing, capability list and MSI-X table / PBA location, PM and PCI Express fields, CAP / VS / CC /
 * CSTS / AQA / ASQ / ACQ after FLR and after enable, Identify Controller / Namespace and Get Features
 * completed through MSI-X vector 0, shutdown). Their observations must be equal: a difference is a bug
 * in one of them — where the emulation differed from QEMU 7.2 the emulation was fixed.
 */
import t from 'tap';
import { createNvmeDevice } from 'vfio-ddk/emu';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { observeNvme } from '../test/suites/nvme-observe.ts';
import type { NvmeObservations } from '../test/suites/nvme-observe.ts';
import { guestBdf, skipReason } from './helpers.ts';

const bdf = guestBdf('nvme');
const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}n` : v));

if (bdf === null) {
  t.plan(0, skipReason('nvme'));
} else {
  t.test('emulated and real NVMe: equal observations', async (t) => {
    const emulated = createNvmeDevice();
    const expected = await observeNvme(emulated);
    emulated.close();
    const device = openVfioDevice(bdf);
    let real: NvmeObservations;
    try {
      real = await observeNvme(device);
    } finally {
      device.close();
    }
    // FR is QEMU_VERSION: the guest's Debian QEMU is a 7.2 stable release (7.2.x), the emulation says 7.2.0.
    t.match(real.identify.FR, /^7\.2(\.\d+)?$/, `Identify FR ${String(real.identify.FR)} is a QEMU 7.2 version`);
    real.identify.FR = expected.identify.FR as string;
    for (const key of Object.keys(expected) as (keyof NvmeObservations)[]) {
      if (!t.same(real[key], expected[key], `${key}: real = emulated`)) t.comment(`${key}: real ${json(real[key])}, emulated ${json(expected[key])}`);
    }
  });
}
