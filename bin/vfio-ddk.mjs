#!/usr/bin/env node
// The `vfio-ddk` command. Plain node: it runs the compiled CLI in dist/ (npm run build:ts).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    process.stderr.write('vfio-ddk: the compiled CLI (dist/cli/main.js) is missing: run `npm run build:ts` in the vfio-ddk package, then retry\n');
    process.exit(1);
  }
  throw err;
}
await cli.run(process.argv.slice(2));
