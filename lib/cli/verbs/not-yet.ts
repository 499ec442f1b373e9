/** Verbs whose implementation comes later (`demo`, `guest`, `bench`): they say so and exit 1. */
import { EXIT_FAILURE } from '../exit-codes.ts';
import type { Verb } from '../verb.ts';

export function notYetVerb(name: string, summary: string): Verb {
  return {
    spec: { name, summary, positionals: [], options: {}, details: 'Not yet available in this version.', passThrough: true },
    async run(_args, ctx) {
      ctx.stderr(`vfio-ddk ${name}: not yet available in this version\n`);
      return EXIT_FAILURE;
    },
  };
}
