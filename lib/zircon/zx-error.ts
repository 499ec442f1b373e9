/** The idiomatic tier's error for a Zircon status: `status` (number) and `code` (its C name). */
import { zx_status_get_string } from './constants/status.ts';

export class ZxError extends Error {
  readonly status: number;
  /** The status's C name, e.g. 'ZX_ERR_BAD_STATE'. */
  readonly code: string;
  constructor(status: number, operation: string) {
    const code = zx_status_get_string(status);
    super(`${operation} failed: ${code} (${status})`);
    this.name = 'ZxError';
    this.status = status;
    this.code = code;
  }
}

/** Throws a ZxError unless `status` is ZX_OK. */
export function check(status: number, operation: string): void {
  if (status !== 0) throw new ZxError(status, operation);
}
