/**
 * The demo's first three steps, through the edu driver (lib/drivers/edu.ts), which talks to the
 * device only through `PciDevice` — so they run unchanged on the emulated edu and on a real one
 * over VFIO: open and identify, a factorial completed by MSI, a DMA round trip through the IOMMU.
 */
import { EduDriver } from '../drivers/edu.ts';
import { eduFactorial } from '../emu/edu.ts';
import { EDU_DMA_MAX_SAFE } from '../pci/edu-regs.ts';
import { openHint } from './demo-device.ts';
import { check, deviceOf, hex32 } from './demo-session.ts';
import type { DemoSession, DemoStep } from './demo-session.ts';
import { formatElapsed } from './demo-timeline.ts';

/** A value whose bitwise NOT is easy to recognise (D.2 liveness register). */
const LIVENESS_PROBE = 0x12345678;
const FACTORIAL_INPUT = 10;

function driverOf(session: DemoSession): EduDriver {
  check(session.driver !== null && !session.driver.closed, 'the edu driver is not open (the open step did not run)');
  return session.driver;
}

/** Open the device, check it is an edu (D.1), read its version and check it is alive (D.2). */
async function openAndIdentify(session: DemoSession): Promise<void> {
  const { timeline } = session;
  const opened = await session.openDevice();
  session.device = opened.device;
  const { identity } = opened.device;
  timeline.log(opened.layer, `opened ${opened.description}: ${identity.vendorId.toString(16)}:${identity.deviceId.toString(16)} rev ${identity.revision.toString(16)}`);
  // EduDriver.open checks 1234:11e8, enables Memory Space + Bus Master and routes MSI vector 0 (D.6).
  session.driver = EduDriver.open(opened.device, { interrupts: 'msi' });
  timeline.log('edu', 'driver attached: Memory Space + Bus Master on, MSI vector 0 routed to the driver');
  const { major, minor } = session.driver.version();
  timeline.log('edu', `identification register: edu version ${major}.${minor}`);
  check(major === 1, `edu reports version ${major}.${minor}; this demo knows version 1 (spec/edu.md D.2)`);
  const alive = session.driver.checkLiveness(LIVENESS_PROBE);
  timeline.log('edu', `liveness: wrote ${hex32(LIVENESS_PROBE)}, read back its complement: ${alive ? 'yes' : 'NO'}`);
  check(alive, 'the liveness register did not return the bitwise NOT of what was written (D.2): BAR0 is not reaching the device');
}

/** D.4: write n to FACTORIAL with "raise interrupt" set in STATUS; the MSI says the result is ready. */
async function factorialByInterrupt(session: DemoSession): Promise<void> {
  const driver = driverOf(session);
  const { timeline } = session;
  const before = driver.interrupts;
  timeline.log('edu', `write ${FACTORIAL_INPUT} to FACTORIAL (status bit 0x80: interrupt when done)`);
  const started = timeline.elapsedUs();
  const result = await driver.factorial(FACTORIAL_INPUT);
  const took = timeline.elapsedUs() - started;
  const expected = eduFactorial(FACTORIAL_INPUT);
  timeline.log('pci', `MSI received (${driver.interrupts - before} interrupt): FACT_IRQ acknowledged`);
  timeline.log('edu', `${FACTORIAL_INPUT}! = ${result} — ${formatElapsed(took)} from the register write to the result`);
  check(result === expected, `edu computed ${FACTORIAL_INPUT}! = ${result}, expected ${expected}`);
  check(driver.interrupts > before, 'the result arrived without an interrupt being counted');
}

/** A recognisable pattern: byte i is (i * 7 + 1) mod 256, so a shifted or truncated copy shows. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + 1) & 0xff;
  return bytes;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/**
 * D.5: host buffer → edu's 4 KiB window → back into the (zeroed) host buffer. The device reaches host
 * memory only through the IOVA the IOMMU maps for the driver's buffer, below edu's 28-bit DMA mask.
 */
async function dmaRoundTrip(session: DemoSession): Promise<void> {
  const driver = driverOf(session);
  const { timeline } = session;
  const data = pattern(EDU_DMA_MAX_SAFE);
  timeline.log('dma', `DMA mask ${driver.device.dma.mask.toString(16)} (28 bits, D.5); ${data.length} bytes host → device buffer`);
  const started = timeline.elapsedUs();
  const back = await driver.dmaRoundTrip(data);
  const took = timeline.elapsedUs() - started;
  const diff = firstDifference(data, back);
  timeline.log('dma', `device buffer → host: ${back.length} bytes back in ${formatElapsed(took)}, ${diff === -1 ? 'identical' : `first difference at byte ${diff}`}`);
  check(diff === -1, `the DMA round trip changed the data (first difference at byte ${diff}); on a real device see \`dmesg\` for DMAR faults`);
  // The driver's interrupt line must be released before the Zircon and DDI kits take MSI over.
  driver.close();
  session.driver = null;
  timeline.log('edu', `driver closed: MSI disabled (active IRQ index: ${deviceOf(session).irq.activeIndex ?? 'none'})`);
  check(deviceOf(session).irq.activeIndex === null, 'closing the edu driver left an interrupt index enabled');
}

export const EDU_STEPS: readonly DemoStep[] = [
  { id: 'open', title: 'open the device and identify it', hint: openHint, run: openAndIdentify },
  { id: 'factorial', title: `${FACTORIAL_INPUT}! by interrupt (MSI)`, hint: 'a wrong result or no MSI: check `vfio-ddk doctor` (interrupt remapping) and `dmesg`', run: factorialByInterrupt },
  { id: 'dma', title: 'DMA round trip through the IOMMU', hint: 'look for DMAR / IOMMU faults in `dmesg`; check the memlock limit (`ulimit -l`)', run: dmaRoundTrip },
];
