/**
 * The register names of the devices lib/emu models, with the width to access each at (the REPL's
 * `read('NAME')`, the trace's register names): the type 0 config header
 * (PCI 3.0 §6.1 Figure 6-1, under the pci_regs.h names of lib/pci/regs.ts) and BAR0 of the device
 * models that name theirs (edu: spec/edu.md D.2; NVMe: NVMe 1.4 §3.1; the test device: lib/emu/
 * test-device.ts). The offsets come from those tables; only the widths are added here.
 */
import { TEST_DEV_DEVICE_ID, TEST_DEV_REGS, TEST_DEV_VENDOR_ID } from './test-device.ts';
import type { PciIdentity } from '../pci/device.ts';
import { EDU_DEVICE_ID, EDU_REG, EDU_REG_64BIT_START, EDU_VENDOR_ID } from '../pci/edu-regs.ts';
import { NVME_REG, PCI_CLASS_STORAGE_EXPRESS } from '../pci/nvme-regs.ts';
import * as R from '../pci/regs.ts';

export interface RegisterInfo {
  readonly offset: number;
  readonly width: 1 | 2 | 4 | 8;
}

export type RegisterTable = Readonly<Record<string, RegisterInfo>>;

const reg = (offset: number, width: 1 | 2 | 4 | 8): RegisterInfo => ({ offset, width });

/** The type 0 header fields by their widths in Figure 6-1 (PCI_CLASS_REVISION is the dword at 0x08). */
export const CONFIG_REGISTERS: RegisterTable = {
  PCI_VENDOR_ID: reg(R.PCI_VENDOR_ID, 2),
  PCI_DEVICE_ID: reg(R.PCI_DEVICE_ID, 2),
  PCI_COMMAND: reg(R.PCI_COMMAND, 2),
  PCI_STATUS: reg(R.PCI_STATUS, 2),
  PCI_CLASS_REVISION: reg(R.PCI_CLASS_REVISION, 4),
  PCI_REVISION_ID: reg(R.PCI_REVISION_ID, 1),
  PCI_CLASS_PROG: reg(R.PCI_CLASS_PROG, 1),
  PCI_CLASS_DEVICE: reg(R.PCI_CLASS_DEVICE, 2),
  PCI_CACHE_LINE_SIZE: reg(R.PCI_CACHE_LINE_SIZE, 1),
  PCI_LATENCY_TIMER: reg(R.PCI_LATENCY_TIMER, 1),
  PCI_HEADER_TYPE: reg(R.PCI_HEADER_TYPE, 1),
  PCI_BIST: reg(R.PCI_BIST, 1),
  ...Object.fromEntries(Array.from({ length: R.PCI_STD_NUM_BARS }, (_, i) => [`PCI_BASE_ADDRESS_${i}`, reg(R.PCI_BASE_ADDRESS_0 + 4 * i, 4)])),
  PCI_CARDBUS_CIS: reg(R.PCI_CARDBUS_CIS, 4),
  PCI_SUBSYSTEM_VENDOR_ID: reg(R.PCI_SUBSYSTEM_VENDOR_ID, 2),
  PCI_SUBSYSTEM_ID: reg(R.PCI_SUBSYSTEM_ID, 2),
  PCI_ROM_ADDRESS: reg(R.PCI_ROM_ADDRESS, 4),
  PCI_CAPABILITY_LIST: reg(R.PCI_CAPABILITY_LIST, 1),
  PCI_INTERRUPT_LINE: reg(R.PCI_INTERRUPT_LINE, 1),
  PCI_INTERRUPT_PIN: reg(R.PCI_INTERRUPT_PIN, 1),
  PCI_MIN_GNT: reg(R.PCI_MIN_GNT, 1),
  PCI_MAX_LAT: reg(R.PCI_MAX_LAT, 1),
};

/** Capability ID names (pci_regs.h PCI_CAP_ID_*). */
export const CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  [R.PCI_CAP_ID_PM]: 'PCI_CAP_ID_PM',
  [R.PCI_CAP_ID_MSI]: 'PCI_CAP_ID_MSI',
  [R.PCI_CAP_ID_VNDR]: 'PCI_CAP_ID_VNDR',
  [R.PCI_CAP_ID_EXP]: 'PCI_CAP_ID_EXP',
  [R.PCI_CAP_ID_MSIX]: 'PCI_CAP_ID_MSIX',
};

/** edu D.2: 4-byte registers below 0x80, the DMA registers from 0x80 are 8 bytes. */
const EDU_REGISTERS: RegisterTable = Object.fromEntries(
  Object.entries(EDU_REG).map(([name, offset]) => [name, reg(offset, offset >= EDU_REG_64BIT_START ? 8 : 4)]));

/** NVMe 1.4 §3.1: CAP, ASQ and ACQ are 64-bit, the rest 32-bit. */
const NVME_64BIT: ReadonlySet<string> = new Set(['CAP', 'ASQ', 'ACQ']);
const NVME_REGISTERS: RegisterTable = Object.fromEntries(
  Object.entries(NVME_REG).map(([name, offset]) => [name, reg(offset, NVME_64BIT.has(name) ? 8 : 4)]));

/** The test device's registers are 32-bit; named without the TEST_DEV_ prefix ('ID', 'RAISE_MSI'). */
const TEST_PREFIX = 'TEST_DEV_';
const TEST_REGISTERS: RegisterTable = Object.fromEntries(
  Object.entries(TEST_DEV_REGS).map(([name, offset]) => [name.slice(TEST_PREFIX.length), reg(offset, 4)]));

/** The BAR0 register names of the model `identity` is (edu and the test device by ID, NVMe by its class
 *  code), or null when lib/emu does not model it. */
export function bar0RegistersFor(identity: Pick<PciIdentity, 'vendorId' | 'deviceId' | 'classCode'>): { model: string; registers: RegisterTable } | null {
  if (identity.vendorId === EDU_VENDOR_ID && identity.deviceId === EDU_DEVICE_ID) return { model: 'edu', registers: EDU_REGISTERS };
  if (identity.vendorId === TEST_DEV_VENDOR_ID && identity.deviceId === TEST_DEV_DEVICE_ID) return { model: 'test device', registers: TEST_REGISTERS };
  if (identity.classCode === PCI_CLASS_STORAGE_EXPRESS) return { model: 'NVMe', registers: NVME_REGISTERS };
  return null;
}

/** Looks `name` up in `table`; the test device's full C names (TEST_DEV_ID) are accepted too. */
export function lookupRegister(table: RegisterTable, name: string): RegisterInfo | undefined {
  if (Object.hasOwn(table, name)) return table[name];
  if (name.startsWith(TEST_PREFIX) && Object.hasOwn(table, name.slice(TEST_PREFIX.length))) return table[name.slice(TEST_PREFIX.length)];
  return undefined;
}
