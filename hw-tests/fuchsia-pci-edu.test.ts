/**
 * lib/drivers/edu-fuchsia.ts (Fuchsia's qemu_edu sample over the PCI device protocol) on the real edu
 * over VFIO: GetBar(0) → VMO → zx_vmar_map, SetInterruptMode(LEGACY or MSI, 1), MapInterrupt(0), the
 * IRQ loop on a port with zx_interrupt_ack and, in LEGACY mode, AckInterrupt re-enabling INTx after the
 * bus disabled it. The same steps as test/drivers/edu-fuchsia.test.ts on the emulated edu.
 */
import t from 'tap';
import { EDU_ID_VALUE, QemuEduDevice } from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import { PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_MSI, Pci, ZX_OK } from 'vfio-ddk/zircon';
import { guestBdf, skipReason } from './helpers.ts';

/** n! mod 2^32, as the edu computes it (spec/edu.md D.4). */
function factorial32(n: number): number {
  let r = 1;
  for (let i = 2; i <= n; i++) r = Math.imul(r, i) >>> 0;
  return r;
}

const bdf = guestBdf('edu');
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else {
  for (const [name, mode] of [['LEGACY', PCI_INTERRUPT_MODE_LEGACY], ['MSI', PCI_INTERRUPT_MODE_MSI]] as const) {
    t.test(`qemu_edu in ${name} mode on the real edu`, async (t) => {
      using device = openVfioDevice(bdf);
      const edu = new QemuEduDevice(new Pci(device), mode);
      t.equal(edu.MapInterruptAndMmio(), ZX_OK);
      const id = { value: 0 };
      t.equal(edu.IdentificationRegister(id), ZX_OK);
      t.equal(id.value, EDU_ID_VALUE);
      const live = { value: 0 };
      t.equal(edu.LivenessCheck(0x0badf00d, live), ZX_OK);
      t.equal(live.value, ~0x0badf00d >>> 0);
      for (const n of [0, 5, 10, 12, 13, 20]) {
        const got = await new Promise<{ status: number; value?: number }>((resolve) => {
          const timer = setTimeout(() => resolve({ status: -999 }), 5000);
          edu.ComputeFactorial(n, (status: number, value?: number) => { clearTimeout(timer); resolve({ status, value }); });
        });
        t.same(got, { status: ZX_OK, value: factorial32(n) }, `${n}! through the ${name} interrupt`);
      }
      await edu.Stop();
    });
  }
}
