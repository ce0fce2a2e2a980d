import { buildProgram } from './main';

/**
 * Entry of the bundled CLI (dist/cli.mjs, an ES module bundle split per command so start-up only
 * parses what the command needs). `node --import tsx src/cli/main.ts` remains the source entry.
 */
buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`factory: ${String(err)}\n`);
    process.exit(1);
  });
