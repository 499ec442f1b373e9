import t from 'tap';
import { makeFixture } from '../vfio/fixtures.ts';
import { runCli } from './harness.ts';

t.test('list prints every function with names, interrupts and the VFIO verdict', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['list'], fx);
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  t.match(lines[0], /^BDF\s+ID\s+DEVICE\s+CLASS\s+DRIVER\s+GROUP\s+INTERRUPTS\s+VFIO$/);
  t.equal(lines.length, 10);
  const row = (bdf: string): string => lines.find((l) => l.startsWith(bdf)) ?? '';
  t.match(row('0000:00:01.0'), /1234:11e8\s+Technical Corp\. QEMU edu device.*vfio-pci\s+1\s+INTA MSI×1 \(64-bit\)\s+VFIO-ready/);
  t.match(row('0000:00:02.0'), /Non-Volatile memory controller\s+nvme\s+2\s+INTA MSI-X×65\s+bound to nvme: run `vfio-ddk bind 0000:00:02.0`/);
  t.match(row('0000:00:03.0'), /group 3 not viable: 0000:00:03\.1 is bound to e1000e/);
  t.match(row('0000:00:04.0'), /INTA \(capabilities need root\)\s+no driver/);
  t.match(row('0000:00:05.0'), /-\s+no INTx\s+no IOMMU group/);
  t.match(row('0000:00:06.0'), /group 6 not viable: 0000:00:06\.1 is bound to snd_hda_intel/);
});

t.test('list --json gives every field for scripts', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['list', '--json'], fx);
  t.equal(r.code, 0);
  const list = JSON.parse(r.stdout) as Record<string, unknown>[];
  t.equal(list.length, 9);
  t.match(list[2], {
    bdf: '0000:00:02.0', ids: '1b36:0010', vendorId: 0x1b36, deviceId: 0x10, deviceName: 'QEMU NVM Express Controller',
    className: 'Non-Volatile memory controller', driver: 'nvme', iommuGroup: 2,
    interrupts: { configBytes: 4096, intxPin: 'INTA', msi: null, msix: { vectors: 65, tableBar: 0, tableOffset: 0x2000 }, capabilitiesKnown: true },
    vfio: { state: 'bindable' },
  });
  t.match(list[1], { vfio: { state: 'ready' } });
  t.match(list[7], { vfio: { state: 'group-not-viable' } });
  t.match(list[6], { vfio: { state: 'no-iommu-group' } });
});

t.test('list --vfio-only, an empty bus, and a bad option', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const only = JSON.parse((await runCli(['list', '--vfio-only', '--json'], fx)).stdout) as { bdf: string }[];
  t.same(only.map((d) => d.bdf), ['0000:00:01.0', '0000:00:06.0']);
  const empty = makeFixture({ devices: [] });
  t.teardown(empty.cleanup);
  const r = await runCli(['list'], empty);
  t.equal(r.code, 0);
  t.match(r.stdout, /no PCI functions/);
  t.same(JSON.parse((await runCli(['list', '--json'], empty)).stdout), []);
  const bad = await runCli(['list', '--frobnicate'], fx);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /vfio-ddk list: .*frobnicate[\s\S]*vfio-ddk list --help/);
  t.equal((await runCli(['list', 'extra'], fx)).code, 2);
});
