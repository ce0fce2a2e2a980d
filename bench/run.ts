/**
 * `npm run bench [name…]`: runs every bench/*.bench.ts (or the named ones). Each module exports
 * `run(): Promise<void>` and prints its figures next to a baseline measured in the same run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  for (const f of files) {
    console.log(`\n## ${f.replace(/\.bench\.ts$/, '')}`);
    const mod = (await import(path.join(__dirname, f))) as { run: () => Promise<void> };
    await mod.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
