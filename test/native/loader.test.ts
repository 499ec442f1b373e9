import t from 'tap';
import type { Test } from 'tap';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nativePath, packageRoot } from '../../lib/native/loader.ts';
import { native, skip } from './helpers.ts';

type LoaderModule = typeof import('../../lib/native/loader.ts');

/** A copy of the package layout (lib/ + node_modules link) in a temp dir, with a fresh loader. */
async function packageCopy(t: Test, place: 'prebuild' | 'local' | 'both' | 'none', installed = false) {
  const top = mkdtempSync(join(tmpdir(), 'vfio-ddk-pkg-'));
  t.teardown(() => rmSync(top, { recursive: true, force: true }));
  // `installed`: laid out as a dependency of a user's project (app/node_modules/vfio-ddk).
  const root = installed ? join(top, 'app', 'node_modules', 'vfio-ddk') : top;
  mkdirSync(root, { recursive: true });
  cpSync(join(packageRoot(), 'lib'), join(root, 'lib'), { recursive: true });
  symlinkSync(join(packageRoot(), 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'vfio-ddk-copy', type: 'module' }));
  copyFileSync(join(packageRoot(), 'tsconfig.json'), join(root, 'tsconfig.json'));
  const built = String(nativePath());
  if (place === 'prebuild' || place === 'both') {
    mkdirSync(join(root, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true });
    copyFileSync(built, join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'vfio-ddk.node'));
  }
  if (place === 'local' || place === 'both') {
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    copyFileSync(built, join(root, 'build', 'Release', 'vfio_ddk.node'));
  }
  const loader = (await import(pathToFileURL(join(root, 'lib', 'native', 'loader.ts')).href)) as LoaderModule;
  return { root, loader };
}

/** Runs `fn` with no VFIO_DDK_ADDON override and a PATH that has node but no cmake or compiler. */
async function withoutBuildTools<T>(t: { teardown(fn: () => void): void }, fn: () => Promise<T>): Promise<T> {
  const saved = { addon: process.env['VFIO_DDK_ADDON'], path: process.env['PATH'] };
  const bin = mkdtempSync(join(tmpdir(), 'vfio-ddk-bin-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  delete process.env['VFIO_DDK_ADDON'];
  process.env['PATH'] = bin;
  t.teardown(() => rmSync(bin, { recursive: true, force: true }));
  try {
    return await fn();
  } finally {
    if (saved.addon !== undefined) process.env['VFIO_DDK_ADDON'] = saved.addon;
    process.env['PATH'] = saved.path;
  }
}

t.test('a prebuild in prebuilds/<platform>-<arch>/ is used, with no cmake on PATH', { skip }, async (t) => {
  native();
  await withoutBuildTools(t, async () => {
    const { root, loader } = await packageCopy(t, 'prebuild');
    t.equal(loader.nativeSource(), null, 'nothing loaded yet');
    const addon = loader.loadNative();
    t.equal(loader.nativeSource(), 'prebuild');
    t.equal(loader.nativePath(), join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'vfio-ddk.node'));
    t.type(addon.clockMonoNs(), 'bigint');
    t.equal(loader.loadNative(), addon, 'loaded once');
  });
});

t.test('without a prebuild the local cmake-js build is used through bindings', { skip }, async (t) => {
  native();
  await withoutBuildTools(t, async () => {
    const { root, loader } = await packageCopy(t, 'local');
    loader.loadNative();
    t.equal(loader.nativeSource(), 'local');
    t.equal(loader.nativePath(), join(root, 'build', 'Release', 'vfio_ddk.node'));
  });
});

t.test('with neither, loadNative throws ERR_ADDON_MISSING saying how to build', { skip }, async (t) => {
  native();
  await withoutBuildTools(t, async () => {
    const { loader } = await packageCopy(t, 'none');
    t.throws(() => loader.loadNative(), { code: 'ERR_ADDON_MISSING', message: /VFIO backend is unavailable.*install cmake.*g\+\+.*then run `npm run build:native`/ });
    t.equal(loader.tryLoadNative(), null);
    t.match(loader.nativeLoadError(), { code: 'ERR_ADDON_MISSING' });
    t.equal(loader.nativeSource(), null);
  });
});

t.test('a local build wins over prebuilds/ (a checkout after `npm pack` and a newer build:native)', { skip }, async (t) => {
  native();
  await withoutBuildTools(t, async () => {
    const { root, loader } = await packageCopy(t, 'both');
    loader.loadNative();
    t.equal(loader.nativeSource(), 'local');
    t.equal(loader.nativePath(), join(root, 'build', 'Release', 'vfio_ddk.node'));
  });
});

t.test('installed in a project, the missing-addon help names `npm rebuild vfio-ddk`; in a checkout build:native', async (t) => {
  const { addonBuildHelp, buildCommand } = await import('../../lib/native/loader.ts');
  const installed = join('/home/u/app', 'node_modules', 'vfio-ddk');
  t.equal(buildCommand(installed), 'npm rebuild vfio-ddk');
  t.equal(buildCommand('/home/u/src/vfio-ddk'), 'npm run build:native');
  t.match(addonBuildHelp(installed), /VFIO backend is unavailable.*install cmake \(>= 3\.15\) and g\+\+.*then run `npm rebuild vfio-ddk` in your project$/);
  t.notMatch(addonBuildHelp('/home/u/src/vfio-ddk'), /in your project/);
});
