/** Child process for verb-interrupt.test.ts (not a test file): the `vfio-ddk` entry point, as the bin runs it. */
import { run } from '../../lib/cli/main.ts';

await run(process.argv.slice(2));
