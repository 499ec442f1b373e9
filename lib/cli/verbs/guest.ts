/**
 * `vfio-ddk guest`: the hardware-in-the-loop runner as a user feature. Boots a QEMU guest (q35 with a
 * virtual IOMMU and interrupt remapping) whose root is this machine's root, read-only, with real QEMU
 * devices bound to vfio-pci; runs a command there in the current directory and exits with its
 * status — or gives an interactive shell. Inside, VFIO_DDK_EDU_BDF / VFIO_DDK_NVME_BDF name the
 * devices. The runner is scripts/guest/guest.mjs (shared qemu-guest.md).
 */
import { integerOption } from '../args.ts';
import type { ParsedArgs } from '../args.ts';
import { GUEST_DEVICE_NAMES, guestSetupError, loadGuestRunner, shellQuote } from '../demo-guest.ts';
import type { GuestDeviceName, GuestRunnerLoader } from '../demo-guest.ts';
import { UsageError } from '../exit-codes.ts';
import { DdkError } from '../../errors.ts';
import type { Verb } from '../verb.ts';

const MAX_TIMEOUT_SECONDS = 24 * 3600;
const DEFAULT_TIMEOUT_SECONDS = 300;

function isGuestDevice(name: string): name is GuestDeviceName {
  return (GUEST_DEVICE_NAMES as readonly string[]).includes(name);
}

/** "--devices edu,nvme" (default both; "none" for none), each a known device, no repeats. */
export function parseGuestDevices(raw: string | boolean | undefined): GuestDeviceName[] {
  if (raw === undefined) return [...GUEST_DEVICE_NAMES];
  const text = String(raw).trim();
  if (text === 'none') return [];
  const names = text.split(',').map((n) => n.trim());
  const devices: GuestDeviceName[] = [];
  for (const name of names) {
    if (!isGuestDevice(name)) {
      throw new UsageError(`unknown guest device ${JSON.stringify(name)}: --devices takes a comma-separated list of ${GUEST_DEVICE_NAMES.join(', ')} (or none)`);
    }
    if (devices.includes(name)) throw new UsageError(`--devices names ${name} twice`);
    devices.push(name);
  }
  return devices;
}

/** "--kernel debian|iommufd|PATH" (undefined: the runner's default, debian). */
export function parseGuestKernel(raw: string | boolean | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  if (text === 'debian' || text === 'iommufd' || text.includes('/') || text.includes('.')) return text;
  throw new UsageError(`unknown guest kernel ${JSON.stringify(text)}: --kernel takes debian, iommufd or the path of a vmlinux/bzImage`);
}

/**
 * The runner's kernel errors as the CLI's: a --kernel PATH that is missing (ENOENT → exit 3) or not
 * a bootable image (ENOEXEC: a bad option value → exit 2), a kernel build that failed (EBUILD →
 * exit 1), each one line saying what to do.
 */
export function guestKernelError(err: unknown): Error | null {
  if (!(err instanceof Error) || !('code' in err)) return null;
  if (err.code === 'ENOENT' && err.message.startsWith('--kernel ')) return new DdkError('ENOENT', err.message);
  if (err.code === 'ENOEXEC') return new UsageError(err.message);
  if (err.code === 'EBUILD') return new DdkError('EBUILD', err.message);
  // --device / --qemu-arg QEMU does not know or rejects (exit 2), a --qemu that is not there (exit 3).
  if (err.code === 'EUSAGE') return new UsageError(err.message);
  if (err.code === 'ENOENT' && err.message.startsWith('--qemu ')) return new DdkError('ENOENT', err.message);
  return null;
}

/** The command line to run: one word is a shell command as written ("make test && …"), more are quoted words. */
export function guestCommand(args: ParsedArgs): { command?: string; shell: boolean } {
  const shell = args.values['shell'] === true;
  const words = args.positionals;
  if (shell) {
    if (words.length > 0) throw new UsageError('--shell takes no command');
    return { shell };
  }
  if (words.length === 0 || words.every((w) => w.trim() === '')) {
    throw new UsageError('no command: vfio-ddk guest [options] -- <command…>, or --shell for an interactive shell');
  }
  return { command: words.length === 1 ? words[0] : words.map(shellQuote).join(' '), shell };
}

export function createGuestVerb(load: GuestRunnerLoader = loadGuestRunner): Verb {
  return {
    spec: {
      name: 'guest',
      summary: 'Boot the QEMU guest (virtual IOMMU, edu and NVMe bound to vfio-pci) and run a command or a shell in it.',
      positionals: ['[-- command…]'],
      options: {
        devices: { type: 'string', valueName: 'LIST', description: `devices to give the guest: ${GUEST_DEVICE_NAMES.join(',')} (default), a subset, or none` },
        shell: { type: 'boolean', description: 'an interactive shell in the guest instead of a command (exit powers it off)' },
        kernel: { type: 'string', valueName: 'KERNEL', description: 'debian (default: type1 VFIO), iommufd (6.12 with iommufd + VFIO cdev, built once, 15–25 min) or PATH of a vmlinux/bzImage' },
        device: { type: 'string', multiple: true, valueName: 'SPEC', description: 'an extra QEMU device (-device string: e1000e, pci-testdev, your model) on its own root port, bound to vfio-pci (repeatable)' },
        'qemu-arg': { type: 'string', multiple: true, rawValue: true, valueName: 'ARG', description: 'passed to QEMU as-is, for the -object/-drive/-netdev a --device needs (repeatable)' },
        qemu: { type: 'string', valueName: 'PATH', description: 'the QEMU binary to run (default /usr/bin/qemu-system-x86_64), e.g. one you built with your device model' },
        timeout: { type: 'string', valueName: 'SECONDS', description: `limit for the whole run, boot included (default ${DEFAULT_TIMEOUT_SECONDS}; none with --shell)` },
      },
      details: 'The guest\'s root is this machine\'s root (read-only), so the command runs at the current directory\n'
        + 'with this node and these files; /tmp, /run and $HOME are tmpfs. VFIO_DDK_EDU_BDF and VFIO_DDK_NVME_BDF\n'
        + 'hold the devices\' addresses; VFIO_DDK_DEVICES describes every device bound to vfio-pci (JSON: spec, id, bdf,\n'
        + 'group, vendorDevice, class). Each --device gets its own PCIe root port (own IOMMU group, hot-pluggable) and\n'
        + 'an id (its own id= or ddkdevN); QMP is <run folder>/qmp.sock, reachable from the guest through /run/ddk\n'
        + '(scripts/guest/qmp-relay.mjs). Exit status: the command\'s (124 when the timeout cut it off).\n'
        + 'The first run needs root: it installs qemu-system-x86 and the guest kernel (Debian/Ubuntu, about 86 MB).\n'
        + '--kernel iommufd builds Linux 6.12 from Debian\'s linux-source-6.12 the first time (15–25 min on 2 cores),\n'
        + 'cached in ${VFIO_DDK_CACHE:-~/.cache/vfio-ddk}; a --kernel PATH needs virtio-pci, 9p, vfio-pci and the IOMMU built in or in /lib/modules/<release>.\n'
        + 'One command word is run by sh as written (quote it to use $VFIO_DDK_EDU_BDF, pipes, &&); several are quoted words.\n'
        + 'Options go before "--"; everything after it is the command.\n'
        + 'Examples:\n  vfio-ddk guest --devices edu -- \'npx vfio-ddk demo --device $VFIO_DDK_EDU_BDF\'\n'
        + '  vfio-ddk guest --device e1000e -- \'echo $VFIO_DDK_DEVICES\'\n'
        + '  vfio-ddk guest --qemu-arg -object --qemu-arg memory-backend-ram,id=m0,size=1M --device ivshmem-plain,memdev=m0 -- true\n'
        + '  vfio-ddk guest --timeout 600 -- node my-script.mjs\n  vfio-ddk guest --shell',
    },
    async run(args, ctx) {
      const devices = parseGuestDevices(args.values['devices']);
      const kernel = parseGuestKernel(args.values['kernel']);
      const { command, shell } = guestCommand(args);
      const explicit = args.values['timeout'] !== undefined;
      const seconds = integerOption(args, 'timeout', DEFAULT_TIMEOUT_SECONDS, 1, MAX_TIMEOUT_SECONDS);
      const extraDevices = [...(args.lists?.['device'] ?? [])];
      const qemuArgs = [...(args.lists?.['qemu-arg'] ?? [])];
      const qemuRaw = args.values['qemu'];
      const qemu = typeof qemuRaw === 'string' && qemuRaw !== '' ? qemuRaw : undefined;
      const runInGuest = await load((message) => ctx.stderr(`[guest] ${message}\n`));
      let result;
      try {
        result = await runInGuest({
          ...(command === undefined ? {} : { command }),
          shell, devices, extraDevices, qemuArgs, ...(qemu === undefined ? {} : { qemu }), cwd: process.cwd(), ...(kernel === undefined ? {} : { kernel }),
          // A shell has no limit unless one is asked for; a command has the default one.
          ...(shell && !explicit ? {} : { timeoutMs: seconds * 1000 }),
          onOutput: (line) => ctx.stdout(`${line}\n`),
          log: (message) => ctx.stderr(`[guest] ${message}\n`),
        });
      } catch (err) {
        throw guestSetupError(err) ?? guestKernelError(err) ?? err;
      }
      ctx.stderr(`[guest] done: status ${result.status}, boot ${result.bootSeconds?.toFixed(1) ?? '?'} s, total ${result.seconds.toFixed(1)} s (${result.accel}${result.kernel === undefined ? '' : `, ${result.kernel}`})\n`);
      return result.status;
    },
  };
}

export const guestVerb: Verb = createGuestVerb();
