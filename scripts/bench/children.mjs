/**
 * The processes this one started (QEMU for `bench --hw`, cmake, tsc), found through /proc so that a
 * Ctrl-C can stop them even when the code that spawned them (scripts/guest/guest.mjs runInGuest)
 * keeps no handle we could reach. Linux only, as the rest of the package.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** pids whose parent (the 4th field of /proc/<pid>/stat) is `parent`, recursively, deepest first. */
export function descendants(parent = process.pid) {
  const byParent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; } // exited meanwhile
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!byParent.has(ppid)) byParent.set(ppid, []);
    byParent.get(ppid).push(Number(name));
  }
  const out = [];
  const walk = (pid) => { for (const child of byParent.get(pid) ?? []) { walk(child); out.push(child); } };
  walk(parent);
  return out;
}

/** Sends `signal` to every descendant of this process; returns the pids signalled. */
export function killDescendants(signal = 'SIGTERM') {
  const pids = descendants();
  for (const pid of pids) {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
  return pids;
}
