/**
 * Runs one command inside the hardware-in-the-loop guest and returns its exit status — the API that
 * scripts/guest/run.mjs, scripts/test-hw.mjs and the CLI share.
 *
 * The host root is the guest's root (read-only 9p), so the command runs at the same path with the
 * host's node, addon and files; a per-run folder is shared writable and appears in the guest at
 * /run/ddk (command.sh in, status and devices out). QEMU exits 0 whatever the guest did, so the
 * status comes from that folder (shared qemu-guest.md "Exit status").
 *
 * In the guest the command sees: VFIO_DDK_GUEST=1, VFIO_DDK_GUEST_KERNEL (debian, iommufd or the
 * path given), VFIO_DDK_EDU_BDF / VFIO_DDK_NVME_BDF (the BDFs bound to vfio-pci), VFIO_DDK_DEVICES
 * (JSON array, every device bound to vfio-pci: { spec, id, bdf, group, vendorDevice, class }),
 * HOME and TMPDIR on tmpfs. QEMU's QMP monitor is <run folder>/qmp.sock; the command reaches it
 * through the share (qmp-relay.mjs), the caller through `onQmp` — both over one connection
 * (qmp-shared.mjs).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CACHE_ROOT, ensureGuestImage } from './setup.mjs';
import { GUEST_DEVICES, canUseKvm, checkDeviceNames, parseExtraDevices, qemuArgs, qemuBinary, usageError } from './qemu.mjs';
import { startQmpRelay } from './qmp-relay.mjs';
import { hostQmpHandle, sharedQmp } from './qmp-shared.mjs';

const NVME_IMAGE_BYTES = 64 * 1024 * 1024;
/** The exit status reported when the run is cut off by the timeout (as coreutils `timeout`). */
export const TIMEOUT_STATUS = 124;
/**
 * The kernel's last words at power-off (printed at every level): noise in the command's output.
 * The iommufd kernel has no CONFIG_PRINTK_TIME, so the timestamp is optional.
 */
const POWER_DOWN = /^(\[\s*\d+\.\d+\] )?reboot: Power down$/;

function shellQuote(s) {
  return `'${String(s).replaceAll("'", `'\\''`)}'`;
}

/** A fresh sparse image per run: QEMU write-locks it, so concurrent runs must not share one. */
function createNvmeImage(path) {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, NVME_IMAGE_BYTES); // sparse: no blocks until written
  closeSync(fd);
  return path;
}

function commandScript({ command, shell, cwd, env, devices, extra, kernel }) {
  const exports = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new RangeError(`bad environment variable name '${k}'`);
    return `export ${k}=${shellQuote(v)}`;
  });
  // init.sh's /run/ddk/devices lines: "<vendor:device> <bdf> <group> <class> <port slot or ->".
  const jsonOf = (spec, id, bus) => `spec=${shellQuote(JSON.stringify(spec))} did=${shellQuote(JSON.stringify(id))} bus=${bus}`;
  const cases = devices.map((name) => {
    const d = GUEST_DEVICES[name];
    return `      ${d.id}) export VFIO_DDK_${name.toUpperCase()}_BDF="$bdf"; ${jsonOf(d.spec, `${name}0`, 'pcie.0')} ;;`;
  });
  const ports = extra.map((d, i) => `    ${d.slot.toString(16)}) ${jsonOf(d.spec, d.id, `ddkrp${i}`)} ;;`);
  return [
    '#!/bin/sh',
    '# Written by scripts/guest/guest.mjs; runs in the guest inside the chroot of the host root.',
    `export PATH=${shellQuote(`${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`)}`,
    'export HOME=/run/ddk-home TMPDIR=/run/ddk-tmp VFIO_DDK_GUEST=1',
    `export VFIO_DDK_GUEST_KERNEL=${shellQuote(kernel)}`,
    'mkdir -p "$HOME" "$TMPDIR"',
    'ddk_devices=',
    'while read -r id bdf group class port; do',
    '  case "$port" in',
    ...ports,
    '    *) case "$id" in',
    ...cases,
    '      *) continue ;;',
    '    esac ;;',
    '  esac',
    '  ddk_devices="$ddk_devices${ddk_devices:+,}{\\"spec\\":$spec,\\"id\\":$did,\\"bus\\":\\"$bus\\",\\"bdf\\":\\"$bdf\\",\\"group\\":\\"$group\\",\\"vendorDevice\\":\\"$id\\",\\"class\\":\\"$class\\"}"',
    'done < /run/ddk/devices',
    'export VFIO_DDK_DEVICES="[$ddk_devices]"',
    ...exports,
    `cd ${shellQuote(cwd)} || exit 125`,
    shell ? 'exec /bin/bash -i || exec /bin/sh -i' : command,
    '',
  ].join('\n');
}

/**
 * @param {object} o
 * @param {string} [o.command]   shell command (sh -c semantics) to run in the guest
 * @param {boolean} [o.shell]    interactive shell on this terminal instead of a command
 * @param {string[]} [o.devices] of 'edu', 'nvme' (default both)
 * @param {string[]} [o.extraDevices] QEMU -device strings ("e1000e", a model of your own), each on its
 *   own pcie-root-port (id ddkrpN), with id= its own or ddkdevN, bound to vfio-pci
 * @param {string[]} [o.qemuArgs]  extra QEMU arguments as-is (-object/-drive/-netdev a device needs)
 * @param {string} [o.qemu]        the QEMU binary (default /usr/bin/qemu-system-x86_64)
 * @param {string} [o.kernel]    'debian' (default), 'iommufd' or the path of a vmlinux/bzImage (setup.mjs)
 * @param {number} [o.timeoutMs] whole run, boot included (default 5 min; none for a shell)
 * @param {string} [o.cwd]       where the command runs (default the current directory)
 * @param {Record<string,string>} [o.env] extra environment for the command
 * @param {string[]} [o.append]  extra kernel command-line words (module.param=value is forwarded to insmod)
 * @param {(line: string) => void} [o.onOutput]  console line of the guest (default: to stdout)
 * @param {(msg: string) => void} [o.log]        progress lines (default: to stderr)
 * @param {boolean} [o.keepResults] keep the per-run folder (/run/ddk in the guest) and return it as
 *   `resultsDir` (the caller removes it; scripts/bench/hw.mjs reads its results from there)
 * @param {(qmp: object, run: { running: Promise<void> }) => unknown} [o.onQmp] called once QEMU's QMP
 *   monitor is connected, while the guest boots: `qmp` has execute(cmd, args), waitEvent, onEvent,
 *   deviceDel, deviceAdd, systemReset (qmp-shared.mjs hostQmpHandle), shared with the guest's requests;
 *   `running` resolves when the guest command starts (rejects if the guest stops first). What it returns
 *   is the result's `qmpResult`. If it throws, the guest is stopped and runInGuest rejects with that
 *   error (the run folder is removed even with keepResults). Calls still pending when QEMU exits
 *   reject with code 'ECLOSED'.
 * @returns {Promise<{ status: number, bootSeconds: number | null, seconds: number, accel: string,
 *   kernel: string, iommu: 'type1' | 'iommufd' | null,
 *   devices: { id: string, bdf: string, group: string, class: string, spec: string | null, name: string | null }[],
 *   timedOut: boolean, resultsDir: string | null, qmpResult: unknown }>}
 */
export async function runInGuest(o = {}) {
  const devices = o.devices ?? ['edu', 'nvme'];
  if (!Array.isArray(devices)) throw new TypeError('runInGuest: devices must be an array of device names');
  const shell = o.shell === true;
  if (!shell && (typeof o.command !== 'string' || o.command.trim() === '')) throw new TypeError('runInGuest: a command (or shell: true) is required');
  for (const d of devices) if (!GUEST_DEVICES[d]) throw new RangeError(`unknown guest device '${d}' (known: ${Object.keys(GUEST_DEVICES).join(', ')})`);
  const extra = parseExtraDevices(o.extraDevices ?? []);
  const extraQemuArgs = o.qemuArgs ?? [];
  if (!Array.isArray(extraQemuArgs) || extraQemuArgs.some((a) => typeof a !== 'string')) throw new TypeError('runInGuest: qemuArgs must be an array of strings');
  // A missing --qemu is reported before anything is set up; the default one is installed by setup.
  if (o.qemu !== undefined) qemuBinary(o.qemu);
  const append = o.append ?? [];
  for (const word of append) {
    if (typeof word !== 'string' || !/^[\w.,:=+/-]+$/.test(word)) throw new RangeError(`bad kernel command-line word ${JSON.stringify(word)}`);
  }
  if (o.onQmp !== undefined && typeof o.onQmp !== 'function') throw new TypeError('runInGuest: onQmp must be a function (qmp, { running }) => …');
  const timeoutMs = o.timeoutMs ?? (shell ? 0 : 5 * 60_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError(`runInGuest: timeoutMs must be ≥ 0, got ${String(timeoutMs)}`);
  const cwd = o.cwd ?? process.cwd();
  const log = o.log ?? ((m) => process.stderr.write(`[guest] ${m}\n`));
  const onOutput = o.onOutput ?? ((line) => process.stdout.write(`${line}\n`));

  const image = await ensureGuestImage({ log, kernel: o.kernel });
  const qemu = qemuBinary(o.qemu);
  checkDeviceNames(qemu, extra);
  const kvm = canUseKvm();
  mkdirSync(join(CACHE_ROOT, 'runs'), { recursive: true });
  const resultsDir = mkdtempSync(join(CACHE_ROOT, 'runs', 'run-'));
  writeFileSync(join(resultsDir, 'command.sh'), commandScript({ command: o.command, shell, cwd, env: o.env ?? {}, devices, extra, kernel: image.kernel }));
  const underTmp = cwd === '/tmp' || cwd.startsWith('/tmp/') || CACHE_ROOT.startsWith('/tmp/');
  const cmdline = [`ddk.bind=${devices.map((d) => GUEST_DEVICES[d].id).join(',')}`, `ddk.tmp=${underTmp ? 0 : 1}`,
    ...(extra.length ? [`ddk.ports=${extra.map((d) => d.slot.toString(16)).join(',')}`] : []), ...append];
  const nvmeImage = devices.includes('nvme') ? createNvmeImage(`${resultsDir}.nvme.raw`) : undefined;
  const qmpSocket = join(resultsDir, 'qmp.sock');
  const args = qemuArgs({ ...image, resultsDir, devices, nvmeImage, kvm, cmdline, extra, qemuArgs: extraQemuArgs, qmpSocket });

  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  let bootSeconds = null;
  let timedOut = false;
  let markRunning = () => {};
  let notRunning = () => {};
  const running = new Promise((resolve, reject) => { markRunning = resolve; notRunning = reject; });
  running.catch(() => {}); // only onQmp callers await it
  const names = [...devices, ...extra.map((d) => d.spec)];
  log(`booting ${image.label} (${kvm ? 'KVM' : 'TCG'}, devices: ${names.join(', ') || 'none'}) 0.0 s`);
  const child = spawn(qemu, args, { stdio: shell ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
  const timer = timeoutMs > 0 ? setTimeout(() => {
    timedOut = true;
    log(`timeout after ${(timeoutMs / 1000).toFixed(0)} s: stopping the guest`);
    child.kill('SIGKILL');
  }, timeoutMs) : null;

  if (!shell) {
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const raw of lines) {
        const line = raw.replace(/\r/g, '');
        const marker = /^@@ddk:(\S+)\s*(.*)$/.exec(line);
        if (!marker) {
          if (!POWER_DOWN.test(line)) onOutput(line);
          continue;
        }
        const [, phase, rest] = marker;
        if (phase === 'running') { bootSeconds = elapsed(); markRunning(); }
        log(`${phase}${rest ? ` ${rest}` : ''} ${elapsed().toFixed(1)} s`);
      }
    });
    child.stdout.on('end', () => { if (partial) onOutput(partial.replace(/\r/g, '')); });
  }
  // QEMU's own complaints (a -device it rejects) are kept to explain an early exit.
  let qemuStderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk) => { qemuStderr += chunk; process.stderr.write(`[qemu] ${chunk}`); });
  const qmp = sharedQmp(qmpSocket);
  const stopRelay = startQmpRelay({ resultsDir, connect: qmp.client, log });
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const host = o.onQmp === undefined ? null : hostSide(o.onQmp, qmp, running, () => {
    log('the host-side QMP callback failed: stopping the guest');
    child.kill('SIGKILL');
  });
  let qemuStatus;
  try {
    qemuStatus = await exited;
  } finally {
    if (timer) clearTimeout(timer);
    stopRelay();
    qmp.close();
    notRunning(Object.assign(new Error('the guest stopped before its command ran'), { code: 'ECLOSED' }));
  }
  const hostOutcome = host === null ? null : await host;

  const read = (name) => { try { return readFileSync(join(resultsDir, name), 'utf8'); } catch { return null; } };
  const statusText = read('status');
  const bound = (read('devices') ?? '').split('\n').filter(Boolean).map((l) => {
    const [id, bdf, group, cls, port] = l.split(' ');
    const x = extra.find((d) => d.slot.toString(16) === port);
    const builtin = Object.entries(GUEST_DEVICES).find(([name, d]) => d.id === id && devices.includes(name));
    return { id, bdf, group, class: cls ?? null, spec: x?.spec ?? builtin?.[1].spec ?? null, name: x?.id ?? (builtin ? `${builtin[0]}0` : null) };
  });
  if (o.keepResults !== true || hostOutcome?.error !== undefined) rmSync(resultsDir, { recursive: true, force: true });
  if (nvmeImage) rmSync(nvmeImage, { force: true });
  const rejected = /-device ([^:\n]+): ([^\n]+)/.exec(qemuStderr);
  if (!timedOut && bootSeconds === null && qemuStatus !== 0 && rejected) {
    throw usageError(`QEMU rejected -device ${rejected[1]}: ${rejected[2].trim()} (see \`${qemu} -device ${rejected[1].split(',')[0]},help\` for its properties)`);
  }
  if (!timedOut && bootSeconds === null && qemuStatus !== 0 && qemuStderr.trim() !== '' && (extra.length || extraQemuArgs.length || o.qemu)) {
    throw usageError(`QEMU refused to start: ${qemuStderr.trim().split('\n')[0].replace(/^[^:]*qemu[^:]*: /, '')}`);
  }
  if (hostOutcome?.error !== undefined) throw hostOutcome.error;
  let status;
  if (timedOut) status = TIMEOUT_STATUS;
  else if (statusText !== null && /^\d+\s*$/.test(statusText)) status = Number(statusText);
  else {
    log(`the guest reported no exit status (QEMU exited with ${qemuStatus}): kernel ${image.label} crashed or did not boot` +
      (image.kernel === 'debian' || image.kernel === 'iommufd' ? '' : ' (a --kernel PATH needs virtio-pci, 9p over virtio, vfio-pci and an IOMMU driver, built in or as modules in /lib/modules/<release>)'));
    status = 1;
  }
  return { status, bootSeconds, seconds: elapsed(), accel: kvm ? 'kvm' : 'tcg', kernel: image.label, iommu: image.iommu, devices: bound, timedOut,
    resultsDir: o.keepResults === true ? resultsDir : null, qmpResult: hostOutcome?.value };
}

/**
 * Runs `onQmp(handle, { running })` once the shared QMP connection is up; settles to { value } or
 * { error } (never rejects). `stopGuest` runs when the callback fails while QEMU may still be running.
 */
async function hostSide(onQmp, qmp, running, stopGuest) {
  try {
    const client = await qmp.client();
    return { value: await onQmp(hostQmpHandle(client), { running }) };
  } catch (error) {
    stopGuest();
    return { error };
  }
}
