/** The `mezz` entry point (bin/mezz.mjs runs this). */
import { errorMessage } from '../lib/errors';
import { run } from './program';

// A failure outside a command's promise chain still ends as one line, not a stack.
process.on('uncaughtException', (err) => {
  process.stderr.write(`mezz: unexpected error: ${errorMessage(err)}\n`);
  if (process.env.MEZZ_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});

process.exitCode = await run(process.argv.slice(2));
