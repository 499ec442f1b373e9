/**
 * The generic test device of API.md (`vfio-ddk/emu`): a device whose registers raise any MSI / MSI-X
 * vector or set the INTx level, so kits can be tested against every interrupt rule.
 *
 * Identity 1234:7e57 rev 0x01, class 0xff0000. BAR0: 4 KiB of 32-bit registers (8/16/64-bit accesses
 * read all-ones without side effects, writes ignored; unlisted offsets read all-ones):
 *   0x00 TEST_DEV_ID         RO  0x7e570001
 *   0x04 TEST_DEV_RAISE_MSI  WO  write vector n: cause bit n % 32 set, the device signals MSI vector n
 *   0x08 TEST_DEV_RAISE_MSIX WO  write vector n: cause bit n % 32 set, the device signals MSI-X vector n
 *   0x0C TEST_DEV_INTX_LEVEL RW  write 1: cause bit 0 set and INTx asserted (= RAISE_INTX 1); write 0:
 *                                INTx deasserted, causes kept; reads the level (1/0)
 *   0x10 TEST_DEV_INTR_CAUSE RC  read-to-clear: the causes raised since the last read, and the read
 *                                deasserts INTx (e1000's ICR: "reading ICR clears it and deasserts the
 *                                interrupt", 8254x SDM §13.4.17); writes ignored
 *   0x14 TEST_DEV_RAISE_INTX WO  write a mask m ≠ 0: cause |= m and INTx asserted (0 is ignored, recorded)
 * So a level-triggered (FIXED) handler clears its source from inside the handler, as real drivers do:
 * read INTR_CAUSE, handle the bits, return; the pin is low when the kit unmasks the line.
 * A raise goes through the capability exactly as a device's would (msi.ts, msix.ts): enable, MME,
 * function mask, per-vector mask and pending bits are honoured. A vector the device does not have is
 * ignored (no cause bit) and recorded in `deviceErrors`. MSI-X table + PBA live in BAR1 (msix.ts layout).
 */
import { DdkError } from '../errors.ts';
import { traceOpened } from '../pci/trace-hook.ts';
import { PCI_INTERRUPT_PIN_INTA, PCI_INTERRUPT_PIN_NONE, PCI_MSI_MAX_VECTORS, PCI_MSIX_MAX_VECTORS } from '../pci/regs.ts';
import { EmuPciDevice } from './device.ts';
import type { MmioHandler } from './region.ts';

export const TEST_DEV_VENDOR_ID = 0x1234;
export const TEST_DEV_DEVICE_ID = 0x7e57;
export const TEST_DEV_CLASS = 0xff0000;
export const TEST_DEV_REVISION = 0x01;
export const TEST_DEV_BAR0_SIZE = 4096;
export const TEST_DEV_MSIX_BAR = 1;
export const TEST_DEV_REGS = {
  TEST_DEV_ID: 0x00,
  TEST_DEV_RAISE_MSI: 0x04,
  TEST_DEV_RAISE_MSIX: 0x08,
  TEST_DEV_INTX_LEVEL: 0x0c,
  TEST_DEV_INTR_CAUSE: 0x10,
  TEST_DEV_RAISE_INTX: 0x14,
} as const;
/** The cause bit INTX_LEVEL ← 1 sets. */
export const TEST_DEV_CAUSE_INTX = 0x1;
/** Cause bits are a 32-bit register: vector n sets bit n % 32. */
const CAUSE_BITS = 32;
export const TEST_DEV_ID_VALUE = 0x7e570001;

export interface TestDeviceOptions {
  intx?: boolean;
  msi?: { vectors: 1 | 2 | 4 | 8 | 16 | 32; perVectorMask?: boolean; addr64?: boolean };
  msix?: { vectors: number };
}

const ALL_ONES_32 = 0xffffffff;
const ALL_ONES_64 = 0xffff_ffff_ffff_ffffn;

function checkOptions(options: TestDeviceOptions): void {
  if (options === null || typeof options !== 'object') throw new DdkError('EINVAL', 'createTestDevice: options must be an object');
  if (options.intx !== undefined && typeof options.intx !== 'boolean') throw new DdkError('EINVAL', 'createTestDevice: intx must be a boolean');
  const msi = options.msi;
  if (msi !== undefined) {
    if (msi === null || typeof msi !== 'object') throw new DdkError('EINVAL', 'createTestDevice: msi must be an object');
    const v = msi.vectors as number;
    if (!Number.isInteger(v) || v < 1 || v > PCI_MSI_MAX_VECTORS || (v & (v - 1)) !== 0) {
      throw new RangeError(`createTestDevice: msi.vectors must be 1, 2, 4, 8, 16 or 32, got ${String(v)}`);
    }
    for (const key of ['perVectorMask', 'addr64'] as const) {
      if (msi[key] !== undefined && typeof msi[key] !== 'boolean') throw new DdkError('EINVAL', `createTestDevice: msi.${key} must be a boolean`);
    }
  }
  const msix = options.msix;
  if (msix !== undefined) {
    if (msix === null || typeof msix !== 'object') throw new DdkError('EINVAL', 'createTestDevice: msix must be an object');
    const v = msix.vectors;
    if (!Number.isInteger(v) || v < 1 || v > PCI_MSIX_MAX_VECTORS) {
      throw new RangeError(`createTestDevice: msix.vectors must be an integer in 1..2048, got ${String(v)}`);
    }
  }
}

/** BAR0's handler; bound to its device right after construction (it cannot capture `this` before super()). */
class TestRegisters implements MmioHandler {
  device: TestDevice | null = null;
  read(offset: number, width: 1 | 2 | 4): number {
    return (this.device as TestDevice).readRegister(offset, width);
  }
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    (this.device as TestDevice).writeRegister(offset, width, value);
  }
  read64(): bigint {
    return ALL_ONES_64;
  }
  write64(): void {}
}

class TestDevice extends EmuPciDevice {
  /** TEST_DEV_INTR_CAUSE: causes raised since its last read. */
  #cause = 0;

  constructor(options: TestDeviceOptions) {
    const registers = new TestRegisters();
    super({
      identity: { vendorId: TEST_DEV_VENDOR_ID, deviceId: TEST_DEV_DEVICE_ID, classCode: TEST_DEV_CLASS, revision: TEST_DEV_REVISION },
      pin: options.intx === true ? PCI_INTERRUPT_PIN_INTA : PCI_INTERRUPT_PIN_NONE,
      bars: [{ index: 0, size: TEST_DEV_BAR0_SIZE, handler: registers }],
      ...(options.msi ? { msi: { vectors: options.msi.vectors, perVectorMask: options.msi.perVectorMask ?? false, addr64: options.msi.addr64 ?? false } } : {}),
      ...(options.msix ? { msix: { vectors: options.msix.vectors, bar: TEST_DEV_MSIX_BAR } } : {}),
      dmaMask: ALL_ONES_64,
    });
    registers.device = this;
  }

  protected override resetModel(): void {
    this.#cause = 0;
    this.irq.setIntxLevel(false);
  }

  readRegister(offset: number, width: number): number {
    if (width !== 4) return width === 2 ? 0xffff : 0xff;
    if (offset === TEST_DEV_REGS.TEST_DEV_ID) return TEST_DEV_ID_VALUE;
    if (offset === TEST_DEV_REGS.TEST_DEV_INTX_LEVEL) return this.irq.intxLevel ? 1 : 0;
    if (offset === TEST_DEV_REGS.TEST_DEV_INTR_CAUSE) {
      const cause = this.#cause;
      this.#cause = 0;
      this.irq.setIntxLevel(false);
      return cause;
    }
    return ALL_ONES_32;
  }

  #raiseIntx(mask: number): void {
    this.#cause = (this.#cause | mask) >>> 0;
    this.irq.setIntxLevel(true);
  }

  #addCause(vector: number): void {
    this.#cause = (this.#cause | (1 << (vector % CAUSE_BITS))) >>> 0;
  }

  writeRegister(offset: number, width: number, value: number): void {
    if (width !== 4) return;
    if (offset === TEST_DEV_REGS.TEST_DEV_RAISE_MSI) {
      if (this.msi === null || value >= this.msi.vectors) this.recordError(`RAISE_MSI ${value}: the device has ${this.msi?.vectors ?? 0} MSI vector(s)`);
      else {
        this.#addCause(value);
        this.irq.raiseMsi(value);
      }
    } else if (offset === TEST_DEV_REGS.TEST_DEV_RAISE_MSIX) {
      if (this.msix === null || value >= this.msix.vectors) this.recordError(`RAISE_MSIX ${value}: the device has ${this.msix?.vectors ?? 0} MSI-X vector(s)`);
      else {
        this.#addCause(value);
        this.irq.raiseMsix(value);
      }
    } else if (offset === TEST_DEV_REGS.TEST_DEV_INTX_LEVEL) {
      if (value !== 0) this.#raiseIntx(TEST_DEV_CAUSE_INTX);
      else this.irq.setIntxLevel(false);
    } else if (offset === TEST_DEV_REGS.TEST_DEV_RAISE_INTX) {
      if (value === 0) this.recordError('RAISE_INTX 0: write a non-zero cause mask');
      else this.#raiseIntx(value);
    }
  }
}

/**
 * Creates a test device (API.md `vfio-ddk/emu`). Bad options → RangeError / DdkError 'EINVAL'.
 * While a trace records (lib/pci/trace-hook.ts), the device comes back as its recording view.
 */
export function createTestDevice(options: TestDeviceOptions): EmuPciDevice {
  checkOptions(options);
  return traceOpened(new TestDevice(options));
}
