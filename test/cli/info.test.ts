import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PciDevice } from '../../lib/pci/device.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { BAD_BDFS, runCli } from './harness.ts';

/** Just enough of a PciDevice for `info`: BAR0 of 1 MiB, MSI with 1 vector, INTx, MSI-X as `msix` says (none by default). */
function fakeDevice(closed: { count: number }, msix = { count: 0, noresize: true }): PciDevice {
  const irqInfo = (index: number) => ({
    index, count: index === 2 ? msix.count : 1, eventfd: true, maskable: index === 0, automasked: index === 0, noresize: index === 2 ? msix.noresize : index === 1,
  });
  return {
    bdf: '0000:00:01.0',
    backend: 'vfio',
    bar(i: number) {
      if (i !== 0) throw Object.assign(new Error('no BAR'), { code: 'ENOENT' });
      return { index: 0, size: 0x100000n };
    },
    irq: { info: irqInfo },
    close() { closed.count += 1; },
  } as unknown as PciDevice;
}

t.test('info prints what sysfs knows and says when VfioDevice is not there', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['info', '00:01.0'], fx);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^0000:00:01\.0  Technical Corp\. QEMU edu device \[1234:11e8\] \(rev 10\)/);
  t.match(r.stdout, /driver:\s+vfio-pci/);
  t.match(r.stdout, /iommu group: 1: 0000:00:01\.0 \(vfio-pci\)/);
  t.match(r.stdout, /numa node:\s+0/);
  t.match(r.stdout, /interrupts:\s+INTA MSI×1 \(64-bit\)/);
  t.match(r.stdout, /BAR0:\s+memory at 0xfea00000 \(1 MiB\)/);
  t.match(r.stdout, /through VFIO: this build has no VfioDevice/);
});

t.test('info opens a VFIO-ready device through openVfioDevice and closes it', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const closed = { count: 0 };
  const opened: string[] = [];
  let options: Record<string, unknown> = {};
  const importVfio = async () => ({
    openVfioDevice: (bdf: string, o: Record<string, unknown>) => { opened.push(bdf); options = o; return fakeDevice(closed); },
  });
  const r = await runCli(['info', '0000:00:01.0'], fx, { importVfio });
  t.equal(r.code, 0);
  t.same(opened, ['0000:00:01.0']);
  t.equal(options['enableBusMaster'], false, 'a look must not enable bus mastering');
  t.equal(options['vfioDir'], join(fx.dev, 'vfio'));
  t.equal(options['iommuPath'], join(fx.dev, 'iommu'), 'the same /dev root for /dev/iommu');
  t.equal(closed.count, 1);
  t.match(r.stdout, /through VFIO: opened through VFIO \(backend vfio\)\n\s+region BAR0: 1 MiB\n\s+irq INTx: 1 vector\(s\) \(eventfd, maskable, automasked\)\n\s+irq MSI: 1 vector\(s\) \(eventfd\)\n\s+irq MSI-X: 0 vector/);
  const json = JSON.parse((await runCli(['info', '--json', '0000:00:01.0'], fx, { importVfio })).stdout) as { throughVfio: { status: string; bars: { size: string }[] } };
  t.equal(json.throughVfio.status, 'opened');
  t.equal(json.throughVfio.bars[0]?.size, '1048576', 'bigint as a decimal string');
  const failing = await runCli(['info', '0000:00:01.0'], fx, {
    importVfio: async () => ({ openVfioDevice: async () => { throw Object.assign(new Error('group not viable'), { code: 'EBUSY' }); } }),
  });
  t.equal(failing.code, 0);
  t.match(failing.stdout, /could not open through VFIO: EBUSY: group not viable/);
});

t.test('info says when the MSI-X index is dynamic (VFIO_IRQ_INFO_NORESIZE clear, Linux >= 6.5)', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const withMsix = (noresize: boolean) => async () => ({ openVfioDevice: () => fakeDevice({ count: 0 }, { count: 5, noresize }) });
  const dynamic = await runCli(['info', '0000:00:01.0'], fx, { importVfio: withMsix(false) });
  t.match(dynamic.stdout, /irq MSI-X: 5 vector\(s\) \(eventfd, dynamic\)/);
  t.match(dynamic.stdout, /irq MSI: 1 vector\(s\) \(eventfd\)\n/, 'MSI is never dynamic');
  const fixed = await runCli(['info', '0000:00:01.0'], fx, { importVfio: withMsix(true) });
  t.match(fixed.stdout, /irq MSI-X: 5 vector\(s\) \(eventfd\)\n/);
  const json = JSON.parse((await runCli(['info', '--json', '0000:00:01.0'], fx, { importVfio: withMsix(false) })).stdout) as { throughVfio: { irqs: unknown[] } };
  t.match(json.throughVfio.irqs[2], { index: 'MSI-X', count: 5, noresize: false, dynamic: true });
});

t.test('info does not open devices that are not VFIO-ready, or with --sysfs-only', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  let opens = 0;
  const importVfio = async () => ({ openVfioDevice: () => { opens += 1; return fakeDevice({ count: 0 }); } });
  const nvme = await runCli(['info', '0000:00:02.0'], fx, { importVfio });
  t.match(nvme.stdout, /MSI-X:\s+65 vectors, table BAR0\+0x2000, PBA BAR0\+0x3000/);
  t.match(nvme.stdout, /through VFIO: not opened \(the function is not VFIO-ready/);
  const only = await runCli(['info', '--sysfs-only', '0000:00:01.0'], fx, { importVfio });
  t.match(only.stdout, /not opened \(--sysfs-only\)/);
  t.equal(opens, 0);
  const json = JSON.parse((await runCli(['info', '--json', '0000:00:04.0'], fx)).stdout) as Record<string, unknown>;
  t.match(json, { bdf: '0000:00:04.0', driver: null, interrupts: { capabilitiesKnown: false }, throughVfio: { status: 'skipped' }, groupMembers: [{ bdf: '0000:00:04.0', driver: null }] });
});

t.test('info: bad BDF → 2, missing → 3, load failure is reported', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  for (const bad of BAD_BDFS) t.equal((await runCli(['info', bad], fx)).code, 2);
  t.equal((await runCli(['info', '0000:00:1c.0'], fx)).code, 3);
  t.equal((await runCli(['info'], fx)).code, 2);
  const r = await runCli(['info', '0000:00:01.0'], fx, { importVfio: async () => { throw new Error('addon not built'); } });
  t.match(r.stdout, /cannot load vfio-ddk\/vfio: addon not built/);
});

t.test('info says which IOMMU path a VFIO-ready device would take and why', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const before = process.env['VFIO_DDK_IOMMU'];
  t.teardown(() => { if (before === undefined) delete process.env['VFIO_DDK_IOMMU']; else process.env['VFIO_DDK_IOMMU'] = before; });
  delete process.env['VFIO_DDK_IOMMU'];
  const type1 = await runCli(['info', '--sysfs-only', '0000:00:01.0'], fx);
  t.match(type1.stdout, /IOMMU path:\s+type1 \(no iommufd path: the device has no VFIO device cdev/);
  const unbound = await runCli(['info', '--sysfs-only', '0000:00:02.0'], fx);
  t.notMatch(unbound.stdout, /IOMMU path:/, 'not bound to vfio-pci: no path to report');
  // Linux >= 6.6 with CONFIG_IOMMUFD: the cdev and /dev/iommu.
  mkdirSync(fx.devicePath('0000:00:01.0', 'vfio-dev', 'vfio0'), { recursive: true });
  mkdirSync(join(fx.dev, 'vfio', 'devices'), { recursive: true });
  writeFileSync(join(fx.dev, 'vfio', 'devices', 'vfio0'), '');
  writeFileSync(join(fx.dev, 'iommu'), '');
  const iommufd = await runCli(['info', '--sysfs-only', '0000:00:01.0'], fx);
  t.match(iommufd.stdout, /IOMMU path:\s+iommufd \(the device has the VFIO cdev .*vfio0 and .*iommu exists\)/);
  process.env['VFIO_DDK_IOMMU'] = 'type1';
  const json = JSON.parse((await runCli(['info', '--json', '--sysfs-only', '0000:00:01.0'], fx)).stdout) as { iommuPath: unknown };
  t.same(json.iommuPath, { kind: 'type1', reason: 'forced by VFIO_DDK_IOMMU=type1', unavailable: null });
  process.env['VFIO_DDK_IOMMU'] = 'nope';
  const bad = await runCli(['info', '--sysfs-only', '0000:00:01.0'], fx);
  t.equal(bad.code, 0, 'info still shows the device');
  t.match(bad.stdout, /IOMMU path:\s+none \(VFIO_DDK_IOMMU=nope is not a VFIO IOMMU path/);
});
