// scripts/install.mjs as npm runs it in a user's project (app/node_modules/vfio-ddk), with a PATH that
// reaches node but no cmake, compiler or make. The slow end-to-end version (npm pack, npm install,
// npx vfio-ddk demo) is scripts/pack-install-test.mjs (`npm run test:pack`).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/native/loader.ts';

function installedCopy(t: { teardown(fn: () => void): void }, withPrebuild: boolean): { root: string; bin: string } {
  const top = mkdtempSync(join(tmpdir(), 'vfio-ddk-install-'));
  t.teardown(() => rmSync(top, { recursive: true, force: true }));
  const root = join(top, 'app', 'node_modules', 'vfio-ddk');
  mkdirSync(join(root, 'scripts'), { recursive: true });
  copyFileSync(join(packageRoot(), 'scripts', 'install.mjs'), join(root, 'scripts', 'install.mjs'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'vfio-ddk', version: '0.0.0', type: 'module' }));
  if (withPrebuild) {
    mkdirSync(join(root, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true });
    writeFileSync(join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'vfio-ddk.node'), '');
  }
  const bin = join(top, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  return { root, bin };
}

function runInstall(root: string, bin: string) {
  const r = spawnSync(join(bin, 'node'), [join(root, 'scripts', 'install.mjs')], { cwd: root, encoding: 'utf8', env: { PATH: bin, HOME: root }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('no prebuild and no compiler: the install succeeds and says, in one line, how to build the addon', async (t) => {
  const { root, bin } = installedCopy(t, false);
  const r = runInstall(root, bin);
  t.equal(r.status, 0, 'the install does not fail: emulated devices still work');
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, r.stderr);
  t.match(lines[0], /^vfio-ddk: the VFIO backend is unavailable \(no prebuilt addon for \S+ and no cmake, g\+\+, make on PATH to build one\); emulated devices still work\. To enable it, install cmake \(>= 3\.15\) and g\+\+ \(C\+\+17\), then run `npm rebuild vfio-ddk` in your project\.$/);
  t.notOk(existsSync(join(root, 'build')), 'no build attempted');
});

t.test('with a prebuild nothing is compiled, even without a compiler', async (t) => {
  const { root, bin } = installedCopy(t, true);
  const r = runInstall(root, bin);
  t.equal(r.status, 0);
  t.match(r.stdout, /using the prebuilt addon prebuilds\/\S+\/vfio-ddk\.node; nothing to compile/);
  t.equal(r.stderr, '');
});
