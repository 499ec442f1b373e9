import t from 'tap';
import { createDemoVerb } from '../../lib/cli/verbs/demo.ts';
import { DdkError } from '../../lib/errors.ts';
import { createEduDevice } from '../../lib/emu/edu.ts';
import { EDU_REG } from '../../lib/pci/edu-regs.ts';
import type { PciDevice } from '../../lib/pci/device.ts';
import type { Sysfs } from '../../lib/vfio/sysfs.ts';
import { makeFixture } from '../vfio/fixtures.ts';
import { tamperedEdu, runVerb } from './demo-fakes.ts';
import { BAD_BDFS, runCli } from './harness.ts';

const STEP_IDS = ['open', 'factorial', 'dma', 'zircon-wait', 'zircon-port', 'ddi-handler', 'close'];

interface DemoJson {
  device: string;
  ok: boolean;
  events: { atUs: number; step: string; layer: string; text: string }[];
  steps: { step: string; ok: boolean; error?: string; hint?: string }[];
}

t.test('demo on the emulated edu: every step runs, is checked and passes (text timeline)', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  const r = await runCli(['demo'], fx);
  t.equal(r.stderr, '');
  t.equal(r.code, 0);
  const out = r.stdout;
  t.match(out, /^vfio-ddk demo: QEMU edu, emulated/);
  t.match(out, /emu\s+opened the emulated edu at 0000:[0-9a-f]{2}:00\.0: 1234:11e8 rev 10/);
  t.match(out, /edu\s+identification register: edu version 1\.0/);
  t.match(out, /liveness: wrote 0x12345678, read back its complement: yes/);
  t.match(out, /edu\s+10! = 3628800 — \S+ µs from the register write to the result/);
  t.match(out, /dma\s+device buffer → host: 4095 bytes back in .*, identical/);
  t.match(out, /zircon\s+zx_interrupt_wait → ZX_OK, timestamp \d+ ns \(boot clock\)/);
  t.match(out, /zircon\s+zx_port_wait → ZX_OK: packet key 0xed0, type 7 \(ZX_PKT_TYPE_INTERRUPT\)/);
  t.match(out, /zircon\s+zx_interrupt_ack → ZX_OK/);
  t.match(out, /ddi\s+ddi_intr_block_enable → DDI_SUCCESS/);
  t.match(out, /ddi\s+handler ran \(1×\) with arg1 = BAR0: yes, arg2 = report; IRQ_STATUS 0x00010000 acknowledged/);
  t.match(out, /ddi_intr_block_disable → DDI_SUCCESS[\s\S]*ddi_intr_remove_handler → DDI_SUCCESS[\s\S]*ddi_intr_free → DDI_SUCCESS/);
  t.match(out, /emu\s+device closed: no interrupt lines attached, closed/);
  t.equal((out.match(/✓/g) ?? []).length, STEP_IDS.length, 'one ✓ per step');
  t.notMatch(out, /✗|FAILED/);
  t.match(out, /all 7 steps passed in /);
});

t.test('demo --json: the same timeline for scripts, every step ok', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  const r = await runCli(['demo', '--json'], fx);
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  const demo = JSON.parse(r.stdout) as DemoJson;
  t.equal(demo.device, 'emulated');
  t.equal(demo.ok, true);
  t.same(demo.steps.map((s) => s.step), STEP_IDS);
  t.ok(demo.steps.every((s) => s.ok));
  t.same([...new Set(demo.events.map((e) => e.step))], STEP_IDS, 'every step logged events');
  t.same([...new Set(demo.events.map((e) => e.layer))].sort(), ['ddi', 'dma', 'edu', 'emu', 'pci', 'zircon']);
  t.ok(demo.events.some((e) => e.step === 'factorial' && e.text.startsWith('10! = 3628800')));
});

t.test('a step whose result is wrong fails with the step, the reason and what to do; the device is still closed', async (t) => {
  let device: PciDevice | null = null;
  const verb = createDemoVerb({
    openEmulated: async () => {
      // The edu answers 10! wrong: the factorial check must catch it.
      device = tamperedEdu({ read32Of: (offset, value) => (offset === EDU_REG.FACTORIAL ? value + 1 : value) });
      return { device, layer: 'emu', description: 'a tampered edu' };
    },
  });
  const r = await runVerb(verb, []);
  t.equal(r.code, 1);
  t.match(r.stdout, /✓ open the device and identify it/);
  t.match(r.stdout, /✗ 10! by interrupt \(MSI\) FAILED/);
  t.notMatch(r.stdout, /zx_interrupt_wait|all 7 steps passed/, 'stops at the first failure');
  t.match(r.stderr, /vfio-ddk demo: step "factorial" \(10! by interrupt \(MSI\)\) failed: edu computed 10! = 3628801, expected 3628800\n/);
  t.match(r.stderr, /what to do: .*vfio-ddk doctor/);
  t.equal((device as PciDevice | null)?.closed, true, 'closed after the failure');
  const json = JSON.parse((await runVerb(verb, ['--json'])).stdout) as DemoJson;
  t.equal(json.ok, false);
  t.same(json.steps.map((s) => [s.step, s.ok]), [['open', true], ['factorial', false]]);
  t.match(json.steps[1], { error: /expected 3628800/, hint: /dmesg/ });
});

t.test('an interrupt that never comes fails its step after the step timeout instead of hanging', async (t) => {
  const verb = createDemoVerb({
    stepTimeoutMs: 50,
    openEmulated: async () => ({ device: tamperedEdu({ dropRaise: true }), layer: 'emu', description: 'an edu that drops IRQ_RAISE' }),
  });
  const r = await runVerb(verb, ['--json']);
  t.equal(r.code, 1);
  const json = JSON.parse(r.stdout) as DemoJson;
  t.same(json.steps.map((s) => [s.step, s.ok]), [['open', true], ['factorial', true], ['dma', true], ['zircon-wait', false]]);
  t.match(json.steps[3], { error: /no result after 0\.05 s/ });
  t.match(r.stderr, /step "zircon-wait"/);
});

t.test('demo --device: a malformed BDF is refused (exit 2) before sysfs or VFIO is touched', async (t) => {
  const fx = makeFixture({ devices: [] });
  t.teardown(fx.cleanup);
  const untouchable = new Proxy({}, { get() { throw new Error('sysfs was touched'); } }) as Sysfs;
  for (const bdf of BAD_BDFS) {
    let imported = false;
    const r = await runCli(['demo', '--device', bdf], fx, { sysfs: untouchable, importVfio: async () => { imported = true; return {}; } });
    t.equal(r.code, 2, JSON.stringify(bdf));
    t.match(r.stderr, /vfio-ddk demo: bad PCI address/);
    t.equal(imported, false);
    t.equal(r.stdout, '');
  }
});

t.test('demo --device on an edu not bound to vfio-pci names the bind command; other mistakes say what they are', async (t) => {
  const fx = makeFixture({
    devices: [
      { bdf: '0000:00:01.0', config: { vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, revision: 0x10, intxPin: 1, msi: { vectors: 1, is64: true } }, group: 1 },
      { bdf: '0000:00:02.0', config: { vendor: 0x1b36, device: 0x0010, classCode: 0x010802 }, driver: 'nvme', group: 2 },
    ],
  });
  t.teardown(fx.cleanup);
  let imported = false;
  const importVfio = async (): Promise<Record<string, unknown>> => { imported = true; return {}; };
  const unbound = await runCli(['demo', '--device', '00:01.0'], fx, { importVfio });
  t.equal(unbound.code, 1);
  t.match(unbound.stderr, /0000:00:01\.0 is not bound to any driver, not vfio-pci: run `vfio-ddk bind 0000:00:01\.0` as root/);
  const nvme = await runCli(['demo', '--device', '0000:00:02.0'], fx, { importVfio });
  t.equal(nvme.code, 1);
  t.match(nvme.stderr, /0000:00:02\.0 is 1b36:0010, not a QEMU edu \(1234:11e8\)/);
  const missing = await runCli(['demo', '--device', '0000:00:1f.0'], fx, { importVfio });
  t.equal(missing.code, 3);
  t.match(missing.stderr, /no PCI device 0000:00:1f\.0/);
  t.equal(imported, false, 'the VFIO layer is not loaded for any of them');
});

t.test('demo --device on an edu bound to vfio-pci opens it with openVfioDevice and runs every step', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const opened: { bdf: string; options: Record<string, unknown> }[] = [];
  let device: PciDevice | null = null;
  const openVfioDevice = (bdf: string, options: Record<string, unknown>): PciDevice => {
    opened.push({ bdf, options });
    device = createEduDevice(); // stands in for the VfioDevice: the demo uses only PciDevice
    return device;
  };
  const r = await runCli(['demo', '--device', '00:01.0', '--json'], fx, { importVfio: async () => ({ openVfioDevice }) });
  t.equal(r.code, 0, r.stderr);
  const demo = JSON.parse(r.stdout) as DemoJson;
  t.equal(demo.device, '0000:00:01.0');
  t.same(demo.steps.map((s) => s.ok), STEP_IDS.map(() => true));
  t.match(demo.events[0], { layer: 'vfio', text: /^opened 0000:00:01\.0 through VFIO: 1234:11e8/ });
  t.equal(opened.length, 1);
  t.equal(opened[0]?.bdf, '0000:00:01.0');
  t.equal(opened[0]?.options['vfioDir'], `${fx.dev}/vfio`, 'the CLI\'s /dev root');
  t.equal((device as PciDevice | null)?.closed, true);
  const text = await runCli(['demo', '--device', '0000:00:01.0'], fx, { importVfio: async () => ({ openVfioDevice }) });
  t.match(text.stdout, /^vfio-ddk demo: QEMU edu at 0000:00:01\.0 through VFIO/);
});

t.test('demo --device without the native addon: the open step fails with `npm run build:native`', async (t) => {
  const fx = makeFixture();
  t.teardown(fx.cleanup);
  const openVfioDevice = (): never => {
    throw new DdkError('ERR_ADDON_MISSING', 'vfio-ddk native addon not found: build it with `npm run build:native`');
  };
  const r = await runCli(['demo', '--device', '0000:00:01.0'], fx, { importVfio: async () => ({ openVfioDevice }) });
  t.equal(r.code, 1);
  t.match(r.stdout, /✗ open the device and identify it FAILED/);
  t.match(r.stderr, /step "open" .*failed: ERR_ADDON_MISSING: vfio-ddk native addon not found/);
  t.match(r.stderr, /what to do: build the native addon: install cmake and g\+\+, then `npm run build:native`/, 'a checkout names build:native (an installed package: npm rebuild vfio-ddk, test/native/loader.test.ts)');
  const noExport = await runCli(['demo', '--device', '0000:00:01.0'], fx, { importVfio: async () => ({}) });
  t.equal(noExport.code, 1);
  t.match(noExport.stderr, /no openVfioDevice/);
});
