/**
 * The summary (lib/trace/summary.ts) and its text (lib/cli/trace-report.ts): accesses per register,
 * fires / deliveries / rate per vector, raise → delivery latency from the writes that raise, DMA, kit
 * calls with failures.
 */
import t from 'tap';
import { join } from 'node:path';
import { createTestDevice, TEST_DEV_REGS } from '../../lib/emu/index.ts';
import { IrqLine } from '../../lib/irq/irq-line.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../../lib/pci/regs.ts';
import { VFIO_PCI_MSI_IRQ_INDEX } from '../../lib/pci/vfio-indices.ts';
import { latencyStats, startTrace, stopTrace, summarizeTrace } from '../../lib/trace/index.ts';
import { zx_handle_close, zx_port_create, zx_port_wait, ZX_TIME_INFINITE_PAST } from '../../lib/zircon/index.ts';
import { formatTraceSummary } from '../../lib/cli/trace-report.ts';

t.test('raises, fires, deliveries and their latency; registers; kit calls', async (t) => {
  const file = join(t.testdir(), 'summary.json');
  startTrace(file);
  t.teardown(() => { stopTrace(); });
  const device = createTestDevice({ msi: { vectors: 2 } });
  device.config.write16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  let delivered = 0;
  const line = new IrqLine('summary');
  line.setConsumer({ fire: () => { delivered++; } });
  device.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 1, line);
  for (let i = 0; i < 5; i++) {
    device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_RAISE_MSI, 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(delivered, 5);
  device.bar(0).read32(TEST_DEV_REGS.TEST_DEV_ID);
  const buffer = device.dma.alloc(8192);
  buffer.bytes[10] = 1;
  device.bar(0).write32(TEST_DEV_REGS.TEST_DEV_INTX_LEVEL, 0);
  buffer.free();
  zx_handle_close(0x1234);
  const port = { value: 0 };
  zx_port_create(0, port);
  t.equal(await zx_port_wait(port.value, ZX_TIME_INFINITE_PAST, { value: null as never }), -21);
  zx_handle_close(port.value);
  device.close();
  stopTrace();

  const summary = summarizeTrace(file);
  t.equal(summary.devices.length, 1);
  const [d] = summary.devices;
  t.match(d, { name: `${device.bdf} test device`, backend: 'emu' });
  t.match(d?.registers.find((r) => r.reg === 'RAISE_MSI'), { space: 'BAR0', reads: 0, writes: 5 });
  t.match(d?.registers.find((r) => r.reg === 'PCI_COMMAND'), { space: 'config', writes: 1 });
  const msi = d?.interrupts.find((i) => i.track === 'MSI 1');
  t.match(msi, { fires: 5, deliveries: 5 });
  t.equal(msi?.raiseToDelivery?.count, 5, 'every raise paired with its delivery');
  t.ok((msi?.raiseToDelivery?.medianUs ?? -1) > 0);
  t.ok((msi?.ratePerSecond ?? 0) > 0);
  t.match(d?.dma, { maps: 1, bytesMapped: 8192, hostMemorySpans: 1, hostMemoryBytes: 1 });
  const close = summary.kitCalls.find((c) => c.name === 'zx_handle_close');
  t.match(close, { kit: 'zircon', calls: 2, failures: 1 });
  t.match(summary.kitCalls.find((c) => c.name === 'zx_port_wait'), { calls: 1, failures: 1 });
  t.ok(summary.durationUs > 0);
  t.match(summary.command, [process.execPath]);

  const text = formatTraceSummary(file, summary);
  t.match(text, /1 device, \d+ events over/);
  t.match(text, /BAR0 RAISE_MSI\s+0\s+5/);
  t.match(text, /MSI 1\s+5\s+5\s+[\d.]+ ?k?\/s\s+[\d.]+ [µm]s \/ [\d.]+ [µm]s \/ [\d.]+ [µm]s \(5 raises\)/);
  t.match(text, /DMA: 1 mapping \(8\.0 KiB\), 1 host-memory span \(1 byte\)/);
  t.match(text, /zircon zx_handle_close\s+2\s+1/);
});

t.test('latencyStats: nearest-rank median and p99; null for no samples', async (t) => {
  t.equal(latencyStats([]), null);
  t.same(latencyStats([3, 1, 2]), { count: 3, medianUs: 2, p99Us: 3, maxUs: 3 });
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  t.same(latencyStats(hundred), { count: 100, medianUs: 50, p99Us: 99, maxUs: 100 });
});

t.test('a trace from elsewhere: kit-less, device-less, still summarized', async (t) => {
  const dir = t.testdir({ other: JSON.stringify({ traceEvents: [{ name: 'x', ph: 'X', pid: 7, tid: 1, ts: 10, dur: 5 }] }) });
  const summary = summarizeTrace(join(dir, 'other'));
  t.same(summary, { events: 1, durationUs: 5, command: null, devices: [], kitCalls: [] });
  t.match(formatTraceSummary('other', summary), /^other: 0 devices, 1 events over 5\.0 µs/);
});
