/**
 * lib/drivers/edu-fuchsia.ts — Fuchsia's qemu_edu sample over the PCI protocol — on the emulated edu,
 * in the sample's LEGACY mode and in MSI mode.
 */
import t from 'tap';
import { createEduDevice, eduFactorial } from 'vfio-ddk/emu';
import { EDU_ID_VALUE, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, QemuEduDevice } from 'vfio-ddk';
import {
  PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_MSI, Pci, ZX_ERR_BAD_STATE, ZX_ERR_SHOULD_WAIT, ZX_OK,
} from 'vfio-ddk/zircon';

function factorial(edu: QemuEduDevice, input: number): Promise<{ status: number; value?: number }> {
  return new Promise((resolve) => edu.ComputeFactorial(input, (status, value) => resolve({ status, value })));
}

for (const [name, mode] of [['LEGACY', PCI_INTERRUPT_MODE_LEGACY], ['MSI', PCI_INTERRUPT_MODE_MSI]] as const) {
  t.test(`qemu_edu in ${name} mode: MapInterruptAndMmio, ComputeFactorial through the interrupt, LivenessCheck`, async (t) => {
    const device = createEduDevice();
    const edu = new QemuEduDevice(new Pci(device), mode);
    t.equal(edu.MapInterruptAndMmio(), ZX_OK);
    const id = { value: 0 };
    t.equal(edu.IdentificationRegister(id), ZX_OK);
    t.equal(id.value, EDU_ID_VALUE);
    const live = { value: 0 };
    t.equal(edu.LivenessCheck(0x12345678, live), ZX_OK);
    t.equal(live.value, ~0x12345678 >>> 0);
    for (const n of [0, 1, 5, 12, 13]) t.same(await factorial(edu, n), { status: ZX_OK, value: eduFactorial(n) }, `${n}!`);
    t.equal(device.config.read16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE, mode === PCI_INTERRUPT_MODE_LEGACY ? 0 : PCI_COMMAND_INTX_DISABLE,
      mode === PCI_INTERRUPT_MODE_LEGACY ? 'AckInterrupt re-enabled INTx after each interrupt' : 'INTx stays off in MSI mode');
    t.same(device.deviceErrors, []);
    await edu.Stop();
    device.close();
  });
}

t.test('a second ComputeFactorial while one is pending gets SHOULD_WAIT; Stop ends the pending one with BAD_STATE', async (t) => {
  const device = createEduDevice({ factorialDelayMs: 50 });
  const edu = new QemuEduDevice(new Pci(device));
  t.equal(edu.MapInterruptAndMmio(), ZX_OK);
  const first = factorial(edu, 4);
  t.same(await factorial(edu, 5), { status: ZX_ERR_SHOULD_WAIT, value: undefined });
  t.same(await first, { status: ZX_OK, value: 24 });
  const pending = factorial(edu, 6);
  await edu.Stop();
  t.same(await pending, { status: ZX_ERR_BAD_STATE, value: undefined });
  t.same(await factorial(edu, 3), { status: ZX_ERR_BAD_STATE, value: undefined }, 'after Stop');
  device.close();
});

t.test('bad arguments are TypeErrors; MapInterruptAndMmio passes the protocol\'s status through', async (t) => {
  const device = createEduDevice();
  const pci = new Pci(device);
  t.throws(() => new QemuEduDevice({} as Pci), TypeError);
  t.throws(() => new QemuEduDevice(pci, 4 as never), TypeError);
  const edu = new QemuEduDevice(pci);
  t.throws(() => edu.ComputeFactorial(1.5, () => {}), TypeError);
  device.close();
  t.not(edu.MapInterruptAndMmio(), ZX_OK, 'PEER_CLOSED from GetBar');
});
