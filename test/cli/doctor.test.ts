import t from 'tap';
import { makeFixture } from '../vfio/fixtures.ts';
import { BAD_BDFS, runCli } from './harness.ts';

t.test('doctor on a ready host exits 0 with every check ok', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['doctor'], fx);
  t.equal(r.code, 0, r.stdout);
  t.match(r.stdout, /\[ ok \] IOMMU on: 6 IOMMU group\(s\)/);
  t.match(r.stdout, /\[ ok \] interrupt remapping in use/);
  t.match(r.stdout, /5 ok, 0 warning\(s\), 0 failure\(s\)/);
});

t.test('doctor <bdf> of a blocked group fails and lists the members', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const r = await runCli(['doctor', '0000:00:06.0'], fx);
  t.equal(r.code, 1);
  t.match(r.stdout, /\[FAIL\] group 6 is not viable: 0000:00:06\.1 is bound to snd_hda_intel\n\s+fix: sudo vfio-ddk bind --group 0000:00:06\.0/);
  t.match(r.stdout, /IOMMU group 6:\n\s+0000:00:06\.0\s+vfio-pci\s+ok\n\s+0000:00:06\.1\s+snd_hda_intel\s+blocks the group/);
});

t.test('doctor --json reports each finding for scripts', async (t) => {
  const fx = makeFixture({ iommu: false });
  t.teardown(fx.cleanup);
  const r = await runCli(['doctor', '--json', '--', '0000:00:01.0'], fx, { uid: 1000 });
  t.equal(r.code, 1);
  const doc = JSON.parse(r.stdout) as { ok: boolean; findings: { id: string; status: string; fix: string | null }[] };
  t.equal(doc.ok, false);
  t.match(doc.findings.find((f) => f.id === 'iommu'), { status: 'fail', fix: /intel_iommu=on/ });
  t.match(doc.findings.find((f) => f.id === 'memlock'), { status: 'warn' });
  t.match(doc.findings.find((f) => f.id === 'iommu-group'), { status: 'fail' });
});

t.test('doctor validates the BDF first and reports a missing device as 3', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  for (const bad of BAD_BDFS) {
    const r = await runCli(['doctor', bad], fx);
    t.equal(r.code, 2);
    t.equal(r.stdout, '', 'no finding printed before validation');
  }
  t.equal((await runCli(['doctor', '0000:00:1d.0'], fx)).code, 3);
});

t.test('doctor <bdf> of a ready device names the IOMMU path an open takes', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const before = process.env['VFIO_DDK_IOMMU'];
  t.teardown(() => { if (before === undefined) delete process.env['VFIO_DDK_IOMMU']; else process.env['VFIO_DDK_IOMMU'] = before; });
  delete process.env['VFIO_DDK_IOMMU'];
  const r = await runCli(['doctor', '0000:00:01.0'], fx);
  t.equal(r.code, 0, r.stdout);
  t.match(r.stdout, /\[ ok \] 0000:00:01\.0 opens through the type1 IOMMU path: no iommufd path: the device has no VFIO device cdev/);
  process.env['VFIO_DDK_IOMMU'] = 'iommufd';
  const forced = await runCli(['doctor', '0000:00:01.0'], fx);
  t.equal(forced.code, 1, 'a forced path the kernel lacks fails the check');
  t.match(forced.stdout, /\[FAIL\] 0000:00:01\.0: iommufd path unavailable: .*forced by VFIO_DDK_IOMMU=iommufd\)\n\s+fix: unset VFIO_DDK_IOMMU/);
});
