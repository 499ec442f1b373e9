/**
 * `trace --plot` (lib/trace/plot.ts): a timeline SVG with one row per track under its device or the
 * kits, slices labelled when they fit, names escaped; a huge trace draws in the same size.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEduDevice } from '../../lib/emu/index.ts';
import { EduDriver } from '../../lib/drivers/edu.ts';
import { renderTraceSvg, startTrace, stopTrace, TID, type TraceEvent } from '../../lib/trace/index.ts';
import { zx_port_create, zx_port_wait, zx_handle_close, ZX_TIME_INFINITE_PAST } from '../../lib/zircon/index.ts';
import { BINS, timeAxis } from '../../lib/trace/plot-axis.ts';

function rowsOf(svg: string): string[] {
  return [...svg.matchAll(/<text x="16" y="\d+" class="track">([^<]*)<\/text>/g)].map((m) => m[1] as string);
}

t.test('a recording of the edu driver and a kit wait: rows per track, grouped, with a legend', async (t) => {
  const file = join(t.testdir(), 'edu.json');
  startTrace(file);
  const device = createEduDevice();
  const driver = EduDriver.open(device);
  await driver.factorial(5);
  driver.close();
  device.close();
  const port = { value: 0 };
  zx_port_create(0, port);
  await zx_port_wait(port.value, ZX_TIME_INFINITE_PAST, { value: null as never });
  zx_handle_close(port.value);
  stopTrace();
  const svg = renderTraceSvg(file);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="1000" height="\d+"/);
  t.ok(svg.trimEnd().endsWith('</svg>'));
  t.match(svg, /class="title">vfio-ddk trace — edu\.json: 1 device, \d+ events in [\d.]+ (ms|µs|s)<\/text>/);
  t.match(svg, new RegExp(`class="group">${device.bdf} edu</text>`));
  t.match(svg, /class="group">vfio-ddk kits<\/text>/);
  t.same(rowsOf(svg), ['device', 'config', 'BAR0', 'MSI 0', 'zircon'], 'tracks with events only (no DMA here)');
  for (const legend of ['BAR read', 'BAR write', 'interrupt fire / message', 'delivery (handler)', 'kit call', 'kit wait (Promise)']) {
    t.ok(svg.includes(`class="legend">${legend}</text>`), legend);
  }
  t.match(svg, /fill="#dc2626"/, 'a fire is drawn');
  t.match(svg, /fill="#9333ea"/, 'a delivery is drawn');
  t.match(svg, /recorded from: /);
});

t.test('a large trace from elsewhere: binned per pixel, labels only where they fit, text escaped', async (t) => {
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: 7, args: { name: 'dev <7> & co' } },
    { name: 'thread_name', ph: 'M', pid: 7, tid: TID.BAR0, args: { name: 'BAR0' } },
    { name: 'a wide one', ph: 'X', cat: 'kit', pid: 7, tid: 1, ts: 0, dur: 400_000 },
  ];
  for (let i = 0; i < 100_000; i++) events.push({ name: 'read X', ph: 'X', cat: 'bar', pid: 7, tid: TID.BAR0, ts: i * 10, dur: 2, args: { op: 'read' } });
  const file = join(t.testdir(), 'big.json');
  writeFileSync(file, JSON.stringify({ traceEvents: events }));
  const svg = renderTraceSvg(file);
  t.ok(svg.length < 200_000, `${svg.length} characters for 100,000 events`);
  t.match(svg, /class="group">dev &lt;7&gt; &amp; co<\/text>/);
  t.same(rowsOf(svg), ['track 1', 'BAR0']);
  t.match(svg, /class="label">a wide one<\/text>/);
  t.notMatch(svg, /class="label">read X</, 'no room for the name of a 2 µs read');
  t.match(svg, /recorded elsewhere/);
});

t.test('an empty recording still draws', async (t) => {
  const dir = t.testdir({ empty: '[\n{"name":"process_name","ph":"M","pid":1,"args":{"name":"x"}}\n]\n' });
  const svg = renderTraceSvg(join(dir, 'empty'));
  t.match(svg, /0 devices, 0 events/);
  t.same(rowsOf(svg), []);
});

t.test('a long quiet stretch becomes a labelled break band; the activity around it keeps its width', async (t) => {
  const events: TraceEvent[] = [{ name: 'thread_name', ph: 'M', pid: 3, tid: 2, args: { name: 'config' } }];
  for (let i = 0; i < 20; i++) events.push({ name: 'read A', ph: 'X', cat: 'config', pid: 3, tid: 2, ts: i * 100, dur: 50 });
  for (let i = 0; i < 20; i++) events.push({ name: 'read B', ph: 'X', cat: 'config', pid: 3, tid: 2, ts: 1_000_000 + i * 100, dur: 50 });
  const file = join(t.testdir(), 'gap.json');
  writeFileSync(file, JSON.stringify(events));
  const svg = renderTraceSvg(file);
  t.equal([...svg.matchAll(/class="break"/g)].length, 1);
  t.match(svg, /<title>nothing happened for 1\.0 s<\/title>/);
  t.match(svg, /class="tick break-label">\+1\.0 s<\/text>/);
  const rects = [...svg.matchAll(/<rect x="(\d+)" y="\d+" width="(\d+)" height="14" fill="#64748b">/g)].map((m) => Number(m[2]));
  t.ok(rects.reduce((a, b) => a + b, 0) > 600, 'the two bursts fill the plot instead of two slivers');
});

t.test('an axis with no busy bin (a trace of waits only) has a finite step and ends at once', async (t) => {
  const started = performance.now();
  const axis = timeAxis(0, 10_000_000, new Uint8Array(BINS), 900);
  t.ok(axis.step >= 100, `step ${axis.step} µs: from one bin's width, not the 1 ns floor`);
  t.ok(performance.now() - started < 1000, 'computed without walking 10 s in nanoseconds');
});
