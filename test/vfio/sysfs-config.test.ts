import t from 'tap';
import { configSpaceFromBytes, describeInterrupts, interruptCapabilities } from '../../lib/vfio/sysfs-config.ts';
import { buildConfig } from './fixtures.ts';

t.test('MSI with 64-bit addresses and per-vector masking is decoded', async (t) => {
  const caps = interruptCapabilities(buildConfig({ vendor: 1, device: 2, classCode: 0, intxPin: 1, msi: { vectors: 8, is64: true, perVectorMask: true } }));
  t.same(caps, { configBytes: 256, intxPin: 'INTA', msi: { vectors: 8, is64: true, perVectorMask: true }, msix: null, capabilitiesKnown: true });
  t.equal(describeInterrupts(caps), 'INTA MSI×8 (64-bit, maskable)');
});

t.test('MSI-X table size, BIR and offsets are decoded after MSI in the list', async (t) => {
  const caps = interruptCapabilities(buildConfig({ vendor: 1, device: 2, classCode: 0, intxPin: 2, size: 4096, msi: { vectors: 1 },
    msix: { vectors: 65, tableBar: 4, tableOffset: 0x2000, pbaBar: 4, pbaOffset: 0x3000 } }));
  t.same(caps.msix, { vectors: 65, tableBar: 4, tableOffset: 0x2000, pbaBar: 4, pbaOffset: 0x3000 });
  t.equal(caps.intxPin, 'INTB');
  t.equal(describeInterrupts(caps), 'INTB MSI×1 (32-bit) MSI-X×65');
});

t.test('a 64-byte (unprivileged) read knows the pin but not the capabilities', async (t) => {
  const caps = interruptCapabilities(buildConfig({ vendor: 1, device: 2, classCode: 0, intxPin: 1, size: 64, msi: { vectors: 4 } }));
  t.equal(caps.capabilitiesKnown, false);
  t.equal(caps.msi, null);
  t.equal(describeInterrupts(caps), 'INTA (capabilities need root)');
});

t.test('no pin, no capabilities; empty config', async (t) => {
  t.equal(describeInterrupts(interruptCapabilities(buildConfig({ vendor: 1, device: 2, classCode: 0 }))), 'no INTx');
  t.equal(describeInterrupts(interruptCapabilities(new Uint8Array(0))), 'config not readable');
});

t.test('the snapshot config space is read-only and bounds-checked', async (t) => {
  const cs = configSpaceFromBytes(buildConfig({ vendor: 0x1234, device: 0x11e8, classCode: 0 }));
  t.equal(cs.read16(0), 0x1234);
  t.equal(cs.read32(0), 0x11e81234);
  t.throws(() => cs.write8(0, 1), { code: 'EROFS' });
  t.throws(() => cs.read32(256), RangeError);
  t.throws(() => cs.read16(1), RangeError);
  t.throws(() => configSpaceFromBytes('x' as unknown as Uint8Array), TypeError);
});

t.test('a looping capability list does not hang', async (t) => {
  const bytes = buildConfig({ vendor: 1, device: 2, classCode: 0, msi: { vectors: 1 } });
  bytes[0x41] = 0x40; // next pointer back to itself
  t.equal(interruptCapabilities(bytes).msi?.vectors, 1);
});
