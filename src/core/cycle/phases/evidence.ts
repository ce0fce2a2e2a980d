/**
 * The evidence of a cycle: the run folder of a PASS (validated before anything refers to it), and
 * of a FAIL, BLOCKED or ABORT (marked with its verdict, so a person can see why).
 */
import type { SpendRole } from '../../contracts/history-entry';
import type { ReviewFeedback } from '../../contracts/review-feedback';
import type { WorkerResult } from '../../contracts/result';
import type { GatewayRecord } from '../../gateway/gateway';
import type { BaselineRecord, VerifiedRecord } from '../../evidence/evidence-format';
import { collectGitInfo } from '../../evidence/git-info';
import { buildVerifiedTree } from '../../evidence/verified-tree';
import { validateEvidence } from '../../evidence/validator';
import { writeEvidence } from '../../evidence/writer';
import type { GateReport } from '../../gate/gate-model';
import { FactoryError } from '../../util/errors';
import type { CycleContext } from '../cycle-context';
import type { BaselineReport } from '../cycle-types';
import { costByRole } from '../spend';
import type { ActInput } from './act-input';


/**
 * The evidence's gateway.jsonl: every metered call of the cycle, each line with the role whose
 * gateway made it (Controller model, Worker, Auditor). No headers or bodies: provider, model, tokens, cost.
 */
export function gatewayLines(byRole: readonly [SpendRole, readonly GatewayRecord[]][]): string {
  return byRole.flatMap(([role, records]) => records.map((r) => JSON.stringify({ role, ...r }))).join('\n');
}

/**
 * The Worker's result.json for the evidence: as read and validated, with `cost_estimate_usd` the
 * gateway's metered Worker cost and the Worker's own figure kept as `cost_claimed_by_worker_usd`.
 */
export function meteredResult(result: WorkerResult & { forced?: boolean }, meteredUsd: number): Record<string, unknown> {
  const { forced: _forced, ...read } = result;
  return { ...read, cost_estimate_usd: meteredUsd, cost_claimed_by_worker_usd: result.cost_estimate_usd };
}

/**
 * The "Request changes" of this attempt's review, as stored for the next attempt (run_id = this
 * run), or undefined when the review approved, rejected without feedback or was not asked.
 */
export function requestedChanges(a: ActInput): ReviewFeedback | undefined {
  const r = a.checked.review;
  return r && !r.approved && r.feedback ? { ...r.feedback, ticket_id: a.plan.ticket_id, run_id: a.plan.run_id } : undefined;
}

/**
 * The evidence's review files: `review.json`, the person's decision when it requested changes
 * (its reason and feedback), and `feedback.json`, the review comments this attempt's Worker was given.
 */
export function feedbackFiles(a: ActInput): { path: string; content: string }[] {
  const requested = requestedChanges(a);
  const r = a.checked.review;
  const given = a.done.feedback;
  return [
    ...(requested && r && !r.approved ? [{ path: 'review.json', content: JSON.stringify({ approved: false, reason: r.reason, feedback: requested }, null, 2) + '\n' }] : []),
    ...(given ? [{ path: 'feedback.json', content: JSON.stringify({ source: given.source, ...given.feedback }, null, 2) + '\n' }] : []),
  ];
}

/** The baseline as the evidence records it (its duration is the cycle's, not the evidence's). */
export function baselineRecord(b: BaselineReport): BaselineRecord {
  return { commit: b.commit, tree: b.tree, status: b.status, failing: b.failing.map((f) => ({ ...f })), accepted: b.accepted, cached: b.cached };
}

/**
 * What the PASS verified: the git tree of the base commit (the integrated HEAD when it moved) with the changeset as the staging copy
 * holds it (what the Gate ran on, byte for byte), and the Gate's image by name and id.
 */
async function verifiedRecord(ctx: CycleContext, a: ActInput, gate: GateReport): Promise<{ record: VerifiedRecord; linesAdded: number; linesRemoved: number }> {
  // Integrated onto a HEAD that moved: that HEAD with the changeset is what the Gate verified and the commit's parent.
  const base = a.integration?.kind === 'integrated' ? a.integration.head : ctx.state.baseCommit;
  const v = await buildVerifiedTree(ctx.root, base, a.done.staging.workspace, a.done.changes, ctx.signal);
  const container = gate.runner === 'container';
  return {
    record: { tree: v.tree, base_commit: v.base, prefix: v.prefix, changes: v.changes, image: container ? (a.checked.gateImage ?? null) : null, image_id: container ? gate.runnerIdentity : null },
    linesAdded: v.linesAdded,
    linesRemoved: v.linesRemoved,
  };
}

/** The evidence run of a PASS, validated before anything refers to it. */
export async function writeRunEvidence(ctx: CycleContext, a: ActInput, gate: GateReport): Promise<void> {
  const { root, config, paths } = ctx;
  const { plan, outcome } = a;
  const baseCommit = ctx.state.baseCommit;
  const result = a.done.result.kind === 'read' ? a.done.result.result : null;
  const pnl = a.checked.pnl;
  const gatewayLog = gatewayLines([['controller', a.controllerRecords ?? []], ['worker', a.done.agent.records], ['auditor', a.checked.auditRecords]]);
  const extraFiles = [
    ...(gatewayLog ? [{ path: 'gateway.jsonl', content: gatewayLog + '\n' }] : []),
    ...(result ? [{ path: 'result.json', content: JSON.stringify(meteredResult(result, a.done.agent.gateway.costUsd), null, 2) + '\n' }] : []),
    ...feedbackFiles(a),
  ];
  const [git, verified] = await Promise.all([collectGitInfo(root, a.startedAt, ctx.signal), verifiedRecord(ctx, a, gate)]);
  ctx.lap('git info, verified tree');
  const evidence = await writeEvidence(paths.evidence, {
    runId: plan.run_id,
    ticketId: plan.ticket_id,
    taskName: a.built.ticket?.title ?? '',
    acIds: plan.ac_ids,
    status: 'PASS',
    startedAt: a.startedAt,
    endedAt: ctx.now(),
    git: { ...git, commit: baseCommit },
    gate,
    commands: [{ title: `Worker: ${plan.agent}`, command: ['factory', 'run', '--ticket', plan.ticket_id, '--agent', plan.agent], status: result?.status ?? 'PASS' }],
    kpi: { ...(result?.kpi_summary ?? {}), files_changed: outcome.changes.length, agent: plan.agent, ...(plan.model ? { model: plan.model } : {}), cost_by_role: costByRole(outcome.spend ?? []) },
    ...(a.checked.profit && pnl ? { pnlBreakdown: pnl } : {}),
    profitRelated: a.checked.profit,
    worker: { claimedStatus: result?.status ?? 'NONE', recordedStatus: 'PASS', overridden: false, ...(result?.model_used ? { model: result.model_used } : {}) },
    costUsd: outcome.costUsd,
    ...(extraFiles.length ? { extraFiles } : {}),
    verified: verified.record,
    changeset: { files: outcome.changes.length, linesAdded: verified.linesAdded, linesRemoved: verified.linesRemoved },
    ...(outcome.baseline ? { baseline: baselineRecord(outcome.baseline) } : {}),
  });
  ctx.lap('evidence written');
  const check = validateEvidence(evidence.dir, { profitTickets: config.evidence.profitTickets });
  if (!check.valid) throw new FactoryError(`the evidence of ${plan.run_id} does not validate: ${check.problems.map((p) => p.message).join('; ')}`, 'evidence-invalid');
}

