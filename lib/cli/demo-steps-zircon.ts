/**
 * The demo's Zircon steps (vfio-ddk/zircon, spec/zircon.md): the same edu MSI as an interrupt object,
 * first through Fuchsia's PCI protocol as the qemu_edu sample uses it (waited on with
 * zx_interrupt_wait), then from the syscalls as a bus driver does it, bound to a port and delivered
 * as a packet. Setting it up
 * is what a Zircon PCI driver's bus does for it: put the device on the platform, map its config space
 * as a physical VMO with UNCACHED_DEVICE policy, allocate an MSI block, create vector 0 at the MSI
 * capability (A.10), then program the capability from ZX_INFO_MSI and enable it — the kernel never
 * touches the capability (msi_dispatcher.cc), the bus driver does (device_irqs.cc).
 */
import { findMsi } from '../pci/capabilities.ts';
import { PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE } from '../pci/regs.ts';
import type { PciDevice } from '../pci/device.ts';
import {
  ZX_CACHE_POLICY_UNCACHED_DEVICE, ZX_INFO_MSI, ZX_INTERRUPT_BIND, ZX_OK, disableMsiCapability, programMsiCapability, zx_object_get_info, ZX_PKT_TYPE_INTERRUPT, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE,
  get_root_resource, zx_clock_get_boot, zx_handle_close, zx_interrupt_ack, zx_interrupt_bind, zx_interrupt_wait, zx_msi_allocate,
  zx_msi_create, zx_platform_attach, zx_port_create, zx_port_wait, zx_status_get_string, zx_vmo_create_physical,
  zx_vmo_set_cache_policy,
} from '../zircon/index.ts';
import {
  PCI_INTERRUPT_MODE_DISABLED, PCI_INTERRUPT_MODE_MSI, Pci, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, zx_vmar_map, zx_vmar_root_self,
  zx_vmar_unmap,
} from '../zircon/index.ts';
import type { Mapping, pci_bar_t, zx_info_msi_t, zx_port_packet_t } from '../zircon/index.ts';
import { EDU_REG } from '../pci/edu-regs.ts';
import { ackEduInterrupt, check, deviceOf, hex32, raiseEduInterrupt } from './demo-session.ts';
import type { DemoSession, DemoStep } from './demo-session.ts';
import type { Timeline } from './demo-timeline.ts';
import { formatElapsed } from './demo-timeline.ts';

/** An IRQ cause of the demo's own (bit 16): not FACT_IRQ or DMA_IRQ, so it cannot be mistaken for them (D.2). */
export const DEMO_IRQ_CAUSE = 0x00010000;
/** A PCIe function's ECAM configuration window (PCIe 4.0 §7.2.2). */
const ECAM_FUNCTION_SIZE = 4096n;
/** The port packet key: anything the driver recognises its interrupt by. */
const PORT_KEY = 0xed0n;
const NS_PER_US = 1000;

/** Handles of one MSI interrupt object and what it was made from. */
interface MsiInterrupt {
  readonly vmo: number;
  readonly msi: number;
  readonly irq: number;
}

function zxCheck(status: number, call: string): void {
  check(status === ZX_OK, `${call} returned ${zx_status_get_string(status)}`);
}

/** A.10: attach → physical VMO over the ECAM window → UNCACHED_DEVICE → zx_msi_allocate(1) → zx_msi_create(id 0). */
function createMsiInterrupt(timeline: Timeline, device: PciDevice): MsiInterrupt {
  const platform = zx_platform_attach(device);
  const msiCap = findMsi(device.config);
  check(msiCap !== null, 'the device has no MSI capability (edu has one at 0x40, D.1)');
  const vmo = { value: 0 };
  zxCheck(zx_vmo_create_physical(get_root_resource(), platform.ecam, ECAM_FUNCTION_SIZE, vmo), 'zx_vmo_create_physical');
  const msi = { value: 0 };
  const irq = { value: 0 };
  try {
    zxCheck(zx_vmo_set_cache_policy(vmo.value, ZX_CACHE_POLICY_UNCACHED_DEVICE), 'zx_vmo_set_cache_policy');
    zxCheck(zx_msi_allocate(get_root_resource(), 1, msi), 'zx_msi_allocate');
    zxCheck(zx_msi_create(msi.value, 0, 0, vmo.value, msiCap.offset, irq), 'zx_msi_create');
    timeline.log('zircon', `config space at physical 0x${platform.ecam.toString(16)}; zx_msi_create(MSI capability at 0x${msiCap.offset.toString(16)}, id 0) → interrupt handle ${irq.value}`);
    const info: { value: object } = { value: {} };
    zxCheck(zx_object_get_info(msi.value, ZX_INFO_MSI, info), 'zx_object_get_info(ZX_INFO_MSI)');
    const { target_addr, target_data } = info.value as zx_info_msi_t;
    programMsiCapability(device, { target_addr, target_data }, 1);
    timeline.log('zircon', `bus driver: MSI capability ← address 0x${target_addr.toString(16)}, data 0x${target_data.toString(16)} (ZX_INFO_MSI), MME 0, Enable`);
  } catch (err) {
    closeHandles([irq.value, msi.value, vmo.value]);
    throw err;
  }
  return { vmo: vmo.value, msi: msi.value, irq: irq.value };
}

/** Closing the interrupt destroys it and releases the vector (A.10 "Lifetime"). Never throws. */
function closeHandles(handles: readonly number[]): void {
  for (const handle of handles) if (handle !== 0) zx_handle_close(handle);
}

/** The bus driver leaves MSI mode once the handles are closed: MSI Enable clear, nothing routed. */
function checkReleased(timeline: Timeline, device: PciDevice): void {
  disableMsiCapability(device);
  const cap = findMsi(device.config);
  const enabled = cap !== null && (device.config.read16(cap.offset + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) !== 0;
  const active = device.irq.activeIndex;
  timeline.log('zircon', `handles closed: interrupt destroyed; bus driver cleared MSI Enable${enabled || active !== null ? ' — but MSI is still enabled' : ''}`);
  check(!enabled && active === null, 'MSI is still enabled after the bus driver disabled it');
}

/** The device-side end of every demo interrupt: acknowledge exactly our cause (D.3). */
function ackDemoCause(timeline: Timeline, device: PciDevice): void {
  const status = ackEduInterrupt(device);
  timeline.log('edu', `IRQ_STATUS ${hex32(status)} acknowledged`);
  check(status === DEMO_IRQ_CAUSE, `IRQ_STATUS was ${hex32(status)}, expected the raised cause ${hex32(DEMO_IRQ_CAUSE)}`);
}

/**
 * A.8 through Fuchsia's PCI protocol, as the qemu_edu sample does it: `ddk::Pci` → GetBar(0) mapped
 * with zx_vmar_map, SetInterruptMode(MSI, 1), MapInterrupt(0); raise through the mapping;
 * zx_interrupt_wait returns the time the vector fired (boot timeline). The bus driver (lib/zircon/bus)
 * allocates the MSI and programs the capability.
 */
async function interruptWait(session: DemoSession): Promise<void> {
  const device = deviceOf(session);
  const { timeline } = session;
  const pci = new Pci(device);
  const bar = { value: null } as unknown as { value: pci_bar_t };
  zxCheck(pci.GetBar(0, bar), 'Pci.GetBar(0)');
  const result = bar.value.result;
  check('vmo' in result, 'edu BAR0 is an MMIO BAR (spec/edu.md D.1)');
  const vmo = (result as { vmo: number }).vmo;
  const irq = { value: 0 };
  const mmio = { value: null as Mapping | null };
  try {
    zxCheck(zx_vmo_set_cache_policy(vmo, ZX_CACHE_POLICY_UNCACHED_DEVICE), 'zx_vmo_set_cache_policy');
    zxCheck(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo, 0n, (bar.value as pci_bar_t).size, mmio as { value: Mapping }), 'zx_vmar_map(BAR0)');
    zxCheck(pci.SetInterruptMode(PCI_INTERRUPT_MODE_MSI, 1), 'Pci.SetInterruptMode(MSI, 1)');
    zxCheck(pci.MapInterrupt(0, irq), 'Pci.MapInterrupt(0)');
    timeline.log('zircon', `Pci: GetBar(0) → VMO ${vmo} mapped, SetInterruptMode(MSI, 1), MapInterrupt(0) → interrupt handle ${irq.value}`);
    const regs = mmio.value as Mapping;
    const timestamp = { value: 0n };
    const waiting = zx_interrupt_wait(irq.value, timestamp);
    const raisedAt = zx_clock_get_boot();
    regs.write32(EDU_REG.IRQ_RAISE, DEMO_IRQ_CAUSE);
    timeline.log('edu', `write ${hex32(DEMO_IRQ_CAUSE)} to IRQ_RAISE`);
    const status = await waiting;
    const latencyUs = Number(timestamp.value - raisedAt) / NS_PER_US;
    timeline.log('zircon', `zx_interrupt_wait → ${zx_status_get_string(status)}, timestamp ${timestamp.value} ns (boot clock): ${formatElapsed(latencyUs)} after the write`);
    zxCheck(status, 'zx_interrupt_wait');
    check(timestamp.value >= raisedAt, `the interrupt timestamp ${timestamp.value} is before the register write at ${raisedAt}`);
    ackDemoCause(timeline, device);
  } finally {
    if (mmio.value !== null) zx_vmar_unmap(zx_vmar_root_self(), mmio.value, (bar.value as pci_bar_t).size);
    closeHandles([irq.value, vmo]);
    pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0);
  }
  checkReleased(timeline, device);
}

/** A.8/A.9: bound to a port, the interrupt becomes one packet per fire; zx_interrupt_ack re-arms it. */
async function portPacket(session: DemoSession): Promise<void> {
  const device = deviceOf(session);
  const { timeline } = session;
  const h = createMsiInterrupt(timeline, device);
  const port = { value: 0 };
  try {
    zxCheck(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port), 'zx_port_create');
    zxCheck(zx_interrupt_bind(h.irq, port.value, PORT_KEY, ZX_INTERRUPT_BIND), 'zx_interrupt_bind');
    timeline.log('zircon', `zx_interrupt_bind(port ${port.value}, key 0x${PORT_KEY.toString(16)})`);
    const packet: { value: zx_port_packet_t } = { value: { key: 0n, type: 0, status: 0 } };
    const waiting = zx_port_wait(port.value, ZX_TIME_INFINITE, packet);
    raiseEduInterrupt(device, DEMO_IRQ_CAUSE);
    timeline.log('edu', `write ${hex32(DEMO_IRQ_CAUSE)} to IRQ_RAISE`);
    const status = await waiting;
    const p = packet.value;
    timeline.log('zircon', `zx_port_wait → ${zx_status_get_string(status)}: packet key 0x${p.key.toString(16)}, type ${p.type} (ZX_PKT_TYPE_INTERRUPT), timestamp ${p.interrupt?.timestamp ?? '?'} ns`);
    zxCheck(status, 'zx_port_wait');
    check(p.key === PORT_KEY && p.type === ZX_PKT_TYPE_INTERRUPT, `unexpected packet: key 0x${p.key.toString(16)}, type ${p.type}`);
    ackDemoCause(timeline, device);
    zxCheck(zx_interrupt_ack(h.irq), 'zx_interrupt_ack');
    timeline.log('zircon', 'zx_interrupt_ack → ZX_OK: the next fire queues the next packet');
  } finally {
    closeHandles([h.irq, port.value, h.msi, h.vmo]);
  }
  checkReleased(timeline, device);
}

export const ZIRCON_STEPS: readonly DemoStep[] = [
  { id: 'zircon-wait', title: 'the edu MSI through zx_interrupt_wait', hint: 'run the Zircon kit tests (`npx tap test/zircon`) and `vfio-ddk doctor`', run: interruptWait },
  { id: 'zircon-port', title: 'the edu MSI as a port packet', hint: 'run the Zircon kit tests (`npx tap test/zircon`)', run: portPacket },
];
