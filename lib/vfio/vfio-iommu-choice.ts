/**
 * Which VFIO IOMMU path a device is opened through, and why (spec/pci-vfio.md C.5): the iommufd +
 * device cdev flow when the kernel offers it for that device — its /sys/bus/pci/devices/<bdf>/vfio-dev/
 * vfioN (CONFIG_VFIO_DEVICE_CDEV, Linux ≥ 6.6), /dev/vfio/devices/ and /dev/iommu (CONFIG_IOMMUFD) —
 * else the legacy group/container flow with the type1 IOMMU. Either can be forced: the `iommu` open
 * option first, then VFIO_DDK_IOMMU=type1|iommufd in the environment. `openVfio`, `vfio-ddk info`
 * and `vfio-ddk doctor` all decide with `decideIommuPath`, so what they report is what open does.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DdkError } from '../errors.ts';

export type VfioIommuChoice = 'auto' | 'type1' | 'iommufd';
export type VfioIommuKind = 'type1' | 'iommufd';
/** Where a forced choice came from (for the reason text). */
export type IommuChoiceSource = 'option' | 'env' | 'default';

/** The environment variable that forces a path for every open in the process. */
export const VFIO_DDK_IOMMU_ENV = 'VFIO_DDK_IOMMU';
const CHOICES: readonly VfioIommuChoice[] = ['auto', 'type1', 'iommufd'];

export function isIommuChoice(value: unknown): value is VfioIommuChoice {
  return typeof value === 'string' && (CHOICES as readonly string[]).includes(value);
}

/**
 * The choice from VFIO_DDK_IOMMU (unset or empty: 'auto'). A bad value is refused loudly (DdkError
 * 'EINVAL') rather than silently ignored: a user who forces a path wants to know it took.
 */
export function iommuChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): VfioIommuChoice {
  const raw = env[VFIO_DDK_IOMMU_ENV];
  if (raw === undefined || raw === '') return 'auto';
  if (!isIommuChoice(raw)) {
    throw new DdkError('EINVAL', `${VFIO_DDK_IOMMU_ENV}=${raw} is not a VFIO IOMMU path: use type1, iommufd or auto (or unset it)`);
  }
  return raw;
}

/** The device's VFIO cdev name (/sys/bus/pci/devices/<bdf>/vfio-dev/vfioN), or null. */
export function cdevName(sysfsRoot: string, bdf: string): string | null {
  const dir = join(sysfsRoot, 'bus', 'pci', 'devices', bdf, 'vfio-dev');
  if (!existsSync(dir)) return null;
  return readdirSync(dir).find((n) => /^vfio\d+$/.test(n)) ?? null;
}

export interface IommuPathInput {
  readonly sysfsRoot: string;
  readonly vfioDir: string;
  readonly iommuPath: string;
  readonly choice: VfioIommuChoice;
  readonly source: IommuChoiceSource;
}

export interface IommuPathDecision {
  readonly kind: VfioIommuKind;
  /** One line: why this path ("forced by VFIO_DDK_IOMMU=type1", "/dev/iommu missing: …"). */
  readonly reason: string;
  /** The cdev node to open on the iommufd path (null on type1 or when missing). */
  readonly cdevPath: string | null;
  /** Set when the chosen path cannot work (iommufd forced without a cdev / iommufd): what is missing. */
  readonly unavailable: string | null;
}

function forcedBy(input: IommuPathInput): string {
  return input.source === 'env' ? `forced by ${VFIO_DDK_IOMMU_ENV}=${input.choice}` : `forced by the iommu: '${input.choice}' open option`;
}

/**
 * What the iommufd path lacks for `bdf`, or null when it has everything. The sysfs vfio-dev/vfioN
 * entry alone proves nothing: Linux 6.1–6.5 create it (struct vfio_device's device) without the
 * /dev/vfio/devices/ node, which came with CONFIG_VFIO_DEVICE_CDEV in 6.6.
 */
function iommufdMissing(input: IommuPathInput, cdev: string | null): string | null {
  const why = 'kernel without CONFIG_VFIO_DEVICE_CDEV, Linux ≥ 6.6';
  if (cdev === null) return `the device has no VFIO device cdev (${why}, or not bound to vfio-pci)`;
  const node = join(input.vfioDir, 'devices', cdev);
  if (!existsSync(node)) return `no VFIO device cdev node ${node} (${why}, or devtmpfs not mounted on /dev)`;
  if (!existsSync(input.iommuPath)) return `${input.iommuPath} is missing (kernel without CONFIG_IOMMUFD, or \`modprobe iommufd\`)`;
  return null;
}

export function decideIommuPath(bdf: string, input: IommuPathInput): IommuPathDecision {
  const cdev = cdevName(input.sysfsRoot, bdf);
  const missing = iommufdMissing(input, cdev);
  const cdevPath = cdev === null ? null : join(input.vfioDir, 'devices', cdev);
  if (input.choice === 'type1') return { kind: 'type1', reason: forcedBy(input), cdevPath: null, unavailable: null };
  if (input.choice === 'iommufd') {
    return { kind: 'iommufd', reason: forcedBy(input), cdevPath, unavailable: missing === null ? null : `iommufd path unavailable: ${missing}` };
  }
  if (missing === null) {
    return { kind: 'iommufd', reason: `the device has the VFIO cdev ${cdevPath ?? ''} and ${input.iommuPath} exists`, cdevPath, unavailable: null };
  }
  return { kind: 'type1', reason: `no iommufd path: ${missing}`, cdevPath: null, unavailable: null };
}
