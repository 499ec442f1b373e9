/** The native layer: the addon's typed interface, its loader, and thin wrappers. */
export type * from './addon-types.ts';
export { loadNative, tryLoadNative, nativeLoadError, nativeSource, nativePath, findPrebuild, packageRoot } from './loader.ts';
export type { NativeSource } from './loader.ts';
export { Eventfd, EventfdWatcher } from './eventfd.ts';
export * from './vfio-uapi.ts';
