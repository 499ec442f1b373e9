/**
 * `vfio-ddk bench` (host suite only: --hw boots a guest): the table, --json, --plot and usage errors,
 * on a small iteration count. Timing values are not asserted, only their shape.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.ts';
import type { BenchResult } from '../../lib/cli/bench-types.ts';

async function bench(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['bench', ...argv], { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  return { code, stdout, stderr };
}

const HOST_ROWS = [
  'zx_interrupt_wait_virtual', 'zx_port_wait_virtual', 'zx_port_wait_into_buffer', 'emu_msi_delivery', 'emu_bar_read32', 'emu_config_read32',
  'ddi_intr_setup_per_vector_256', 'ddi_intr_setup_per_vector_512', 'ddi_intr_setup_per_vector_1024',
  'ddi_intr_setup_per_vector_2048', 'zx_handle_dup_close', 'zx_get_info_basic',
];

t.test('--json: every host row with summaries, ratios and histograms; --plot writes an SVG', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-verb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const svgPath = join(dir, 'host.svg');
  const r = await bench(['--iterations', '20', '--json', '--plot', svgPath]);
  t.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as BenchResult;
  t.equal(result.suite, 'host');
  t.equal(result['iterations'], 20);
  t.same(result.rows.map((row) => row.name), HOST_ROWS);
  for (const row of result.rows) {
    const { min, median, p99, max } = row.subject;
    t.ok(min <= median && median <= p99 && p99 <= max, `${row.name}: min ≤ median ≤ p99 ≤ max`);
    t.type(row.ratio_median, 'number', `${row.name} has a baseline ratio`);
    t.ok((row.histogram?.subject?.counts.reduce((a, b) => a + b, 0) ?? 0) === row.n, `${row.name}: histogram holds every sample`);
  }
  t.equal(result.rows.find((row) => row.name === 'ddi_intr_setup_per_vector_256')?.ratio_median, 1, 'the 256 row is its own baseline');
  const packetRow = result.rows.find((row) => row.name === 'zx_port_wait_into_buffer') as Record<string, unknown> | undefined;
  t.same([typeof packetRow?.['scavenges_new_packet'], typeof packetRow?.['scavenges_buffer'], packetRow?.['gc_rounds']], ['number', 'number', 400], 'the packet row counts collections');
  t.same(result.targets.map((x) => x.row), ['zx_interrupt_wait_virtual', 'zx_port_wait_virtual'], 'host targets reported');
  t.match(r.stderr, /bench: promise_pingpong \/ zx_interrupt_wait_virtual \/ zx_port_wait_virtual 100 %/, 'progress on stderr');
  const svg = readFileSync(svgPath, 'utf8');
  t.match(svg, /^<svg/);
  t.equal(svg.match(/<g class="panel">/g)?.length, HOST_ROWS.length);
});

t.test('the table names every row and the targets', async (t) => {
  const r = await bench(['--iterations', '10']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^row\s+n\s+subject min\s+median\s+p99\s+max\s+baseline \(row\)/);
  for (const name of HOST_ROWS) t.match(r.stdout, new RegExp(`^${name}\\s+\\d+\\s`, 'm'), name);
  t.match(r.stdout, /Targets \(reported, not asserted\):/);
});

t.test('usage errors exit 2 before measuring anything', async (t) => {
  for (const argv of [['--iterations', '0'], ['--iterations', 'many'], ['--iterations', '2.5'], ['--plot', 'out.png'], ['--frob']]) {
    const r = await bench(argv);
    t.equal(r.code, 2, argv.join(' '));
    t.equal(r.stdout, '');
    t.notMatch(r.stderr, /bench: .* \d+ %/, 'no progress: nothing ran');
  }
});
