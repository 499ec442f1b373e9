import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PciIds, parsePciIds } from '../../lib/vfio/pci-ids.ts';

const SAMPLE = `# comment
1234  Technical Corp.
\t1111  Virtual Video Controller
\t11e8  Edu from the database
\t\t1af4 1100  QEMU subsystem (ignored)
8086  Intel Corporation
\t10d3  82574L Gigabit Network Connection
C 02  Network controller
\t00  Ethernet controller
\t\t00  prog-if (ignored)
C 06  Bridge
\t04  PCI bridge
`;

t.test('parsePciIds reads vendors, devices, classes and subclasses', async (t) => {
  const db = parsePciIds(SAMPLE);
  t.equal(db.vendors.get(0x8086), 'Intel Corporation');
  t.equal(db.devices.size, 3);
  t.equal(db.classes.get(0x02), 'Network controller');
  t.equal(db.subclasses.get(0x0604), 'PCI bridge');
});

t.test('the database wins over the built-in table, which fills the gaps', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'pci.ids');
  writeFileSync(file, SAMPLE);
  const ids = new PciIds([join(dir, 'missing'), file]);
  t.equal(ids.source, file);
  t.equal(ids.deviceName(0x1234, 0x11e8), 'Edu from the database');
  t.equal(ids.deviceName(0x1b36, 0x0010), 'QEMU NVM Express Controller', 'built-in');
  t.equal(ids.className(0x020000), 'Ethernet controller');
  t.equal(ids.className(0x010802), 'Non-Volatile memory controller');
});

t.test('built-in only', async (t) => {
  const ids = new PciIds([]);
  t.equal(ids.source, 'built-in table');
  t.equal(ids.describe(0x1234, 0x11e8), 'Technical Corp. QEMU edu device');
  t.equal(ids.describe(0xabcd, 0x0001), 'vendor abcd device 0001');
  t.equal(ids.className(0x0c0330), 'USB controller');
  t.equal(ids.className(0x0b4000), 'Processor', 'base class when the subclass is unknown');
  t.equal(ids.className(0x420000), null);
});
