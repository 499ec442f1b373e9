#!/usr/bin/env node
/**
 * The README's trace picture: `vfio-ddk demo` on the emulated edu, recorded with `vfio-ddk trace -o`
 * and drawn with `--plot` into scripts/trace/demo-trace.svg (committed). Prints the summary the
 * command printed, for the README's excerpt. Builds dist/ first when a lib/ source is newer (the
 * command runs from dist/, as `npx vfio-ddk` does).
 *
 *   node scripts/trace/readme-picture.mjs [--keep DIR]   (--keep: leave demo.json in DIR)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, ensureDist } from '../bench/build.mjs';

const log = (m) => process.stderr.write(`[trace picture] ${m}\n`);
const keep = process.argv.indexOf('--keep');
const dir = keep >= 0 ? process.argv[keep + 1] : mkdtempSync(join(tmpdir(), 'trace-picture-'));
if (dir === undefined) {
  process.stderr.write('usage: node scripts/trace/readme-picture.mjs [--keep DIR]\n');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
ensureDist(log);
const bin = join(PROJECT_ROOT, 'bin', 'vfio-ddk.mjs');
const svg = join(PROJECT_ROOT, 'scripts', 'trace', 'demo-trace.svg');
const trace = join(dir, 'demo.json');
const run = spawnSync(process.execPath, [bin, 'trace', '-o', trace, '--plot', svg, '--', process.execPath, bin, 'demo'], { encoding: 'utf8', cwd: PROJECT_ROOT });
process.stdout.write(run.stdout);
process.stderr.write(run.stderr);
if (keep < 0) rmSync(dir, { recursive: true, force: true });
log(run.status === 0 ? `${svg} written` : `vfio-ddk trace exited with ${run.status}`);
process.exitCode = run.status ?? 1;
