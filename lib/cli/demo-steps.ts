/**
 * The demo, in order — read it as the outline of a driver's life: open and identify the device,
 * use it (an interrupt-driven computation, DMA through the IOMMU), take its interrupt through each
 * kit (Zircon wait, Zircon port, DDI handler), close it. Each step is one function in the files below.
 */
import { check, deviceOf } from './demo-session.ts';
import type { DemoSession, DemoStep } from './demo-session.ts';
import { DDI_STEPS } from './demo-steps-ddi.ts';
import { EDU_STEPS } from './demo-steps-edu.ts';
import { ZIRCON_STEPS } from './demo-steps-zircon.ts';

/** PciDevice.close: every line detached, DMA unmapped, the VFIO fds closed (lib/pci/device.ts). */
async function closeDevice(session: DemoSession): Promise<void> {
  const device = deviceOf(session);
  const active = device.irq.activeIndex;
  check(active === null, `an interrupt index (${active ?? ''}) is still enabled before close`);
  device.close();
  session.timeline.log(device.backend === 'vfio' ? 'vfio' : 'emu', `device closed: no interrupt lines attached, ${device.closed ? 'closed' : 'NOT closed'}`);
  check(device.closed, 'PciDevice.close() did not close the device');
  session.device = null;
}

export const CLOSE_STEP: DemoStep = {
  id: 'close', title: 'close the device', hint: 'a step above left an interrupt attached: report it as a bug', run: closeDevice,
};

export const DEMO_STEPS: readonly DemoStep[] = [...EDU_STEPS, ...ZIRCON_STEPS, ...DDI_STEPS, CLOSE_STEP];
