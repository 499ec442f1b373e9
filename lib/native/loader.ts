/**
 * Finds and loads the native addon, in this order:
 *   1. `VFIO_DDK_ADDON` (an explicit .node path, e.g. the ASan build in build/asan/Release);
 *   2. the local cmake-js build (build/Release/vfio_ddk.node) through `bindings`, when it exists;
 *   3. a prebuild in `prebuilds/<platform>-<arch>/*.node` under the package root (no compiler needed).
 * A local build wins over a prebuild because only a checkout has both (`npm pack` leaves prebuilds/
 * behind, and a later `npm run build:native` must not be shadowed by it); an installed package has
 * build/ only when its install compiled, which scripts/install.mjs does only without a prebuild.
 * Otherwise `loadNative()` throws DdkError 'ERR_ADDON_MISSING' saying how to build it, and
 * `tryLoadNative()` returns null and remembers why (`nativeLoadError()`).
 *
 * On the first successful load the addon is wired in: lib/irq/clock.ts gets the real
 * CLOCK_BOOTTIME − CLOCK_MONOTONIC offset, and `allocHostMemory` starts returning native page-aligned,
 * locked memory (lib/pci/host-memory.ts). Without the addon plain memory stays in use.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DdkError } from '../errors.ts';
import { setBootOffset } from '../irq/clock.ts';
import { setNativeStampClock } from '../irq/stamps.ts';
import { setHostMemoryAllocator } from '../pci/host-memory.ts';
import type { NativeAddon } from './addon-types.ts';
import { nativeHostMemoryAllocator } from './native-host-memory.ts';

export type NativeSource = 'prebuild' | 'local' | 'env';

const ADDON_FILE = 'vfio_ddk.node';

/**
 * The command that builds the addon from where the user stands: `npm rebuild vfio-ddk` in a project
 * that installed the package (under node_modules/), `npm run build:native` in a checkout of it.
 * scripts/install.mjs buildCommand says the same at install time.
 */
export function buildCommand(root = packageRoot()): string {
  return root.split(sep).includes('node_modules') ? 'npm rebuild vfio-ddk' : 'npm run build:native';
}

/** What to do when the addon is missing, for the package at `root` (exported for tests). */
export function addonBuildHelp(root = packageRoot()): string {
  return `the VFIO backend is unavailable (emulated devices still work): install cmake (>= 3.15) and g++ (C++17), then run \`${buildCommand(root)}\``
    + `${buildCommand(root) === 'npm rebuild vfio-ddk' ? ' in your project' : ''}`;
}

/** The package root: lib/native/loader.ts and dist/native/loader.js are both two levels down. */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

let loaded: { addon: NativeAddon; source: NativeSource; path: string } | null = null;
let lastError: Error | null = null;

/** The first .node file in prebuilds/<platform>-<arch>/, preferring a Node-API build. */
export function findPrebuild(root = packageRoot()): string | null {
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => f.endsWith('.node')).sort();
  const file = files.find((f) => f.includes('napi')) ?? files[0];
  return file === undefined ? null : join(dir, file);
}

function locate(root: string): { addon: NativeAddon; source: NativeSource; path: string } {
  const require = createRequire(import.meta.url);
  const override = process.env['VFIO_DDK_ADDON'];
  if (override !== undefined && override !== '') {
    const path = resolve(override);
    return { addon: require(path) as NativeAddon, source: 'env', path };
  }
  const local = join(root, 'build', 'Release', ADDON_FILE);
  const prebuild = findPrebuild(root);
  if (prebuild !== null && !existsSync(local)) return { addon: require(prebuild) as NativeAddon, source: 'prebuild', path: prebuild };
  const bindings = require('bindings') as (opts: { bindings: string; module_root: string }) => NativeAddon;
  try {
    return { addon: bindings({ bindings: ADDON_FILE, module_root: root }), source: 'local', path: local };
  } catch (error) {
    // `bindings` says "Could not locate the bindings file" when nothing is built; a .node that exists
    // but fails to load (wrong ABI, missing ASan runtime) is reported as it is.
    if (error instanceof Error && error.message.startsWith('Could not locate the bindings file')) {
      throw new DdkError('ERR_ADDON_MISSING', `vfio-ddk native addon not found (no prebuild for ${process.platform}-${process.arch}, no ${join('build', 'Release', ADDON_FILE)}): ${addonBuildHelp(root)}`, { cause: error });
    }
    throw new DdkError('ERR_ADDON_LOAD', `vfio-ddk native addon ${local} failed to load: ${String((error as Error).message)}; rebuild it with \`${buildCommand(root)}\``, { cause: error });
  }
}

/** Wires a freshly loaded addon into the clock and the host-memory allocator. */
function install(addon: NativeAddon): void {
  // MONOTONIC first, so the offset (time suspended) is never negative.
  const mono = addon.clockMonoNs();
  const boot = addon.clockBootNs();
  setBootOffset(boot - mono);
  // Older addons (a stale local build) lack it: interrupts then take bigint clocks.
  if (typeof addon.clockStamps === 'function') setNativeStampClock((record) => addon.clockStamps(record));
  setHostMemoryAllocator(nativeHostMemoryAllocator(addon));
}

/** Loads the addon (once per thread) or throws DdkError 'ERR_ADDON_MISSING' / 'ERR_ADDON_LOAD'. */
export function loadNative(): NativeAddon {
  if (loaded !== null) return loaded.addon;
  try {
    const found = locate(packageRoot());
    install(found.addon);
    loaded = found;
    lastError = null;
    return found.addon;
  } catch (error) {
    lastError = error instanceof Error ? error : new Error(String(error));
    throw lastError;
  }
}

/** The addon, or null when it is unavailable (the reason is kept in `nativeLoadError()`). */
export function tryLoadNative(): NativeAddon | null {
  try {
    return loadNative();
  } catch {
    return null;
  }
}

/** Why the last load attempt failed, or null. */
export function nativeLoadError(): Error | null {
  return lastError;
}

/** Where the loaded addon came from, or null before a successful load. */
export function nativeSource(): NativeSource | null {
  return loaded?.source ?? null;
}

/** The loaded addon's file, or null. */
export function nativePath(): string | null {
  return loaded?.path ?? null;
}
