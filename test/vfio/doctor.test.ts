import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDeviceNode, checkInterruptRemapping, checkIommu, checkMemlock, checkVfioModules, hostChecks, readMemlockLimit } from '../../lib/vfio/doctor.ts';
import type { DoctorRoots } from '../../lib/vfio/doctor.ts';
import { diagnoseDevice } from '../../lib/vfio/doctor-device.ts';
import { Sysfs } from '../../lib/vfio/sysfs.ts';
import { makeFixture, PROC_INTERRUPTS } from './fixtures.ts';
import type { Fixture, FixtureOptions } from './fixtures.ts';

function setup(t: { teardown(fn: () => void): void }, options: FixtureOptions = {}, uid = 1000): { fx: Fixture; roots: DoctorRoots } {
  const fx = makeFixture(options);
  t.teardown(fx.cleanup);
  return { fx, roots: { sys: fx.sys, proc: fx.proc, dev: fx.dev, uid } };
}
const NO_IR = PROC_INTERRUPTS.replaceAll('IR-', '');

t.test('a ready host passes every check except a small memlock limit', async (t) => {
  const { roots } = setup(t);
  const findings = hostChecks(roots);
  t.same(findings.map((f) => [f.id, f.status]), [
    ['iommu', 'ok'], ['interrupt-remapping', 'ok'], ['vfio-modules', 'ok'], ['dev-vfio', 'ok'], ['memlock', 'warn'],
  ]);
  t.match(findings[0]?.summary, /intel_iommu=on/);
  t.match(findings[4]?.fix, /prlimit --pid \$\$ --memlock=unlimited:unlimited/);
  t.equal(checkMemlock({ ...roots, uid: 0 }).status, 'ok', 'root has CAP_IPC_LOCK');
  t.equal(readMemlockLimit(roots.proc), 8388608);
});

t.test('IOMMU off: fail with the kernel parameter for this CPU vendor', async (t) => {
  const { fx, roots } = setup(t, { iommu: false });
  const intel = checkIommu(roots);
  t.equal(intel.status, 'fail');
  t.match(intel.fix, /intel_iommu=on/);
  writeFileSync(join(fx.proc, 'cpuinfo'), 'vendor_id\t: AuthenticAMD\n');
  t.match(checkIommu(roots).fix, /amd_iommu=on/);
});

t.test('interrupt remapping: unsafe override warns, ecap-capable warns, nothing fails', async (t) => {
  const unsafe = setup(t, { interrupts: NO_IR, allowUnsafeInterrupts: true });
  t.equal(checkInterruptRemapping(unsafe.roots).status, 'warn');
  t.match(checkInterruptRemapping(unsafe.roots).summary, /allow_unsafe_interrupts=Y/);
  const capable = setup(t, { interrupts: NO_IR });
  const f = checkInterruptRemapping(capable.roots);
  t.equal(f.status, 'warn', 'fixture ecap f0205e has bit 3 set');
  t.match(f.summary, /dmar0/);
  writeFileSync(join(capable.fx.sys, 'class/iommu/dmar0/intel-iommu/ecap'), 'f02056\n');
  const none = checkInterruptRemapping(capable.roots);
  t.equal(none.status, 'fail');
  t.match(none.fix, /allow_unsafe_interrupts/);
});

t.test('missing vfio modules and device nodes fail with the command that fixes them', async (t) => {
  const { roots } = setup(t, { drivers: ['nvme'], devNodes: [] });
  const modules = checkVfioModules(roots);
  t.equal(modules.status, 'fail');
  t.equal(modules.fix, 'sudo modprobe -a vfio-pci vfio_iommu_type1');
  const node = checkDeviceNode(roots, 'vfio');
  t.equal(node.status, 'fail');
  t.equal(node.fix, 'sudo modprobe vfio');
});

t.test('a device whose group is blocked names the culprit', async (t) => {
  const { fx, roots } = setup(t);
  const d = diagnoseDevice(new Sysfs(fx.sys), roots, '0000:00:06.0');
  const viable = d.findings.find((f) => f.id === 'group-viable');
  t.equal(viable?.status, 'fail');
  t.match(viable?.summary, /group 6 is not viable: 0000:00:06\.1 is bound to snd_hda_intel/);
  t.equal(viable?.fix, 'sudo vfio-ddk bind --group 0000:00:06.0');
  t.same(d.members, [
    { bdf: '0000:00:06.0', driver: 'vfio-pci', keepsViable: true },
    { bdf: '0000:00:06.1', driver: 'snd_hda_intel', keepsViable: false },
  ]);
});

t.test('ready, bindable and group-less devices', async (t) => {
  const { fx, roots } = setup(t);
  const s = new Sysfs(fx.sys);
  t.same(diagnoseDevice(s, roots, '00:01.0', {}).findings.map((f) => [f.id, f.status]),
    [['iommu-group', 'ok'], ['group-viable', 'ok'], ['bound', 'ok'], ['dev-vfio-1', 'ok'], ['iommu-path', 'ok']]);
  const nvme = diagnoseDevice(s, roots, '0000:00:02.0').findings;
  t.same(nvme.map((f) => [f.id, f.status]), [['iommu-group', 'ok'], ['group-viable', 'fail'], ['bound', 'warn']]);
  t.equal(nvme[2]?.fix, 'sudo vfio-ddk bind 0000:00:02.0');
  const none = diagnoseDevice(s, roots, '0000:00:05.0').findings;
  t.same(none.map((f) => [f.id, f.status]), [['iommu-group', 'fail']]);
  t.throws(() => diagnoseDevice(s, roots, '../x'), { code: 'ERR_BAD_BDF' });
});

t.test('doctor <bdf> says which IOMMU path an open takes and why, and refuses a forced path the kernel lacks', async (t) => {
  const { fx, roots } = setup(t);
  const s = new Sysfs(fx.sys);
  const path = (env: NodeJS.ProcessEnv) => diagnoseDevice(s, roots, '0000:00:01.0', env).findings.find((f) => f.id === 'iommu-path');
  t.match(path({}), { status: 'ok', summary: /opens through the type1 IOMMU path: no iommufd path: the device has no VFIO device cdev/ });
  t.match(path({ VFIO_DDK_IOMMU: 'iommufd' }), {
    status: 'fail', summary: /iommufd path unavailable: .*forced by VFIO_DDK_IOMMU=iommufd/, fix: /unset VFIO_DDK_IOMMU .*CONFIG_IOMMUFD/,
  });
  t.match(path({ VFIO_DDK_IOMMU: 'both' }), { status: 'fail', summary: /VFIO_DDK_IOMMU=both is not a VFIO IOMMU path/, fix: 'unset VFIO_DDK_IOMMU' });
  // A kernel with the cdev (Linux >= 6.6, CONFIG_IOMMUFD): auto picks iommufd; type1 can still be forced.
  mkdirSync(fx.devicePath('0000:00:01.0', 'vfio-dev', 'vfio0'), { recursive: true });
  mkdirSync(join(fx.dev, 'vfio', 'devices'), { recursive: true });
  writeFileSync(join(fx.dev, 'vfio', 'devices', 'vfio0'), '');
  writeFileSync(join(fx.dev, 'iommu'), '');
  t.match(path({}), { status: 'ok', summary: /opens through the iommufd IOMMU path: the device has the VFIO cdev .*vfio0 and .*iommu exists/ });
  t.match(path({ VFIO_DDK_IOMMU: 'type1' }), { status: 'ok', summary: /type1 IOMMU path: forced by VFIO_DDK_IOMMU=type1/ });
});
