import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBindState, saveBindState } from '../../lib/cli/bind-state.ts';

t.test('state round-trips and a missing file is empty', async (t) => {
  const dir = join(t.testdir({}), 'run', 'vfio-ddk');
  t.same(loadBindState(dir), {});
  saveBindState(dir, { '0000:00:02.0': { previousDriver: 'nvme', iommuGroup: 2, boundAt: '2026-01-01T00:00:00.000Z' } });
  t.same(loadBindState(dir), { '0000:00:02.0': { previousDriver: 'nvme', iommuGroup: 2, boundAt: '2026-01-01T00:00:00.000Z' } });
});

t.test('malformed files and entries are ignored, never trusted', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'bindings.json'), '{not json');
  t.same(loadBindState(dir), {});
  writeFileSync(join(dir, 'bindings.json'), JSON.stringify({
    '../../etc': { previousDriver: 'x', iommuGroup: 1, boundAt: 'now' },
    '00:03.0': { previousDriver: null, iommuGroup: null, boundAt: 'now' },
    '0000:00:04.0': { previousDriver: 5, iommuGroup: 1, boundAt: 'now' },
  }));
  t.same(loadBindState(dir), { '0000:00:03.0': { previousDriver: null, iommuGroup: null, boundAt: 'now' } });
  writeFileSync(join(dir, 'bindings.json'), '[1,2]');
  t.same(loadBindState(dir), {});
});
