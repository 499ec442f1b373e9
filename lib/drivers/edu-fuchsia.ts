/**
 * QEMU's edu device driven the way Fuchsia's qemu_edu sample drives it (examples/drivers/qemu_edu/
 * drivers/edu_device.cc, QemuEduDevice), line for line over `vfio-ddk/zircon`: the driver talks to the
 * PCI bus only through the PCI device protocol (`Pci`, lib/zircon/bus/pci.ts) and to the interrupt
 * only through syscalls.
 *
 *   MapInterruptAndMmio: GetBar(0) → map the VMO (fdf::MmioBuffer::Create: uncached, zx_vmar_map) →
 *     SetInterruptMode(LEGACY, 1) (the sample's choice; MSI also works) → MapInterrupt(0) → start
 *     listening (async::IrqMethod::Begin: the interrupt bound to the dispatcher's port).
 *   ComputeFactorial: STATUS.irq_enable, write FACTORIAL, remember the callback.
 *   HandleIrq (one port packet): irq_.ack(); read and ack the edu's interrupt status; in LEGACY
 *     mode AckInterrupt() so the bus re-enables INTx; read FACTORIAL; callback(result).
 *
 * JS shape: as the protocol — methods return a zx_status_t, values come back through `{ value }`
 * out-parameters, and the callback of ComputeFactorial gets `(status, factorial)` for the sample's
 * `zx::result<uint32_t>`. `Stop()` ends the IRQ loop (the dispatcher's shutdown) and releases the
 * interrupt, the mapping and the interrupt mode. Bad arguments: TypeError (the tier's rule).
 */
import { EDU_REG, EDU_STATUS_IRQFACT } from '../pci/edu-regs.ts';
import {
  PCI_INTERRUPT_MODE_DISABLED, PCI_INTERRUPT_MODE_LEGACY, PCI_INTERRUPT_MODE_MSI, Pci, ZX_CACHE_POLICY_UNCACHED_DEVICE,
  ZX_ERR_BAD_STATE, ZX_ERR_IO, ZX_ERR_NO_RESOURCES, ZX_ERR_SHOULD_WAIT, ZX_INTERRUPT_BIND, ZX_OK, ZX_PKT_TYPE_INTERRUPT,
  ZX_PKT_TYPE_USER, ZX_PORT_BIND_TO_INTERRUPT, ZX_TIME_INFINITE, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, zx_handle_close,
  zx_interrupt_ack, zx_interrupt_bind, zx_port_create, zx_port_queue, zx_port_wait, zx_vmar_map, zx_vmar_root_self,
  zx_vmar_unmap, zx_vmo_set_cache_policy, PortPacketBuffer, type Mapping, type Out, type pci_bar_t,
} from '../zircon/index.ts';

export type FactorialCallback = (status: number, factorial?: number) => void;

/** The interrupt modes the sample's driver can run in. */
export type EduFuchsiaMode = typeof PCI_INTERRUPT_MODE_LEGACY | typeof PCI_INTERRUPT_MODE_MSI;

const IRQ_KEY = 1n;

export class QemuEduDevice {
  readonly #pci: Pci;
  readonly #mode: EduFuchsiaMode;
  #mmio: Mapping | null = null;
  #irq = 0;
  #port = 0;
  #pendingCallback: FactorialCallback | null = null;
  #loop: Promise<void> | null = null;

  /** `QemuEduDevice(dispatcher, pci)`; `mode` PCI_INTERRUPT_MODE_LEGACY (the sample's) or _MSI. */
  constructor(pci: Pci, mode: EduFuchsiaMode = PCI_INTERRUPT_MODE_LEGACY) {
    if (!(pci instanceof Pci)) throw new TypeError('QemuEduDevice: pci must be a Pci (new Pci(device))');
    if (mode !== PCI_INTERRUPT_MODE_LEGACY && mode !== PCI_INTERRUPT_MODE_MSI) {
      throw new TypeError('QemuEduDevice: mode must be PCI_INTERRUPT_MODE_LEGACY or PCI_INTERRUPT_MODE_MSI');
    }
    this.#pci = pci;
    this.#mode = mode;
  }

  /** Initialize PCI device hardware resources (edu_device.cc MapInterruptAndMmio). */
  MapInterruptAndMmio(): number {
    // Retrieve the Base Address Register (BAR) for PCI Region 0.
    const bar = { value: null as unknown as pci_bar_t };
    let status = this.#pci.GetBar(0, bar);
    if (status !== ZX_OK) return status;
    // Create a Memory-Mapped I/O (MMIO) region over BAR0.
    const result = bar.value.result;
    if (!('vmo' in result)) return ZX_ERR_NO_RESOURCES; // "unexpected bar type"
    status = zx_vmo_set_cache_policy(result.vmo, ZX_CACHE_POLICY_UNCACHED_DEVICE);
    const mmio = { value: null as unknown as Mapping };
    if (status === ZX_OK) status = zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, result.vmo, 0n, bar.value.size, mmio);
    zx_handle_close(result.vmo); // the mapping keeps the VMO alive, as MmioBuffer does
    if (status !== ZX_OK) return status;
    this.#mmio = mmio.value;

    // Configure interrupt handling for the device.
    status = this.#pci.SetInterruptMode(this.#mode, 1);
    if (status !== ZX_OK) return status;
    // Map the device's interrupt to a system IRQ.
    const interrupt = { value: 0 };
    status = this.#pci.MapInterrupt(0, interrupt);
    if (status !== ZX_OK) return status;
    this.#irq = interrupt.value;
    // Start listening for interrupts (async::IrqMethod::Begin binds the interrupt to the dispatcher's port).
    const port = { value: 0 };
    status = zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, port);
    if (status !== ZX_OK) return status;
    this.#port = port.value;
    status = zx_interrupt_bind(this.#irq, this.#port, IRQ_KEY, ZX_INTERRUPT_BIND);
    if (status !== ZX_OK) return status;
    this.#loop = this.#irqLoop(this.#port);
    return ZX_OK;
  }

  /** Write data into the factorial register and wait for an interrupt (edu_device.cc ComputeFactorial). */
  ComputeFactorial(input: number, callback: FactorialCallback): void {
    if (typeof input !== 'number' || !Number.isInteger(input)) throw new TypeError('ComputeFactorial: input must be an integer (uint32_t)');
    if (typeof callback !== 'function') throw new TypeError('ComputeFactorial: callback must be a function');
    const mmio = this.#mmio;
    if (mmio === null) return callback(ZX_ERR_BAD_STATE);
    if (this.#pendingCallback !== null) return callback(ZX_ERR_SHOULD_WAIT);
    // Tell the device to raise an interrupt after computation.
    mmio.write32(EDU_REG.STATUS, mmio.read32(EDU_REG.STATUS) | EDU_STATUS_IRQFACT);
    // Write the value into the factorial register to start computation.
    mmio.write32(EDU_REG.FACTORIAL, input >>> 0);
    // We will receive an interrupt when the computation completes.
    this.#pendingCallback = callback;
  }

  /** Write a challenge value to the liveness check register and return the result. */
  LivenessCheck(challenge: number, outValue: Out<number>): number {
    const mmio = this.#mmio;
    if (mmio === null) return ZX_ERR_BAD_STATE;
    mmio.write32(EDU_REG.LIVENESS, challenge >>> 0);
    outValue.value = mmio.read32(EDU_REG.LIVENESS);
    return ZX_OK;
  }

  /** The identification register (0xRRrr00ED). */
  IdentificationRegister(outValue: Out<number>): number {
    if (this.#mmio === null) return ZX_ERR_BAD_STATE;
    outValue.value = this.#mmio.read32(EDU_REG.ID);
    return ZX_OK;
  }

  /** Ends the IRQ loop, then releases the interrupt, the interrupt mode and the mapping. */
  async Stop(): Promise<void> {
    if (this.#port !== 0) zx_port_queue(this.#port, { key: 0n, type: ZX_PKT_TYPE_USER, status: ZX_OK, user: { u64: [0n, 0n, 0n, 0n] } });
    await this.#loop;
    this.#loop = null;
    if (this.#port !== 0) zx_handle_close(this.#port);
    if (this.#irq !== 0) zx_handle_close(this.#irq);
    this.#port = 0;
    this.#irq = 0;
    if (this.#pci.is_valid()) this.#pci.SetInterruptMode(PCI_INTERRUPT_MODE_DISABLED, 0);
    if (this.#mmio !== null) zx_vmar_unmap(zx_vmar_root_self(), this.#mmio, BigInt(this.#mmio.size));
    this.#mmio = null;
    this.#pendingCallback?.(ZX_ERR_BAD_STATE);
    this.#pendingCallback = null;
  }

  /** The dispatcher: one port packet → one HandleIrq. */
  async #irqLoop(port: number): Promise<void> {
    const packet = new PortPacketBuffer(); // the driver's zx_port_packet_t, filled in place by each wait
    for (;;) {
      const status = await zx_port_wait(port, ZX_TIME_INFINITE, packet.out);
      if (status === ZX_OK && packet.type === ZX_PKT_TYPE_USER) return;
      if (status === ZX_OK && packet.type !== ZX_PKT_TYPE_INTERRUPT) continue;
      this.#handleIrq(status === ZX_OK ? packet.status : status);
      if (status !== ZX_OK) return;
    }
  }

  /** Respond to interrupts triggered by the device, and return the compute result (HandleIrq). */
  #handleIrq(status: number): void {
    zx_interrupt_ack(this.#irq);
    const callback = this.#pendingCallback;
    if (callback === null) return; // "Received unexpected interrupt!"
    this.#pendingCallback = null;
    if (status !== ZX_OK) return callback(status);
    const mmio = this.#mmio as Mapping;
    // Acknowledge the interrupt with the edu device.
    const intStatus = mmio.read32(EDU_REG.IRQ_STATUS);
    mmio.write32(EDU_REG.IRQ_ACK, intStatus);
    // Deassert the legacy INTx interrupt on the PCI bus (LEGACY mode: the bus disabled it when it fired).
    if (this.#mode === PCI_INTERRUPT_MODE_LEGACY && this.#pci.AckInterrupt() !== ZX_OK) return callback(ZX_ERR_IO);
    // Reply with the result.
    callback(ZX_OK, mmio.read32(EDU_REG.FACTORIAL));
  }
}
