/**
 * What `bind` remembers so `unbind` can give a device back to its previous driver: one JSON file,
 * <stateDir>/bindings.json (default /run/vfio-ddk: tmpfs, so it is forgotten on reboot, as the bindings
 * are). The directory is created 0700 and the file 0600: only root, who can bind, reads it. Writes go
 * to a temporary file renamed over the old one, so a crash never leaves half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBdf, normalizeBdf } from '../vfio/bdf.ts';

export interface BindRecord {
  /** Driver before `bind` (null: it was unbound). */
  readonly previousDriver: string | null;
  readonly iommuGroup: number | null;
  /** ISO time of the bind. */
  readonly boundAt: string;
}

export type BindState = Record<string, BindRecord>;

const STATE_FILE = 'bindings.json';

function isRecord(v: unknown): v is BindRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (r['previousDriver'] === null || typeof r['previousDriver'] === 'string')
    && (r['iommuGroup'] === null || typeof r['iommuGroup'] === 'number')
    && typeof r['boundAt'] === 'string';
}

/** The remembered bindings; entries that do not parse are dropped (never trusted as paths). */
export function loadBindState(stateDir: string): BindState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(stateDir, STATE_FILE), 'utf8'));
  } catch {
    return {};
  }
  const state: BindState = {};
  if (typeof raw !== 'object' || raw === null) return state;
  for (const [bdf, record] of Object.entries(raw)) {
    if (isBdf(bdf) && isRecord(record)) state[normalizeBdf(bdf)] = record;
  }
  return state;
}

export function saveBindState(stateDir: string, state: BindState): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, STATE_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}
