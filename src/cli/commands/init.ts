import type { Command } from 'commander';
import * as path from 'node:path';
import { runCommand } from '../io';

/**
 * `factory init [--root DIR]`: scaffold `.factory/config.json` and the three SSOT documents in a
 * folder that has none of them, with Gate stages and guards from the repository's toolchain, and
 * a justfile with the spec's recipes (an existing justfile is kept, and said so). Refuses (exit 2,
 * naming the files) rather than overwrite.
 */
export function register(program: Command): void {
  program
    .command('init')
    .description('Scaffold .factory/config.json (Gate stages from the detected toolchain), D_ROADMAP.md, the AC ledger, SSOT rules and a justfile (never overwrites)')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--json', 'print the written files as JSON')
    .action(async (opts: { root: string; json?: boolean }) => {
      await runCommand(async (signal) => {
        // Lazy import: only this command pays for the scaffold templates (CLI start-up stays lean).
        const { initRepository } = await import('../../core/init/scaffold');
        const root = path.resolve(opts.root);
        const { written, justfileKept, detection } = await initRepository(root, { signal });
        const justNote = justfileKept ? `${justfileKept} exists: kept as it is (init never overwrites a justfile), so the factory recipes (just gate, just factory_run …) were not added` : null;
        if (opts.json) {
          process.stdout.write(JSON.stringify({ root, written, justfileKept, detected: { toolchains: detection.toolchains.map((t) => ({ id: t.id, why: t.why })), stages: detection.stages, guards: detection.guards, notes: detection.notes } }, null, 2) + '\n');
        } else {
          process.stdout.write(`Initialized a factory workspace in ${root}:\n${written.map((f) => `  ${f}`).join('\n')}\n`);
          process.stdout.write(`Detected:\n${detection.notes.map((n) => `  ${n}`).join('\n')}\n`);
          if (justNote) process.stdout.write(`${justNote}\n`);
          process.stdout.write('Next: describe your tickets in D_ROADMAP.md and their ACs in the ledger, then run `factory status`.\n');
        }
        return 0;
      });
    });
}
