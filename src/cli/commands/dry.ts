import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand } from '../io';

/**
 * `factory dry [--ticket T] [--agent A] [--model M] [--json]`: the next cycle's plan, mounts, limits, kill
 * switches and Gate commands, without writing or starting anything. Exit 0, 2 on bad input.
 */
export function register(program: Command): void {
  program
    .command('dry')
    .description('Show the next cycle (plan, mounts, limits, kill switches, Gate commands) without starting anything')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--ticket <id>', 'plan this ticket instead of the queue\'s next one')
    .option('--agent <name>', 'Worker agent override (default: the routing table picks by risk)')
    .option('--model <id>', 'Worker model override (default: the routing table, or the overriding agent\'s configured model)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { root: string; ticket?: string; agent?: string; model?: string; json?: boolean }) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { dryRun, formatDryRun } = await import('../../core/cycle/dry-run');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const d = await dryRun(root, config, { ...(opts.ticket ? { ticket: opts.ticket } : {}), ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.model ? { model: opts.model } : {}), signal });
        // A dry run spends nothing: a configured Controller model is not asked, and the user is told.
        const { controllerSkippedLine } = await import('../../core/cycle/derive-inputs');
        const skipped = controllerSkippedLine(config, 'factory dry');
        if (opts.json) {
          printJson(d);
          // d.plan.scope_fallback says it in the JSON; a person watching the terminal hears it too.
          const { scopeFallbackLine } = await import('../../core/plan/scope/explain');
          const fallback = scopeFallbackLine(d.plan);
          if (fallback) process.stderr.write(`${fallback}\n`);
          if (skipped) process.stderr.write(`${skipped}\n`);
          return 0;
        }
        process.stdout.write(formatDryRun(d) + (skipped ? `${skipped}\n` : ''));
        return 0;
      });
    });
}
