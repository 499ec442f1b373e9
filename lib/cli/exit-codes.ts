/**
 * The `vfio-ddk` command's exit statuses (documented in `vfio-ddk --help` and the README):
 * 0 success; 1 failure (a check failed, the kernel refused, a policy refusal such as a non-viable
 * group); 2 usage error (unknown verb/option, malformed BDF); 3 not found or not permitted (no such
 * device, permission denied: run as root).
 */
import { DdkError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;
/** 128 + SIGINT: the status a shell reports for a command stopped by Ctrl-C (bench, trace). */
export const EXIT_INTERRUPTED = 130;

/** A mistake in the command line: printed with the verb's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit status an error thrown by a verb maps to. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  if (err instanceof DdkError) {
    if (err.code === 'ERR_BAD_BDF') return EXIT_USAGE;
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EPERM') return EXIT_NOT_FOUND;
  }
  return EXIT_FAILURE;
}

export const EXIT_CODES_HELP = `Exit status: 0 ok, 1 failure, 2 usage error (bad option or BDF), 3 not found or not permitted.`;
