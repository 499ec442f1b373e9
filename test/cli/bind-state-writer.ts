/**
 * Child process for bind-state-lock.test.ts (not a test file): adds `count` entries to the bind
 * state, one locked read-modify-write each, pausing inside the critical section so that writers
 * in other processes would interleave if the lock did not hold them off.
 * argv: stateDir bus count [unlocked]
 */
import { loadBindState, saveBindState, withBindState } from '../../lib/cli/bind-state.ts';

const [stateDir = '', bus = '0', countText = '0', mode = 'locked'] = process.argv.slice(2);
const pause = (): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); };
for (let i = 0; i < Number(countText); i++) {
  const bdf = `0000:${bus.padStart(2, '0')}:${i.toString(16).padStart(2, '0')}.0`;
  const record = { previousDriver: 'nvme', iommuGroup: i, boundAt: new Date().toISOString() };
  if (mode === 'unlocked') {
    const state = loadBindState(stateDir);
    pause();
    state[bdf] = record;
    saveBindState(stateDir, state);
  } else {
    withBindState(stateDir, (state, save) => {
      pause();
      state[bdf] = record;
      save();
    });
  }
}
