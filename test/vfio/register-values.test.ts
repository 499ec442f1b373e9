/**
 * One rule for written register values on both backends (lib/pci/register-value.ts): an integer that
 * fits the width unsigned or as two's-complement signed is accepted and written unsigned; anything
 * else is a RangeError with the same message on emu and VFIO. VFIO side: VfioConfigSpace / VfioRegion
 * over a recording addon (what reaches pwrite); emu side: the emulated edu (config and BAR0).
 */
import t from 'tap';
import { createEduDevice } from 'vfio-ddk/emu';
import type { NativeAddon, RegionInfo } from '../../lib/native/addon-types.ts';
import { VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE } from '../../lib/native/vfio-uapi.ts';
import { EDU_REG } from '../../lib/pci/edu-regs.ts';
import { PCI_BASE_ADDRESS_0, PCI_CACHE_LINE_SIZE, PCI_COMMAND } from '../../lib/pci/regs.ts';
import { registerValue, registerValue64 } from '../../lib/pci/register-value.ts';
import { DeviceGate } from '../../lib/vfio/vfio-gate.ts';
import { VfioConfigSpace } from '../../lib/vfio/vfio-config.ts';
import { VfioRegion } from '../../lib/vfio/vfio-region.ts';

/** Values issue 15 row 9 named, plus the edges of each width. */
const REJECTED_32: unknown[] = [2 ** 32 + 5, 2 ** 32, -(2 ** 31) - 1, NaN, '7', 0.9, Infinity, -Infinity, undefined, null, 7n, {}];
const ACCEPTED_32: [number, number][] = [[-1, 0xffffffff], [~0, 0xffffffff], [-(2 ** 31), 0x8000_0000], [0x1234 | 0x8000_0000, 0x8000_1234], [0, 0], [0xffffffff, 0xffffffff]];
const REJECTED_16: unknown[] = [0x1_0000, -0x8001, 1.5, '1', NaN];
const REJECTED_8: unknown[] = [0x100, -0x81, 0.5, 'a', NaN];
const REJECTED_64: unknown[] = [1n << 64n, -(1n << 63n) - 1n, 1, '1', null];

function recordingAddon(): { addon: NativeAddon; writes: { offset: bigint; width: number; value: unknown }[] } {
  const writes: { offset: bigint; width: number; value: unknown }[] = [];
  const addon = {
    regionRead: (_fd: number, _ro: bigint, _rs: bigint, _o: bigint, width: number) => (width === 8 ? 0n : 0),
    regionWrite: (_fd: number, _ro: bigint, _rs: bigint, offset: bigint, width: number, value: unknown) => { writes.push({ offset, width, value }); },
    mmapRegion: () => { throw new Error('not mappable'); },
  } as unknown as NativeAddon;
  return { addon, writes };
}

function vfioBackend() {
  const { addon, writes } = recordingAddon();
  const gate = new DeviceGate('0000:00:01.0');
  const rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
  const configInfo: RegionInfo = { index: 7, flags: rw, size: 256n, offset: 7n << 40n, msixMappable: false };
  const barInfo: RegionInfo = { index: 0, flags: rw, size: 1n << 20n, offset: 0n, msixMappable: false };
  return { config: new VfioConfigSpace(addon, 3, configInfo, gate), bar: new VfioRegion(addon, 3, barInfo, gate), writes };
}

function messageOf(run: () => void): string {
  try {
    run();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  return 'accepted';
}

t.test('the shared rule: signed or unsigned in, unsigned out; everything else RangeError', async (t) => {
  for (const [signed, unsigned] of ACCEPTED_32) t.equal(registerValue('x', 4, signed), unsigned, `${signed} → 0x${unsigned.toString(16)}`);
  t.equal(registerValue('x', 1, -1), 0xff);
  t.equal(registerValue('x', 1, -128), 0x80);
  t.equal(registerValue('x', 2, -2), 0xfffe);
  t.equal(registerValue64('x', -1n), 0xffff_ffff_ffff_ffffn);
  t.equal(registerValue64('x', -(1n << 63n)), 1n << 63n);
  for (const value of REJECTED_32) t.throws(() => registerValue('BAR0 write32', 4, value), RangeError, `32-bit ${String(value)}`);
  for (const value of REJECTED_16) t.throws(() => registerValue('x', 2, value), RangeError, `16-bit ${String(value)}`);
  for (const value of REJECTED_8) t.throws(() => registerValue('x', 1, value), RangeError, `8-bit ${String(value)}`);
  for (const value of REJECTED_64) t.throws(() => registerValue64('x', value), RangeError, `64-bit ${String(value)}`);
  t.throws(() => registerValue('BAR0 write32', 4, '7'), { message: /BAR0 write32: value must be an integer .* got "7"/ });
});

t.test('VFIO: accepted values reach pwrite unsigned; rejected ones never reach it', async (t) => {
  const { config, bar, writes } = vfioBackend();
  for (const [signed, unsigned] of ACCEPTED_32) {
    bar.write32(0x10, signed);
    config.write32(PCI_BASE_ADDRESS_0, signed);
    t.same(writes.splice(0).map((w) => w.value), [unsigned, unsigned], `${signed}`);
  }
  bar.write8(0, -1);
  bar.write16(0, -1);
  config.write8(PCI_CACHE_LINE_SIZE, -128);
  config.write16(PCI_COMMAND, -2);
  bar.write64(0, -1n);
  t.same(writes.splice(0).map((w) => w.value), [0xff, 0xffff, 0x80, 0xfffe, 0xffff_ffff_ffff_ffffn]);
  for (const value of REJECTED_32) {
    t.throws(() => bar.write32(0x10, value as number), RangeError);
    t.throws(() => config.write32(PCI_BASE_ADDRESS_0, value as number), RangeError);
  }
  for (const value of REJECTED_64) t.throws(() => bar.write64(0, value as bigint), RangeError);
  t.same(writes, [], 'nothing was written');
});

t.test('emu: the same values accepted (same bits as the unsigned write), the same errors word for word', async (t) => {
  using edu = createEduDevice();
  const vfio = vfioBackend();
  const bar = edu.bar(0);
  for (const [signed, unsigned] of ACCEPTED_32) {
    bar.write32(EDU_REG.LIVENESS, unsigned);
    const expected = bar.read32(EDU_REG.LIVENESS);
    bar.write32(EDU_REG.LIVENESS, signed);
    t.equal(bar.read32(EDU_REG.LIVENESS), expected, `BAR ${signed} = ${unsigned}`);
  }
  edu.config.write8(PCI_CACHE_LINE_SIZE, -1);
  t.equal(edu.config.read8(PCI_CACHE_LINE_SIZE), 0xff, 'config write8(-1) = 0xff');
  bar.write64(EDU_REG.DMA_SRC, -1n);
  const allOnes = bar.read64(EDU_REG.DMA_SRC);
  bar.write64(EDU_REG.DMA_SRC, 0xffff_ffff_ffff_ffffn);
  t.equal(bar.read64(EDU_REG.DMA_SRC), allOnes, 'write64(-1n) = write64(2^64 - 1)');
  const cases: [string, (target: 'emu' | 'vfio') => void][] = [];
  for (const value of REJECTED_32) {
    cases.push([`write32 ${String(value)}`, (w) => (w === 'emu' ? bar : vfio.bar).write32(0x4, value as number)]);
    cases.push([`config write32 ${String(value)}`, (w) => (w === 'emu' ? edu.config : vfio.config).write32(PCI_BASE_ADDRESS_0, value as number)]);
  }
  for (const value of REJECTED_16) cases.push([`write16 ${String(value)}`, (w) => (w === 'emu' ? edu.config : vfio.config).write16(PCI_COMMAND, value as number)]);
  for (const value of REJECTED_8) cases.push([`write8 ${String(value)}`, (w) => (w === 'emu' ? bar : vfio.bar).write8(0, value as number)]);
  for (const value of REJECTED_64) cases.push([`write64 ${String(value)}`, (w) => (w === 'emu' ? bar : vfio.bar).write64(EDU_REG.DMA_SRC, value as bigint)]);
  for (const [what, run] of cases) {
    const emu = messageOf(() => run('emu'));
    t.match(emu, /^RangeError: /, `${what}: RangeError on emu`);
    t.equal(emu, messageOf(() => run('vfio')), `${what}: the same error on VFIO`);
  }
  t.equal(bar.read64(EDU_REG.DMA_SRC), allOnes, 'no rejected write reached the device');
});

t.test('emu: a bad value is refused before the Memory Space gate, as VFIO refuses it before pwrite', async (t) => {
  using edu = createEduDevice();
  edu.config.write16(PCI_COMMAND, 0);
  t.throws(() => edu.bar(0).write32(EDU_REG.LIVENESS, NaN), RangeError);
  t.throws(() => edu.bar(0).write32(EDU_REG.LIVENESS, 1), { code: 'EIO' });
});
