import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand } from '../io';

interface DoctorOptions {
  root: string;
  backend?: string;
  json?: boolean;
}

/**
 * `factory doctor [--backend local|swarm] [--json]`: what the execution backend needs and whether
 * it has it (docs/scale.md) — the engine, and for the swarm a manager, this machine as a node,
 * nodes with the Worker image, the run network. One line per check (✓/✗, detail, fix). Exit 0 when
 * every check passes, else 2. `--backend` checks the other backend than `engine.backend`.
 */
export function register(program: Command): void {
  program
    .command('doctor')
    .description('Check the execution backend (local engine or Docker Swarm): what is missing and how to fix it')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--backend <kind>', 'check this backend (local | swarm) instead of the config\'s engine.backend')
    .option('--json', 'print one JSON object')
    .action(async (opts: DoctorOptions) => {
      await runCommand(async (signal) => {
        const { FactoryError } = await import('../../core/util/errors');
        if (opts.backend !== undefined && opts.backend !== 'local' && opts.backend !== 'swarm') {
          throw new FactoryError(`--backend must be local or swarm, not "${opts.backend}"`, 'usage');
        }
        const { loadConfigStrict } = await import('../../core/config/load');
        const { checkBackend, reportLines } = await import('../../core/backend/run-checks');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const report = await checkBackend(root, config, { ...(opts.backend ? { backend: opts.backend } : {}), signal });
        if (opts.json) printJson(report);
        else process.stdout.write(`${reportLines(report).join('\n')}\n`);
        return report.ok ? 0 : 2;
      });
    });
}
