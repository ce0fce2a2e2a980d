import type { Command } from 'commander';
import * as path from 'node:path';
import { runCommand } from '../io';

/**
 * `factory init [--root DIR]`: scaffold `.factory/config.json` and the three SSOT documents in a
 * folder that has none of them. Refuses (exit 2, naming the files) rather than overwrite.
 */
export function register(program: Command): void {
  program
    .command('init')
    .description('Scaffold .factory/config.json, D_ROADMAP.md, the AC ledger and SSOT rules (never overwrites)')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--json', 'print the written files as JSON')
    .action(async (opts: { root: string; json?: boolean }) => {
      await runCommand(async (signal) => {
        // Lazy import: only this command pays for the scaffold templates (CLI start-up stays lean).
        const { initWorkspace } = await import('../../core/init/scaffold');
        const root = path.resolve(opts.root);
        const written = await initWorkspace(root, { signal });
        if (opts.json) {
          process.stdout.write(JSON.stringify({ root, written }, null, 2) + '\n');
        } else {
          process.stdout.write(`Initialized a factory workspace in ${root}:\n${written.map((f) => `  ${f}`).join('\n')}\n`);
          process.stdout.write('Next: describe your tickets in D_ROADMAP.md and their ACs in the ledger, then run `factory status`.\n');
        }
        return 0;
      });
    });
}
