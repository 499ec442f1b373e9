/** The shape of one verb: its declared arguments and what it does. Each verb lives in verbs/<name>.ts. */
import type { ParsedArgs, VerbSpec } from './args.ts';
import type { CliContext } from './context.ts';

export interface Verb {
  readonly spec: VerbSpec;
  /** Returns the exit status; may throw (main maps errors to statuses, see exit-codes.ts). */
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}
