import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand, stderrLogger } from '../io';

interface PlanOptions {
  root: string;
  ticket?: string;
  agent?: string;
  model?: string;
  json?: boolean;
}

/**
 * `factory plan [--ticket T] [--agent A] [--model M] [--json]`: build plan.json for the next cycle (the
 * queue's first OPEN AC, or T), write it to `<paths.autopilot>/plan.json` (atomically, under the
 * repo lock) and print it. Exit 0, 2 on bad input, 3 while a cycle runs.
 */
export function register(program: Command): void {
  program
    .command('plan')
    .description('Build plan.json for the next cycle (queue order or --ticket), write it and print it')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--ticket <id>', 'plan this ticket instead of the queue\'s next one')
    .option('--agent <name>', 'Worker agent override (default: the routing table picks by risk)')
    .option('--model <id>', 'Worker model override (default: the routing table, or the overriding agent\'s configured model)')
    .option('--json', 'print plan.json only (machine-readable)')
    .action(async (opts: PlanOptions) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { writePlan } = await import('../../core/cycle/write-plan');
        const { scopeFallbackLine, scopeReasonLines } = await import('../../core/plan/scope/explain');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const { routingLines } = await import('../../core/plan/routing');
        const { built, file } = await writePlan(root, config, { ...(opts.ticket ? { ticket: opts.ticket } : {}), ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.model ? { model: opts.model } : {}), signal, logger: stderrLogger(false) });
        const fallback = scopeFallbackLine(built.plan);
        // factory plan spends nothing: a configured Controller model is not asked, and the user is told.
        const { controllerSkippedLine } = await import('../../core/cycle/derive-inputs');
        const skipped = controllerSkippedLine(config, 'factory plan');
        if (opts.json) {
          printJson(built.plan);
          // plan.json itself carries scope_fallback; a person watching the terminal hears it too.
          if (fallback) process.stderr.write(`${fallback}\n`);
          if (skipped) process.stderr.write(`${skipped}\n`);
        } else {
          const p = built.plan;
          process.stdout.write(
            [
              `plan.json written: ${path.relative(process.cwd(), file) || file}`,
              ...(fallback ? [fallback, `  (${p.scope_fallback?.why ?? ''})`] : []),
              `  ticket   ${p.ticket_id}${built.ticket ? ` — ${built.ticket.title}` : ''}`,
              `  ACs      ${p.ac_ids.join(', ')}`,
              `  risk     ${p.risk_level}${built.risk.reasons.length ? ` (${built.risk.reasons.map((r) => `${r.pattern} → ${r.level} via ${r.path}`).join('; ')})` : ''}; model budget ${p.model_budget}; Auditor ${p.routing?.auditor ? 'required' : 'not required'}`,
              ...routingLines(p).map((l) => `  ${l}`),
              `  agent    ${p.agent}${p.model ? ` ${p.model}` : ''}; time cap ${p.timeout_minutes} min`,
              `  modify   ${p.scope.modify.join(', ') || '(nothing)'}`,
              `  readonly ${p.scope.readonly.join(', ') || '-'}`,
              `  forbidden ${p.scope.forbidden.join(', ')}`,
              ...scopeReasonLines(p, '  why      '),
              ...(skipped ? [`  ${skipped}`] : []),
              `  done when ${p.done_criteria}`,
              '',
            ].join('\n'),
          );
        }
        return 0;
      });
    });
}
