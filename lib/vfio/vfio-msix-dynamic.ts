/**
 * How the vectors of an enabled VFIO IRQ index reach the kernel: all at once, or one at a time.
 *
 * **Whole index** (every INTx and MSI index; MSI-X when GET_IRQ_INFO reports VFIO_IRQ_INFO_NORESIZE):
 * the first attach enables every vector in one SET_IRQS (start 0, count = the index's count) and the
 * index stays that size until it is disabled — the kernel cannot grow it. Routing per vector is in JS;
 * a vector with no line keeps its eventfd and its fires are dropped.
 *
 * **Dynamic MSI-X** (NORESIZE clear: Linux ≥ 6.5 when the device's MSI parent domain can allocate
 * MSI-X vectors after enable — vfio_pci_core.c vfio_pci_core_enable sets `has_dyn_msix =
 * pci_msix_can_alloc_dyn(pdev)`, and vfio_pci_ioctl_get_irq_info sets NORESIZE for MSI-X only without
 * it; on x86 the vector domain and Intel/AMD interrupt remapping support MSI_FLAG_PCI_MSIX_ALLOC_DYN):
 * only attached vectors get a trigger.
 * * enable for vector v: SET_IRQS(start v, count 1, [fd]). vfio_pci_set_msi_trigger enables MSI-X with
 *   `start + count` vectors allocated (vfio_msi_enable → pci_alloc_irq_vectors(pdev, 1, v + 1)) and
 *   requests the interrupt of vector v only (vfio_msi_set_block);
 * * add vector w to the enabled index: SET_IRQS(start w, count 1, [fd]) — vfio_msi_set_vector_signal
 *   allocates w's interrupt with pci_msix_alloc_irq_at when it has none (vfio_msi_alloc_irq) and leaves
 *   every other vector alone, so an enabled vector loses no interrupt meanwhile;
 * * release vector w: SET_IRQS(start w, count 1, [-1]) — free_irq; "Interrupt stays allocated, will
 *   be freed at MSI-X disable" (vfio_msi_set_vector_signal), so adding w again reuses it;
 * * the last detach disables the index (DATA_NONE, count 0) as in the whole-index case.
 * A vector without a trigger is masked in the device's table (the kernel masks unrequested entries),
 * so a message it raises waits in the PBA and arrives when the vector is added — the PCI behaviour of a
 * masked vector — where the whole-index mode drops it in JS.
 *
 * What it saves, per vector not set up: an eventfd + watcher and a requested Linux interrupt, and —
 * outside the block 0…v the first attach allocates — its allocation and interrupt-remapping entry (an
 * NVMe controller has 65 vectors; a driver using the admin queue needs 1).
 */
import type { NativeAddon } from '../native/addon-types.ts';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD } from '../native/vfio-uapi.ts';
import type { IrqInfo } from '../pci/device.ts';
import { IRQ_INDEX_NAMES, VFIO_PCI_MSIX_IRQ_INDEX } from '../pci/vfio-indices.ts';
import { DdkError } from '../errors.ts';

/** VFIO_IRQ_SET_DATA_EVENTFD's "de-assign this vector" (include/uapi/linux/vfio.h, vfio_irq_set). */
const VFIO_EVENTFD_UNASSIGN = -1;

/** The SET_IRQS calls of one index (lib/vfio/vfio-interrupts.ts holds the eventfds and routing). */
export interface VectorSetup {
  /** True when vectors are added to and released from the enabled index one at a time. */
  readonly dynamic: boolean;
  /** The vectors that get an eventfd when an attach of `first` enables the index. */
  initialVectors(first: number): number[];
  /** Enables the index with the eventfds of `initialVectors` (`fds[v]` for each of them). */
  enable(fds: readonly (number | undefined)[]): void;
  /** Adds `vector` (not yet set up) to the enabled index with `fd`; the others are not touched. */
  add(vector: number, fd: number): void;
  /** Releases `vector`'s trigger on the enabled index; the others keep firing. */
  release(vector: number): void;
}

const TRIGGER_EVENTFD = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;

/** Whether the kernel lets this index grow while enabled (only MSI-X can: vfio_msi_alloc_irq). */
export function isDynamicMsix(info: IrqInfo): boolean {
  return info.index === VFIO_PCI_MSIX_IRQ_INDEX && info.count > 0 && !info.noresize;
}

function fixedSize(info: IrqInfo, vector: number): DdkError {
  return new DdkError('EINVAL', `${IRQ_INDEX_NAMES[info.index]} vector ${vector}: this index is set up whole (VFIO_IRQ_INFO_NORESIZE); its vectors are not added or released one by one`);
}

/** Every vector in one SET_IRQS; the index never changes size while enabled. */
function wholeIndex(addon: NativeAddon, deviceFd: number, info: IrqInfo): VectorSetup {
  const { index, count } = info;
  return {
    dynamic: false,
    initialVectors: () => Array.from({ length: count }, (_, v) => v),
    enable: (fds) => {
      addon.vfioDeviceSetIrqs(deviceFd, { index, flags: TRIGGER_EVENTFD, start: 0, count, fds: fds.map((fd) => fd ?? VFIO_EVENTFD_UNASSIGN) });
    },
    // Every vector has its eventfd from the enable on, and a detached vector keeps firing into it
    // (dropped in JS) until the index is disabled: vfio-interrupts.ts never adds or releases one.
    add: (vector) => { throw fixedSize(info, vector); },
    release: (vector) => { throw fixedSize(info, vector); },
  };
}

/** One SET_IRQS of one vector per attach and per detach (NORESIZE clear). */
function dynamicMsix(addon: NativeAddon, deviceFd: number): VectorSetup {
  const setOne = (vector: number, fd: number): void => {
    addon.vfioDeviceSetIrqs(deviceFd, { index: VFIO_PCI_MSIX_IRQ_INDEX, flags: TRIGGER_EVENTFD, start: vector, count: 1, fds: [fd] });
  };
  return {
    dynamic: true,
    initialVectors: (first) => [first],
    enable: (fds) => {
      const vector = fds.findIndex((fd) => fd !== undefined);
      setOne(vector, fds[vector] as number);
    },
    add: setOne,
    release: (vector) => setOne(vector, VFIO_EVENTFD_UNASSIGN),
  };
}

/** The setup for an index as GET_IRQ_INFO describes it. */
export function vectorSetupFor(addon: NativeAddon, deviceFd: number, info: IrqInfo): VectorSetup {
  return isDynamicMsix(info) ? dynamicMsix(addon, deviceFd) : wholeIndex(addon, deviceFd, info);
}
