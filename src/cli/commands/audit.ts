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
        const fs = await import('node:fs');
        const { loadConfigStrict } = await import('../../core/config/load');
        const { runAuditor } = await import('../../core/auditor/run-auditor');
        const { cyclePaths } = await import('../../core/cycle/orchestrator');
        const { planSchema } = await import('../../core/contracts/plan');
        const { createStagingCopy, execCapture } = await import('../../core/sandbox/staging');
        const { FactoryError } = await import('../../core/util/errors');
        const { atomicWrite } = await import('../../core/util/atomic-write');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const git = async (...args: string[]) => {
          const r = await execCapture('git', ['-c', 'core.hooksPath=/dev/null', '-C', root, ...args], { signal });
          if (r.code !== 0) throw new FactoryError(`git ${args[0]}: ${r.stderr.trim()}`, 'git-failed', 2);
          return r.stdout.toString('utf8');
        };
        const commit = (opts.commit ? await git('rev-parse', '--verify', `${opts.commit}^{commit}`) : await git('log', '-1', '--format=%H', '--fixed-strings', `--grep=factory: ${ticket} PASS`)).trim();
        if (!commit) throw new FactoryError(`no cycle commit of ${ticket} to audit (no "factory: ${ticket} PASS" commit; use --commit)`, 'audit.nothing', 2);
        const p = cyclePaths(root, config);
        const planRel = path.relative(root, p.plan).split(path.sep).join('/');
        let plan;
        try {
          plan = planSchema.parse(JSON.parse(await git('show', `${commit}:${planRel}`)));
        } catch (err) {
          throw new FactoryError(`${commit.slice(0, 7)} has no valid ${planRel} to audit against: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'audit.no-plan', 2);
        }
        if (plan.ticket_id !== ticket) throw new FactoryError(`${commit.slice(0, 7)} is a cycle of ${plan.ticket_id}, not ${ticket}`, 'audit.wrong-ticket', 2);
        const controller = [config.paths.autopilot, config.paths.evidence, config.ssot.roadmap, config.ssot.ledger, ...config.ssot.extraRoadmaps];
        const changes = (await git('diff-tree', '--no-commit-id', '--name-only', '-r', '-z', commit))
          .split('\0')
          .filter((f) => f && !controller.some((c) => f === c || f.startsWith(`${c}/`)))
          .map((f) => ({ path: f, kind: 'modified' as const }));
        const staging = await createStagingCopy({ root, runId: `${plan.run_id}_audit`, modify: [], ref: commit, signal });
        try {
          const audit = await runAuditor(
            { root, config, plan, workspace: staging.workspace, changes, baseRef: `${commit}^`, rules: fs.readFileSync(path.join(root, config.ssot.rules), 'utf8'), reason: 'manual', ...(opts.replay ? { replayFile: path.resolve(opts.replay, `${ticket}.audit.json`) } : {}) },
            { logger: stderrLogger(opts.verbose ?? false), signal },
          );
          await fs.promises.mkdir(p.audits, { recursive: true });
          const file = path.join(p.audits, `${plan.run_id}_manual.json`);
          await atomicWrite(file, JSON.stringify(audit.report, null, 2) + '\n');
          if (opts.json) printJson(audit.report);
          else {
            process.stdout.write(`Auditor: ${audit.report.verdict} — ${ticket} at ${commit.slice(0, 7)} ($${audit.costUsd.toFixed(4)})\n`);
            for (const v of audit.report.violations) process.stdout.write(`  ${v.file}${v.line ? `:${v.line}` : ''}  ${v.rule}${v.message ? `: ${v.message}` : ''}\n`);
            if (audit.report.summary) process.stdout.write(`  ${audit.report.summary}\n`);
            process.stdout.write(`Report: ${path.relative(process.cwd(), file)}\n`);
          }
          return audit.report.verdict === 'PASS' ? 0 : 1;
        } finally {
          staging.dispose();
        }
      });
    });
}
