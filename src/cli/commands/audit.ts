import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand, stderrLogger } from '../io';

interface AuditOptions {
  root: string;
  replay?: string;
  commit?: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `factory audit TICKET [--commit C] [--replay DIR] [--json]` (spec `just factory_audit`): run the
 * Auditor on the ticket's last cycle commit (`factory: TICKET PASS`, or --commit): a read-only
 * container with that commit's tree, its changeset as a diff, the rules and the cycle's plan.json.
 * Writes `<paths.autopilot>/audits/<run_id>_manual.json`. Exit 0 PASS, 1 FAIL, 2 bad input.
 */
export function register(program: Command): void {
  program
    .command('audit')
    .description('Run the read-only Auditor on a ticket\'s last cycle commit and write audit_report.json')
    .argument('<ticket>', 'ticket id')
    .option('--root <dir>', 'workspace root (a git repository)', process.cwd())
    .option('--commit <ref>', 'audit this commit instead of the ticket\'s last PASS commit')
    .option('--replay <dir>', 'recordings for the replay agent: DIR/<TICKET>.audit.json')
    .option('--json', 'print audit_report.json')
    .option('-v, --verbose', 'log each step to stderr')
    .action(async (ticket: string, opts: AuditOptions) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { auditTicket } = await import('../../core/cycle/audit-ticket');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const { report, costUsd, commit, reportFile } = await auditTicket(
          { root, config, ticket, ...(opts.commit ? { commit: opts.commit } : {}), ...(opts.replay ? { replayFile: path.resolve(opts.replay, `${ticket}.audit.json`) } : {}) },
          { logger: stderrLogger(opts.verbose ?? false), signal },
        );
        if (opts.json) printJson(report);
        else {
          process.stdout.write(`Auditor: ${report.verdict} — ${ticket} at ${commit.slice(0, 7)} ($${costUsd.toFixed(4)})\n`);
          for (const v of report.violations) process.stdout.write(`  ${v.file}${v.line ? `:${v.line}` : ''}  ${v.rule}${v.message ? `: ${v.message}` : ''}\n`);
          if (report.summary) process.stdout.write(`  ${report.summary}\n`);
          process.stdout.write(`Report: ${path.relative(process.cwd(), reportFile)}\n`);
        }
        return report.verdict === 'PASS' ? 0 : 1;
      });
    });
}
