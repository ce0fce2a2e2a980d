/**
 * CHECK: the Controller's own checks of what DO produced, each run only while the verdict so far
 * (verdict.ts `findings`) leaves the cycle a chance: the Gate over the staging copy, the Auditor
 * (risk or escalation), a profit ticket's pnl_breakdown.json, and the person's review.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { auditorRouteOf, runAuditor, type AuditRequest } from '../../auditor/run-auditor';
import type { Plan } from '../../contracts/plan';
import { readUntrustedJson } from '../../contracts/untrusted-json';
import { pnlBreakdownSchema, pnlProblems } from '../../evidence/evidence-format';
import { isProfitTicket } from '../../evidence/writer';
import { jobLimits } from '../../sandbox/job';
import { GateCache } from '../../gate/gate-cache';
import { gateCommandMs, type GateReport } from '../../gate/gate-model';
import { HostRunner } from '../../gate/host-runner';
import type { StageRunner } from '../../gate/stage-runner';
import { runGate } from '../../gate/run-gate';
import type { BuiltPlan } from '../../plan/builder';
import type { StagingCopy } from '../../sandbox/staging';
import { stagingTreeHash } from '../../sandbox/staging-snapshots';
import type { SpendEntry } from '../../contracts/history-entry';
import type { GatewayRecord } from '../../gateway/gateway';
import { atomicWrite } from '../../util/atomic-write';
import { FactoryError, errorMessage } from '../../util/errors';
import { isSymlink, readText, rel, type CycleContext } from '../cycle-context';
import type { BaselineReport, CycleDeps, CycleOutcome, ReviewDecision } from '../cycle-types';
import { auditorBudget, spendFromRecords, spendTotal, tierOfModel } from '../spend';
import { auditNeeded, findings, gateFacts, verdictLimits, type CheckFacts, type Findings, type WorkerFacts } from '../verdict';
import type { CycleResources, DoOutput } from './do';

/** What CHECK needs. */
export interface CheckInput {
  plan: Plan;
  built: BuiltPlan;
  baseCommit: string;
  /** Consecutive FAILs before this cycle call the Auditor (PLAN's verdict). */
  escalate: boolean;
  done: DoOutput;
  /** What the Controller model spent in PLAN: part of the one cycle budget the cap reason names. */
  controllerCostUsd?: number;
  /** The cycle's resources: the Auditor's running spend is put there, so an abort mid-audit records it. */
  res?: CycleResources;
  /** The red baseline the user accepted: a Gate failure HEAD already had is not held against the Worker (verdict.ts). */
  baseline?: BaselineReport;
}

/** What CHECK found: the facts the verdict is decided from, and what ADJUST and the outcome need. */
export interface CheckOutput {
  worker: WorkerFacts;
  facts: CheckFacts;
  gate?: GateReport;
  /** The image the Gate's containers ran (its id is the report's `runnerIdentity`); absent for a host Gate. */
  gateImage?: string;
  audit: CycleOutcome['audit'];
  /** The Worker's pnl_breakdown.json (profit tickets that passed every other check). */
  pnl?: Record<string, unknown>;
  profit: boolean;
  gateMs: number;
  gateCommandMs: number;
  auditMs: number;
  auditCostUsd: number;
  /** The Auditor's history `spend` entries (one per model) and its gateway's records, when it ran. */
  auditSpend: SpendEntry[];
  auditRecords: GatewayRecord[];
  /** The person's decision when the review hook was asked; "Request changes" carries `feedback` (cycle/feedback.ts). */
  review?: ReviewDecision;
}

/** DO's results as the verdict reads them; the spend is the cycle's (Controller model + Worker). */
export function workerFacts(done: DoOutput, controllerCostUsd = 0): WorkerFacts {
  return {
    result: done.result,
    run: done.run,
    overCap: done.overCap,
    budgetHit: done.budgetHit,
    spentUsd: controllerCostUsd + done.agent.gateway.costUsd,
    ...(done.reserveUsd ? { reserveUsd: done.reserveUsd } : {}),
    ...(done.agent.report ? { agentOutcome: done.agent.report.outcome } : {}),
    changes: done.changes.length,
    violations: done.violations,
  };
}

/** Run CHECK. @throws FactoryError `worker-error` when the Worker container failed for no cap's reason. */
export async function checkPhase(ctx: CycleContext, input: CheckInput): Promise<CheckOutput> {
  await ctx.setPhase('CHECK');
  const { plan, done } = input;
  const limits = verdictLimits(ctx.config, plan.timeout_minutes);
  const worker = workerFacts(done, input.controllerCostUsd);
  const facts: CheckFacts = input.baseline?.accepted ? { baseline: input.baseline } : {};
  const out: CheckOutput = { worker, facts, audit: null, profit: isProfitTicket(plan.ticket_id, ctx.config.evidence.profitTickets), gateMs: 0, gateCommandMs: 0, auditMs: 0, auditCostUsd: 0, auditSpend: [], auditRecords: [] };
  const now = (): Findings => findings(worker, facts, limits);
  const first = now();
  if (first.workerError) throw new FactoryError(first.workerError, 'worker-error');
  if (first.reasons.length === 0) await checkGate(ctx, input, out);
  if (auditNeeded(now(), input.escalate, input.built.risk.auditorRequired)) await checkAudit(ctx, input, out);
  if (out.profit && now().reasons.length === 0) {
    const kpi = done.result.kind === 'read' ? done.result.result.kpi_summary : undefined;
    const pnl = readWorkerPnl(done.staging.output, kpi, ctx.log);
    if (pnl) out.pnl = pnl;
    else facts.pnlMissing = true;
  }
  const review = ctx.deps.review;
  if (review && now().reasons.length === 0 && out.gate) await reviewChangeset(ctx, review, input, out);
  return out;
}

/**
 * The Gate's container runner over the staging copy, read-only, one container for all its steps
 * (runGate removes it when the Gate ends): no second copy of the tree (10 s on 10,000 files), and
 * what the Gate verified is byte for byte what ADJUST applies — the tests cannot rewrite it on the way.
 */
function gateContainerRunner(ctx: CycleContext, plan: Plan, staging: StagingCopy): StageRunner {
  const { config } = ctx;
  return ctx.backend.gateRunner({
    treeDir: staging.workspace,
    image: gateImageName(ctx),
    limits: jobLimits(config.worker),
    user: `${staging.uid}:${staging.gid}`,
    readOnly: true,
    runId: plan.run_id,
    ticket: plan.ticket_id,
    repo: ctx.root,
    cleanupPath: staging.dir,
    docker: ctx.docker,
    logger: ctx.log,
  });
}

/** The image of the cycle's Gate containers: the run's `--image`, else `worker.image`. */
function gateImageName(ctx: CycleContext): string {
  return ctx.opts.image ?? ctx.config.worker.image;
}

/** The Gate on the staging copy (gate.runIn "host" runs on it directly). */
async function checkGate(ctx: CycleContext, input: CheckInput, out: CheckOutput): Promise<void> {
  const { plan, done } = input;
  const ws = done.staging.workspace;
  const tGate = Date.now();
  const runner = ctx.config.gate.runIn === 'host' ? new HostRunner({ cwd: ws }) : gateContainerRunner(ctx, plan, done.staging);
  if (runner.kind === 'container') out.gateImage = gateImageName(ctx);
  const gate = await runGate({ config: ctx.config, treeDir: ws, treeHash: stagingTreeHash(done.staging, done.changes, done.after), runner, cache: new GateCache(ctx.paths.gateCache), runId: plan.run_id, logger: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  out.gateMs = Date.now() - tGate;
  ctx.lap('Gate');
  out.gateCommandMs = gateCommandMs(gate);
  ctx.emit({ type: 'output', runId: plan.run_id, source: 'gate', text: gate.log });
  out.gate = gate;
  out.facts.gate = gateFacts(gate);
}

/**
 * The read-only Auditor over the changeset, on its routed agent and model, with what is left of
 * the cycle budget (≥ the reserve held back from the Worker); its report is kept under
 * `<autopilot>/audits/`. A budget the Auditor runs out of is a budget cap, not its verdict.
 */
async function checkAudit(ctx: CycleContext, input: CheckInput, out: CheckOutput): Promise<void> {
  const { root, config, opts, paths } = ctx;
  const { plan, done } = input;
  const controllerUsd = input.controllerCostUsd ?? 0;
  const budgetUsd = auditorBudget(config.killSwitch.budgetUsd, controllerUsd, done.agent.gateway.costUsd);
  if (budgetUsd <= 0) {
    out.facts.auditBudgetHit = { spentUsd: out.worker.spentUsd };
    return;
  }
  const req: AuditRequest = { root, config, plan, workspace: done.staging.workspace, changes: done.changes, rules: readText(root, config.ssot.rules), ...(opts.replayDir ? { replayFile: path.join(opts.replayDir, `${plan.ticket_id}.audit.json`) } : {}), ...(opts.image ? { image: opts.image } : {}), ...(opts.runtimeFile ? { runtimeFile: opts.runtimeFile } : {}), reason: input.escalate ? 'escalation' : 'risk', ...(opts.keys ? { keys: opts.keys } : {}), budgetUsd };
  const route = { ...auditorRouteOf(req), tier: plan.routing?.auditor?.tier };
  const tierOf = tierOfModel(config);
  const records: GatewayRecord[] = [];
  if (input.res) input.res.auditorSpend = () => spendFromRecords('auditor', route, records, tierOf);
  req.onRecord = (r) => {
    records.push(r);
    ctx.emit({ type: 'spend', runId: plan.run_id, role: 'auditor', spend: spendFromRecords('auditor', route, records, tierOf) });
  };
  const tAudit = Date.now();
  const audit = await runAuditor(req, { docker: ctx.docker, logger: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  out.auditMs = Date.now() - tAudit;
  out.auditCostUsd = audit.costUsd;
  out.auditRecords = audit.records;
  out.auditSpend = spendFromRecords('auditor', route, audit.records, tierOf);
  ctx.emit({ type: 'spend', runId: plan.run_id, role: 'auditor', spend: out.auditSpend });
  if (audit.budgetHit) {
    out.facts.auditBudgetHit = { spentUsd: out.worker.spentUsd + (spendTotal(out.auditSpend) || audit.costUsd) };
    return;
  }
  await fs.promises.mkdir(paths.audits, { recursive: true });
  const reportFile = path.join(paths.audits, `${plan.run_id}.json`);
  await atomicWrite(reportFile, JSON.stringify(audit.report, null, 2) + '\n');
  out.audit = { verdict: audit.report.verdict, violations: audit.report.violations.length, report: rel(root, reportFile) };
  out.facts.audit = audit.report;
}

/** The review hook: a person approves or rejects the verified changeset before anything is applied. */
async function reviewChangeset(ctx: CycleContext, review: NonNullable<CycleDeps['review']>, input: CheckInput, out: CheckOutput): Promise<void> {
  const { plan, done } = input;
  const changes = done.changes.map((c) => ({ path: c.path, kind: c.kind }));
  ctx.emit({ type: 'review', runId: plan.run_id, changes: changes.length });
  const decision = await review({ runId: plan.run_id, ticketId: plan.ticket_id, acIds: [...plan.ac_ids], baseCommit: input.baseCommit, workspace: done.staging.workspace, changes, audit: out.audit });
  if (ctx.signal?.aborted) throw new FactoryError('interrupted during the changeset review', 'interrupted');
  out.facts.review = decision;
  out.review = decision;
}

/**
 * The Worker's pnl_breakdown.json (untrusted: regular file, ≤ 1 MB), valid against the evidence
 * schema, its gross − fees − slippage giving its net and that net the one its KPI states (the
 * evidence validator's rules, checked here so an inconsistent PnL is the Worker's FAIL, not a
 * PASS whose evidence cannot validate). Why it is not valid goes to the log.
 */
export function readWorkerPnl(outDir: string, kpi: Record<string, unknown> | undefined, log: CycleContext['log']): Record<string, unknown> | undefined {
  const file = path.join(outDir, 'pnl_breakdown.json');
  if (!fs.existsSync(file) && !isSymlink(file)) return undefined;
  try {
    const pnl = readUntrustedJson(file, pnlBreakdownSchema, 1024 * 1024, 'pnl_breakdown.json');
    const problems = pnlProblems(pnl, kpi);
    if (problems.length === 0) return pnl;
    log.warn(`the Worker's pnl_breakdown.json is not valid: ${problems.join('; ')}`);
  } catch (err) {
    log.warn(`the Worker's pnl_breakdown.json is not valid: ${errorMessage(err)}`);
  }
  return undefined;
}
