/** zx_platform_attach and the physical address map: ECAM windows reach config space, BARs reach BARs. */
import t from 'tap';
import { PCI_VENDOR_ID, PCI_DEVICE_ID, PCI_COMMAND, findMsix } from 'vfio-ddk';
import { TEST_DEV_ID_VALUE, TEST_DEV_REGS, TEST_DEV_VENDOR_ID, TEST_DEV_DEVICE_ID } from 'vfio-ddk/emu';
import {
  ZX_OK, ZX_VM_PERM_READ, ZX_VM_PERM_WRITE, get_root_resource, zx_platform_attach, zx_vmar_map, zx_vmar_root_self,
  zx_vmo_create_physical, type zx_mapping_t,
} from 'vfio-ddk/zircon';
import { ecamAddress, parseMcfg } from '../../lib/zircon/platform/mcfg.ts';
import { attachedTestDevice, pageRound } from './device-fixtures.ts';
import { out } from './helpers.ts';

function mapPhysical(paddr: bigint, size: bigint): zx_mapping_t {
  const vmo = out(0);
  if (zx_vmo_create_physical(get_root_resource(), paddr, size, vmo) !== ZX_OK) throw new Error('vmo');
  const m = out<zx_mapping_t | null>(null);
  if (zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo.value, 0n, size, m as { value: zx_mapping_t }) !== ZX_OK) throw new Error('map');
  return m.value as zx_mapping_t;
}

t.test('attach is idempotent and places config, BARs, INTx and a bti_id', async (t) => {
  const { device, platform } = attachedTestDevice({ intx: true, msix: { vectors: 4 } });
  t.equal(zx_platform_attach(device), platform, 'same answer');
  t.equal(platform.ecam % 4096n, 0n);
  t.type(platform.bars[0], 'bigint');
  t.equal(platform.bars[5], null, 'unimplemented BAR');
  t.type(platform.bti_id, 'bigint');
  const bar0Register = device.config.read32(0x10) & 0xfffffff0;
  t.equal(platform.bars[0], BigInt(bar0Register >>> 0), 'BAR address read from config space');
  const other = attachedTestDevice({});
  t.not(other.platform.ecam, platform.ecam);
  t.not(other.platform.bti_id, platform.bti_id);
  t.equal(other.platform.irq, null);
  other.device.close();
  device.close();
});

t.test('a physical mapping of the ECAM window reads and writes config space', async (t) => {
  const { device, platform } = attachedTestDevice({});
  const cfg = mapPhysical(platform.ecam, 4096n);
  t.equal(cfg.read16(PCI_VENDOR_ID), TEST_DEV_VENDOR_ID);
  t.equal(cfg.read16(PCI_DEVICE_ID), TEST_DEV_DEVICE_ID);
  t.equal(cfg.read32(PCI_VENDOR_ID), device.config.read32(PCI_VENDOR_ID));
  const command = cfg.read16(PCI_COMMAND);
  cfg.write16(PCI_COMMAND, command | 0x400);
  t.equal(device.config.read16(PCI_COMMAND) & 0x400, 0x400, 'write reached the device');
  t.equal(cfg.read32(device.config.size), 0xffffffff, 'past the config space: all ones');
  device.close();
});

t.test('a physical mapping of a BAR reaches the device registers and the MSI-X table', async (t) => {
  const { device, platform } = attachedTestDevice({ msix: { vectors: 2 } });
  const bar0 = mapPhysical(platform.bars[0] as bigint, pageRound(device.bar(0).size));
  t.equal(bar0.read32(TEST_DEV_REGS.TEST_DEV_ID), TEST_DEV_ID_VALUE);
  const layout = findMsix(device.config);
  if (layout === null) throw new Error('no msix');
  const table = mapPhysical(platform.bars[layout.tableBar] as bigint, pageRound(device.bar(layout.tableBar).size));
  table.write32(layout.tableOffset + 8, 0x1234);
  t.equal(device.bar(layout.tableBar).read32(layout.tableOffset + 8), 0x1234);
  device.close();
});

t.test('MCFG parsing: entries from byte 44, 16 bytes each; ECAM address formula', async (t) => {
  const table = new Uint8Array(44 + 32);
  const view = new DataView(table.buffer);
  view.setUint32(4, table.length, true);
  view.setBigUint64(44, 0xb000_0000n, true);
  view.setUint16(52, 0, true);
  table[54] = 0;
  table[55] = 0xff;
  view.setBigUint64(60, 0x1_0000_0000n, true);
  view.setUint16(68, 1, true);
  table[70] = 0x10;
  table[71] = 0x1f;
  t.same(parseMcfg(table), [
    { base: 0xb000_0000n, segment: 0, startBus: 0, endBus: 0xff },
    { base: 0x1_0000_0000n, segment: 1, startBus: 0x10, endBus: 0x1f },
  ]);
  t.equal(ecamAddress(0xb000_0000n, 1, 2, 3), 0xb000_0000n + BigInt((1 << 20) | (2 << 15) | (3 << 12)));
  t.same(parseMcfg(new Uint8Array(10)), [], 'short table');
});

t.test('attach rejects what is not a PciDevice', async (t) => {
  t.throws(() => zx_platform_attach({} as never), TypeError);
  t.throws(() => zx_platform_attach(null as never), TypeError);
});
