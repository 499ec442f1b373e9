#!/usr/bin/env node
/**
 * npm run test:hw — the hardware-in-the-loop suites (hw-tests/) inside QEMU guests with a real edu
 * and NVMe bound to vfio-pci behind a virtual IOMMU (shared qemu-guest.md), once per guest kernel:
 * Debian's 6.1 (VFIO type1 container) and the 6.12 built by scripts/guest/kernel-build.mjs (iommufd +
 * VFIO device cdev; the first build takes 15–25 min and is cached per user).
 *
 *   npm run test:hw                                   every hw-tests/**\/*.test.ts on both kernels
 *   npm run test:hw -- hw-tests/edu-vfio-device.test.ts   only these files
 *   npm run test:hw -- --kernel debian                one kernel (repeatable: debian, iommufd, PATH)
 *   npm run test:hw -- --timeout 300                  limit per guest run in seconds (default 720)
 *   npm run test:hw -- --device pci-testdev           extra QEMU devices instead of the default two e1000e
 *                                                     (repeatable; none for none; with --qemu-arg ARG and
 *                                                     --qemu PATH as for vfio-ddk guest)
 *
 * Steps: guest setup (cached), build dist/ and compile hw-tests/ to .cache/hw-tests/ on the host (tap's
 * TypeScript loader costs 30–140 s per file under TCG, plain JS ~8 s), boot one guest per kernel, run
 * each file with node there (VFIO_DDK_HW_IOMMU names the IOMMU path that kernel must give), print
 * the TAP summary here, one line per kernel and file, exit non-zero when anything failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { runInGuest } from './guest/guest.mjs';
import { missingFromSnapshot, qmpSnapshot } from './guest/qmp-snapshot.mjs';
import { PROJECT_ROOT, ensureGuestImage, parseKernelChoice } from './guest/setup.mjs';

const HW_DIR = join(PROJECT_ROOT, 'hw-tests');
const OUT_DIR = join(PROJECT_ROOT, '.cache/hw-tests');
const TSC = join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc');
const DEFAULT_EXTRA_DEVICES = ['e1000e', 'e1000e'];
const log = (m) => process.stderr.write(`[test:hw] ${m}\n`);

function parseArgs(argv) {
  const o = { files: [], timeoutMs: 720_000, kernels: [], extraDevices: [], qemuArgs: [], qemu: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--timeout') {
      const s = Number(argv[++i]);
      if (!(s > 0)) throw new Error('--timeout needs a number of seconds');
      o.timeoutMs = s * 1000;
    } else if (a === '--kernel') {
      const k = argv[++i];
      if (k === undefined || k === '') throw new Error('--kernel needs debian, iommufd or the path of a vmlinux/bzImage');
      const kernel = parseKernelChoice(k);
      if (!o.kernels.includes(kernel)) o.kernels.push(kernel);
    } else if (a === '--device' || a === '--qemu-arg' || a === '--qemu') {
      const v = argv[++i];
      if (v === undefined || v === '') throw Object.assign(new Error(`${a} needs a value`), { code: 'EUSAGE' });
      if (a === '--device') o.extraDevices.push(v);
      else if (a === '--qemu-arg') o.qemuArgs.push(v);
      else o.qemu = v;
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.kernels.length === 0) o.kernels.push('debian', 'iommufd');
  // Two e1000e, each on its own root port, unless devices are named (hw-tests/e1000e, qmp-hotplug and
  // hot-reset use the first; surprise-removal removes both while open): "--device none" for none.
  if (o.extraDevices.length === 0) o.extraDevices.push(...DEFAULT_EXTRA_DEVICES);
  o.extraDevices = o.extraDevices.filter((d) => d !== 'none');
  return o;
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function tsc(project, what) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [TSC, '-p', project], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) log(`${what}: tsc reported errors (${seconds} s):\n${(r.stdout + r.stderr).trim().split('\n').slice(0, 30).join('\n')}`);
  else log(`${what} compiled (${seconds} s)`);
  return r.status === 0;
}

/** Top-level TAP results per file, from the guest's console. */
function summarize(lines) {
  const files = [];
  let current = null;
  for (const line of lines) {
    const start = /^# vfio-ddk hw file: (.*)$/.exec(line);
    if (start) { current = { file: start[1], pass: 0, fail: [], skip: 0, exit: null }; files.push(current); continue; }
    const end = /^# vfio-ddk hw exit: \S+ (\d+)$/.exec(line);
    if (end && current) { current.exit = Number(end[1]); continue; }
    if (!current) continue;
    const result = /^(not ok|ok) \d+ - (.*)$/.exec(line);
    if (!result) continue;
    if (result[1] === 'ok') {
      if (/# SKIP/.test(result[2])) current.skip++;
      else current.pass++;
    } else current.fail.push(result[2]);
  }
  return files;
}

/** Boots one guest with `image`'s kernel and runs every compiled file there. */
async function runOnKernel(image, command, timeoutMs, o) {
  let lines = [];
  const tag = image.label;
  const boot = () => runInGuest({
    command,
    cwd: PROJECT_ROOT,
    devices: ['edu', 'nvme'],
    extraDevices: o.extraDevices,
    qemuArgs: o.qemuArgs,
    ...(o.qemu === undefined ? {} : { qemu: o.qemu }),
    kernel: image.kernel,
    timeoutMs,
    env: { NO_COLOR: '1', TAP_COLOR: '0', FORCE_COLOR: '0', ...(image.iommu ? { VFIO_DDK_HW_IOMMU: image.iommu } : {}) },
    log: (m) => log(`guest (${tag}): ${m}`),
    onOutput: (line) => { lines.push(line); process.stdout.write(`${line}\n`); },
    // The host-side QMP handle, on every run: a snapshot of the guest while its suites run.
    onQmp: qmpSnapshot,
  });
  let result = await boot();
  if (result.bootSeconds === null && !result.timedOut) {
    // The guest died before running anything (a TCG boot hiccup on a loaded host): one more boot.
    log(`the guest (${tag}) did not boot; retrying once`);
    lines = [];
    result = await boot();
  }
  return { image, result, lines, files: summarize(lines) };
}

/** "debian 6.1.0-57-amd64 · type1": the kernel and the IOMMU path its devices use. */
function pathLabel(image) {
  return `${image.label} · ${image.iommu ?? 'auto'}`;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const images = [];
  for (const kernel of o.kernels) images.push(await ensureGuestImage({ log, kernel }));
  if (!tsc('tsconfig.build.json', 'dist/')) log('continuing with what tsc emitted');
  rmSync(OUT_DIR, { recursive: true, force: true });
  if (!tsc('hw-tests/tsconfig.json', 'hw-tests/')) return 1;
  const prebuilds = join(PROJECT_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
  const addon = join(PROJECT_ROOT, 'build/Release/vfio_ddk.node');
  const hasPrebuild = existsSync(prebuilds) && readdirSync(prebuilds).some((f) => f.endsWith('.node'));
  if (!process.env.VFIO_DDK_ADDON && !hasPrebuild && !existsSync(addon)) {
    log(`the native addon is not built (${relative(PROJECT_ROOT, addon)}): run npm run build:native (cmake, g++)`);
    return 1;
  }
  const sources = o.files.length > 0 ? o.files.map((f) => resolve(f)) : findTests(HW_DIR);
  const compiled = sources.map((src) => {
    if (!src.startsWith(`${HW_DIR}/`) || !src.endsWith('.test.ts')) throw new Error(`${src}: not a hw-tests/*.test.ts file`);
    const js = join(OUT_DIR, relative(HW_DIR, src)).replace(/\.ts$/, '.js');
    if (!existsSync(js)) throw new Error(`${src} was not compiled to ${js}`);
    return { src: relative(PROJECT_ROOT, src), js: relative(PROJECT_ROOT, js) };
  });
  if (compiled.length === 0) { log('no hw-tests/*.test.ts files'); return 1; }

  const command = [
    'status=0',
    ...compiled.map(({ src, js }) => [
      `echo '# vfio-ddk hw file: ${src}'`,
      `node --enable-source-maps '${js}'; s=$?`,
      `echo "# vfio-ddk hw exit: ${src} $s"`,
      '[ "$s" -ne 0 ] && status=$s',
    ].join('; ')),
    'exit $status',
  ].join('\n');
  const runs = [];
  for (const image of images) runs.push(await runOnKernel(image, command, o.timeoutMs, o));
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'last-run.log'),
    runs.map((r) => `# ==== guest kernel ${pathLabel(r.image)}\n${r.lines.join('\n')}\n`).join(''));

  let status = 0;
  console.log('\n# hw-tests summary');
  for (const { image, result, lines, files } of runs) {
    const label = pathLabel(image);
    console.log(`# ${label}: guest ${result.accel.toUpperCase()}, boot ${result.bootSeconds?.toFixed(1) ?? '?'} s, ` +
      `whole run ${result.seconds.toFixed(1)} s, devices ${result.devices.map((d) => `${d.id}@${d.bdf}`).join(' ') || 'none'}`);
    for (const { src } of compiled) {
      const f = files.find((x) => x.file === src);
      if (!f) { console.log(`#   [${label}] ${src}: did not run`); continue; }
      const state = f.exit === 0 && f.fail.length === 0 ? 'ok' : `FAILED (exit ${f.exit ?? 'none'})`;
      console.log(`#   [${label}] ${src}: ${state} — ${f.pass} passed, ${f.fail.length} failed${f.skip ? `, ${f.skip} skipped` : ''}`);
      for (const name of f.fail) console.log(`#     not ok - ${name}`);
    }
    for (const line of lines) if (/^# .* µs/.test(line.trim())) console.log(`#   [${label}] ${line.trim().slice(2)}`);
    const snapshot = result.qmpResult;
    const missing = snapshot === undefined ? [] : missingFromSnapshot(snapshot, result.devices);
    if (snapshot?.error) console.log(`#   [${label}] host-side QMP while the suites ran: FAILED — ${snapshot.error}`);
    else if (snapshot !== undefined) {
      console.log(`#   [${label}] host-side QMP while the suites ran: ${snapshot.status}, query-pci ${snapshot.functions.length} functions` +
        (missing.length === 0 ? ', every device bound to vfio-pci among them' : ` — FAILED, missing ${missing.map((d) => d.id).join(' ')}`));
    }
    if (result.timedOut) console.log(`#   [${label}] the run hit the ${o.timeoutMs / 1000} s timeout`);
    const allRan = compiled.every(({ src }) => files.some((f) => f.file === src && f.exit !== null));
    const runStatus = result.status !== 0 ? result.status : allRan && missing.length === 0 ? 0 : 1;
    if (status === 0) status = runStatus;
  }
  console.log(`# full console log: ${relative(PROJECT_ROOT, join(OUT_DIR, 'last-run.log'))}`);
  return status;
}

main().then((status) => process.exit(status), (err) => {
  log(err.message);
  process.exit(err.code === 'EPERM' ? 77 : err.code === 'EUSAGE' ? 2 : err.code === 'ENOENT' ? 3 : 1);
});
