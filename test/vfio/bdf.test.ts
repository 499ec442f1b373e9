import t from 'tap';
import { formatBdf, isBdf, normalizeBdf, parseBdf } from '../../lib/vfio/bdf.ts';
import { DdkError } from '../../lib/errors.ts';

t.test('accepts the full and the short sysfs forms', async (t) => {
  t.same(parseBdf('0000:00:01.0'), { domain: 0, bus: 0, device: 1, function: 0 });
  t.same(parseBdf('00:1f.7'), { domain: 0, bus: 0, device: 0x1f, function: 7 });
  t.same(parseBdf('ABCD:Ff:0a.3'), { domain: 0xabcd, bus: 0xff, device: 0x0a, function: 3 });
  t.equal(normalizeBdf('00:01.0'), '0000:00:01.0');
  t.equal(normalizeBdf('0001:0A:1F.7'), '0001:0a:1f.7');
  t.equal(formatBdf({ domain: 1, bus: 2, device: 3, function: 4 }), '0001:02:03.4');
});

t.test('rejects everything else with ERR_BAD_BDF and the expected form', async (t) => {
  const bad = [
    '', ' ', '../../etc', '0000:00:01.0/../x', '0000:00:01.0/', '/sys/bus/pci/devices/0000:00:01.0',
    '0000:00:01.0\n', ' 0000:00:01.0', '0000:00:01.0\0', '0000:00:20.0', '0000:00:01.8', '00000:00:01.0',
    '0000:000:01.0', '0:0:1.0', '0000-00-01.0', '0000:00:01', '0000:00:01.', 'x'.repeat(5000),
    '0000:00:01.0.0', '..', '.', '0000:0g:01.0',
  ];
  for (const input of bad) {
    let caught: unknown = null;
    try { parseBdf(input); } catch (err) { caught = err; }
    t.ok(caught instanceof DdkError && caught.code === 'ERR_BAD_BDF' && caught.message.includes('0000:00:01.0')
      && caught.message.includes('domain:bus:device.function'), JSON.stringify(input.slice(0, 30)));
    t.equal(isBdf(input), false);
  }
});

t.test('rejects non-strings without crashing', async (t) => {
  for (const input of [undefined, null, 1, {}, ['0000:00:01.0']]) {
    t.throws(() => normalizeBdf(input as unknown as string), { code: 'ERR_BAD_BDF' });
    t.equal(isBdf(input), false);
  }
});

t.test('the message of a long input is truncated', async (t) => {
  try {
    parseBdf('a'.repeat(1000));
    t.fail('should throw');
  } catch (err) {
    t.ok((err as Error).message.length < 200);
  }
});
