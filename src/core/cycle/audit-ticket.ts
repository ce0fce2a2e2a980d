import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { FactoryConfig } from '../config/schema';
import type { AuditReport } from '../contracts/audit-report';
import { planSchema, type Plan } from '../contracts/plan';
import { cyclePaths } from './cycle-paths';
import type { ProviderKeys } from '../gateway/gateway';
import { gitOrThrow } from '../git/git';
import { createStagingCopy } from '../sandbox/staging';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError } from '../util/errors';
import type { Logger } from '../util/log';
import { runAuditor } from '../auditor/run-auditor';
import { auditorRoute } from '../plan/routing';

export interface AuditTicketRequest {
  root: string;
  config: FactoryConfig;
  ticket: string;
  /** Audit this commit instead of the ticket's last `factory: TICKET PASS` commit. */
  commit?: string;
  /** The replay agent's recording (tests, demo). */
  replayFile?: string;
  keys?: ProviderKeys;
}

export interface AuditTicketOutcome {
  report: AuditReport;
  costUsd: number;
  /** The audited commit (full id). */
  commit: string;
  plan: Plan;
  /** `<paths.autopilot>/audits/<run_id>_manual.json` (absolute). */
  reportFile: string;
}

/**
 * A manual audit (spec `just factory_audit`; `factory audit`, "Factory: Audit"): the read-only
 * Auditor over the ticket's last cycle commit — that commit's tree, its changeset as a diff (the
 * Controller's own records left out), the rules and the cycle's plan.json. Writes the report.
 * @throws FactoryError `audit.nothing` / `audit.no-plan` / `audit.wrong-ticket` (exit 2).
 */
export async function auditTicket(req: AuditTicketRequest, deps: { docker?: Docker; logger?: Logger; signal?: AbortSignal } = {}): Promise<AuditTicketOutcome> {
  const { root, config, ticket } = req;
  const git = async (...args: string[]) => (await gitOrThrow(root, args, deps.signal ? { signal: deps.signal } : {})).toString('utf8');
  const commit = (req.commit ? await git('rev-parse', '--verify', `${req.commit}^{commit}`) : await git('log', '-1', '--format=%H', '--fixed-strings', `--grep=factory: ${ticket} PASS`)).trim();
  if (!commit) throw new FactoryError(`no cycle commit of ${ticket} to audit (no "factory: ${ticket} PASS" commit; name one with --commit)`, 'audit.nothing');
  const p = cyclePaths(root, config);
  const planRel = path.relative(root, p.plan).split(path.sep).join('/');
  let plan: Plan;
  try {
    plan = planSchema.parse(JSON.parse(await git('show', '--no-textconv', '--no-ext-diff', `${commit}:${planRel}`)));
  } catch (err) {
    throw new FactoryError(`${commit.slice(0, 7)} has no valid ${planRel} to audit against: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'audit.no-plan');
  }
  if (plan.ticket_id !== ticket) throw new FactoryError(`${commit.slice(0, 7)} is a cycle of ${plan.ticket_id}, not ${ticket}`, 'audit.wrong-ticket');
  const controller = [config.paths.autopilot, config.paths.evidence, config.ssot.roadmap, config.ssot.ledger, ...config.ssot.extraRoadmaps];
  const changes = (await git('diff-tree', '--no-commit-id', '--name-only', '-r', '-z', commit))
    .split('\0')
    .filter((f) => f && !controller.some((c) => f === c || f.startsWith(`${c}/`)))
    .map((f) => ({ path: f, kind: 'modified' as const }));
  const staging = await createStagingCopy({ root, runId: `${plan.run_id}_audit`, modify: [], ref: commit, ...(deps.signal ? { signal: deps.signal } : {}) });
  try {
    const audit = await runAuditor(
      {
        root,
        config,
        plan,
        workspace: staging.workspace,
        changes,
        baseRef: `${commit}^`,
        rules: fs.readFileSync(path.join(root, config.ssot.rules), 'utf8'),
        reason: 'manual',
        // The routing table's Auditor for the ticket at its plan's risk (config `auditor` over it).
        route: auditorRoute(config, plan.ticket_id, plan.risk_level, ['manual audit']),
        ...(req.replayFile ? { replayFile: req.replayFile } : {}),
        ...(req.keys ? { keys: req.keys } : {}),
      },
      deps,
    );
    await fs.promises.mkdir(p.audits, { recursive: true });
    const reportFile = path.join(p.audits, `${plan.run_id}_manual.json`);
    await atomicWrite(reportFile, JSON.stringify(audit.report, null, 2) + '\n');
    return { report: audit.report, costUsd: audit.costUsd, commit, plan, reportFile };
  } finally {
    staging.dispose();
  }
}
