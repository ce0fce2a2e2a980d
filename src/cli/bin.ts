import { buildProgram } from './main';

/**
 * Entry of the bundled CLI (dist/cli.mjs, an ES module bundle split per command so start-up only
 * parses what the command needs). `node --import tsx src/cli/main.ts` remains the source entry.
 */
// `factory status | head`: a reader that closes the pipe early is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`factory: ${String(err)}\n`);
    process.exit(1);
  });
