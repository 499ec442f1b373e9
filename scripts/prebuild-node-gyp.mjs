#!/usr/bin/env node
// Stands in for node-gyp under prebuildify (`npm run prebuild` passes `--node-gyp` pointing here):
// prebuildify calls `<node-gyp> rebuild --target=… --devdir=… [--arch=…] --release|--debug` and then
// takes the first .node in build/Release (or build/Debug). We translate that into a cmake-js build
// of CMakeLists.txt, whose output lands exactly there. A Node-API addon does not depend on --target,
// and --devdir (where node-gyp would download headers) is not needed: cmake-js uses Node's own headers.
import { cmakeJsBuild } from './install.mjs';

const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith('-'));
if (command !== 'rebuild' && command !== 'build') {
  console.error(`prebuild-node-gyp: unsupported node-gyp command '${String(command)}' (only rebuild/build)`);
  process.exit(2);
}
const archArg = args.find((a) => a.startsWith('--arch='));
if (archArg !== undefined && archArg.slice('--arch='.length) !== process.arch) {
  console.error(`prebuild-node-gyp: cross-compiling to ${archArg.slice(7)} is not supported (host is ${process.arch})`);
  process.exit(2);
}
const debug = args.includes('--debug');
process.exit(cmakeJsBuild({ out: 'build', extraArgs: debug ? ['--debug'] : [] }));
