/** Shared by test/native: the addon (or the reason it is missing, used to skip). */
import { nativeLoadError, tryLoadNative } from '../../lib/native/loader.ts';
import type { NativeAddon } from '../../lib/native/addon-types.ts';

const loaded = tryLoadNative();

/** `skip` option for t.test: false when the addon is loaded, else the reason. */
export const skip: false | string = loaded
  ? false
  : `native addon not built (${nativeLoadError()?.message ?? 'unknown'}) — run \`npm run build:native\``;

/** The addon; only call inside tests guarded by `skip`. */
export function native(): NativeAddon {
  if (loaded === null) throw new Error(String(skip));
  return loaded;
}

/** Expects `fn` to throw an error whose own properties include `props`; returns it. */
export function thrown(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a throw');
}
