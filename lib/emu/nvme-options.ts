/**
 * Options of the emulated NVMe controller (nvme.ts) and their checks. Strings are what QEMU's
 * `serial=` / `model=` / `firmware=` properties would hold: printable ASCII that fits its Identify
 * Controller field (§5.15.2.2: SN 20, MN 40, FR 8 bytes).
 */
import { NVME_ID_CTRL_FR_LENGTH, NVME_ID_CTRL_MN_LENGTH, NVME_ID_CTRL_SN_LENGTH, NVME_QEMU_FIRMWARE, NVME_QEMU_MODEL } from '../pci/nvme-regs.ts';

export interface NvmeOptions {
  /** Identify Controller SN (default 'deadbeef', as the project's guest). */
  serial?: string;
  /** Identify Controller MN (default 'QEMU NVMe Ctrl'). */
  model?: string;
  /** Identify Controller FR (default '7.2.0', QEMU_VERSION). */
  firmware?: string;
  /** Size of namespace 1 in bytes, a multiple of 512 (default 64 MiB). */
  namespaceBytes?: number;
  /** Delay of CSTS.RDY / SHST transitions after a CC write (default 0: the next timer turn). */
  readyDelayMs?: number;
  /** Delay between an SQ tail doorbell and command processing (default 0). */
  commandDelayMs?: number;
  /**
   * true: a doorbell write fetches, executes and completes the commands before it returns (the
   * completion's MSI-X is still delivered later, through its IrqLine). For a thread that blocks right
   * after ringing — a blocking IRQ thread in a Worker (lib/drivers/nvme-irq-thread) — where the
   * model's deferred processing, a timer, could never run. Excludes a commandDelayMs (default false).
   */
  inlineCommands?: boolean;
}

export type NvmeOptionsChecked = Required<NvmeOptions>;

export const NVME_EMU_DEFAULT_SERIAL = 'deadbeef';
export const NVME_EMU_DEFAULT_NAMESPACE_BYTES = 64 * 1024 * 1024;
const LBA_SIZE = 512;

function checkText(name: string, value: unknown, max: number, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !/^[\x20-\x7e]+$/.test(value)) {
    throw new RangeError(`createNvmeDevice: ${name} must be 1–${max} printable ASCII characters, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkDelay(name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`createNvmeDevice: ${name} must be a finite number ≥ 0, got ${String(value)}`);
  return value;
}

export function checkNvmeOptions(options: NvmeOptions): NvmeOptionsChecked {
  if (options === null || typeof options !== 'object') throw new RangeError('createNvmeDevice: options must be an object');
  const bytes = options.namespaceBytes ?? NVME_EMU_DEFAULT_NAMESPACE_BYTES;
  const inline = options.inlineCommands ?? false;
  if (typeof inline !== 'boolean') throw new RangeError(`createNvmeDevice: inlineCommands must be a boolean, got ${String(inline)}`);
  const commandDelayMs = checkDelay('commandDelayMs', options.commandDelayMs);
  if (inline && commandDelayMs > 0) throw new RangeError('createNvmeDevice: inlineCommands processes at the doorbell write; it takes no commandDelayMs');
  if (!Number.isSafeInteger(bytes) || bytes < LBA_SIZE || bytes % LBA_SIZE !== 0) {
    throw new RangeError(`createNvmeDevice: namespaceBytes must be a positive multiple of ${LBA_SIZE}, got ${String(bytes)}`);
  }
  return {
    serial: checkText('serial', options.serial, NVME_ID_CTRL_SN_LENGTH, NVME_EMU_DEFAULT_SERIAL),
    model: checkText('model', options.model, NVME_ID_CTRL_MN_LENGTH, NVME_QEMU_MODEL),
    firmware: checkText('firmware', options.firmware, NVME_ID_CTRL_FR_LENGTH, NVME_QEMU_FIRMWARE),
    namespaceBytes: bytes,
    readyDelayMs: checkDelay('readyDelayMs', options.readyDelayMs),
    commandDelayMs,
    inlineCommands: inline,
  };
}
