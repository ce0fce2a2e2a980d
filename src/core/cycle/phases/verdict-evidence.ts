/**
 * Evidence of a cycle that did not PASS (FAIL, BLOCKED, TIMEOUT): its own run folder, marked with
 * the verdict and the reasons, so a person can see why. After DO and CHECK it holds what they
 * found (the Gate's report, the scope violations, the Auditor's verdict, the Worker's result.json,
 * the metered gateway calls, the changes); a cycle refused in PLAN or over budget has its reasons
 * only. Never committed; writing it never turns the verdict into a crash.
 */
import type { Plan } from '../../contracts/plan';
import { collectGitInfo } from '../../evidence/git-info';
import { validateEvidence } from '../../evidence/validator';
import { writeEvidence, type CommandRecord, type EvidenceInput } from '../../evidence/writer';
import { errorMessage } from '../../util/errors';
import type { CycleContext } from '../cycle-context';
import type { CycleOutcome } from '../cycle-types';
import { bullets, claimRunFolder, evidenceFolderName } from '../nonpass-evidence';
import { costByRole } from '../spend';
import type { ActInput } from './act-input';
import { feedbackFiles, gatewayLines, meteredResult, requestedChanges } from './evidence';
import { feedbackReadmeLines } from '../feedback';

/** What a cycle that did not PASS leaves as evidence: its plan, outcome so far, and (after CHECK) what DO and CHECK found. */
export interface VerdictEvidenceInput {
  plan: Plan;
  outcome: CycleOutcome;
  act?: ActInput;
  /** The merge queue sent the PASSed changeset back (parallel/integrate.ts): why, whether it counts, the HEAD it met. */
  requeue?: { reason: string; countsAsRetry: boolean; head: string };
}

/**
 * Evidence of a FAIL, BLOCKED or TIMEOUT cycle, marked with its verdict; sets `outcome.evidencePath`
 * (repo-relative, for the history line). A failure to write it is logged as a warning, never thrown.
 */
export async function writeVerdictEvidence(ctx: CycleContext, v: VerdictEvidenceInput): Promise<void> {
  try {
    const { runId, dir } = await writeVerdictRun(ctx, v);
    v.outcome.evidencePath = evidenceFolderName(ctx.config.paths.evidence, runId);
    const check = validateEvidence(dir, { profitTickets: ctx.config.evidence.profitTickets });
    if (!check.valid) ctx.log.warn(`the ${v.outcome.status} evidence of ${v.plan.run_id} does not validate: ${check.problems.map((p) => p.message).join('; ')}`);
  } catch (err) {
    ctx.log.warn(`could not write the ${v.outcome.status} evidence of ${v.plan.run_id} (its history line still says why): ${errorMessage(err)}`);
  }
}

/** Write the run folder; returns its run id (the cycle's, unless that folder was taken) and path. */
async function writeVerdictRun(ctx: CycleContext, v: VerdictEvidenceInput): Promise<{ runId: string; dir: string }> {
  const { plan, outcome, act } = v;
  const baseCommit = ctx.state.baseCommit || null;
  const startedAt = act?.startedAt ?? new Date(ctx.state.startedAt);
  const folder = await claimRunFolder(ctx.paths.evidence, plan.run_id, startedAt, plan.ticket_id, baseCommit);
  const git = await collectGitInfo(ctx.root, ctx.now());
  const input: EvidenceInput = {
    runId: folder.runId,
    ticketId: plan.ticket_id,
    taskName: act?.built.ticket?.title ?? '',
    acIds: plan.ac_ids,
    status: outcome.status,
    startedAt,
    endedAt: ctx.now(),
    git: { ...git, commit: baseCommit },
    costUsd: outcome.costUsd,
    reasons: reasonsOf(v),
    profitRelated: act?.checked.profit ?? false,
    kpi: { agent: plan.agent, ...(plan.model ? { model: plan.model } : {}), cost_by_role: costByRole(outcome.spend ?? []), files_changed: outcome.changes.length, scope_violations: outcome.violations.length, ...(folder.runId !== plan.run_id ? { cycle_run_id: plan.run_id } : {}) },
    reproduce: [`git checkout ${(baseCommit ?? 'HEAD').slice(0, 12)}`, `factory run --ticket ${plan.ticket_id} --agent ${plan.agent}`, `factory evidence-check ${folder.runId}`],
    ...(act ? afterCheck(act) : {}),
    notes: whatHappened(v, folder.runId),
  };
  const written = await writeEvidence(ctx.paths.evidence, input);
  return { runId: folder.runId, dir: written.dir };
}

/**
 * Why the cycle ended as it did: the outcome's reasons, and when a kill switch blocks the ticket
 * after this attempt, that too (recordVerdict adds it to the outcome only after the evidence).
 */
function reasonsOf(v: VerdictEvidenceInput): string[] {
  const reasons = [...v.outcome.reasons];
  const block = v.act?.verdict.blockReason;
  if (block && !reasons.some((r) => r.includes(block))) reasons.push(`ticket ${v.plan.ticket_id} set BLOCKED: ${block}`);
  return reasons.length ? reasons : [`the cycle ended ${v.outcome.status}`];
}

/** What DO and CHECK produced, in the evidence's terms: Gate report, Worker command and result, extra files. */
function afterCheck(a: ActInput): Partial<EvidenceInput> {
  const { plan, outcome } = a;
  const result = a.done.result.kind === 'read' ? a.done.result.result : null;
  const gatewayLog = gatewayLines([['controller', a.controllerRecords ?? []], ['worker', a.done.agent.records], ['auditor', a.checked.auditRecords]]);
  const audit = a.checked.facts.audit;
  const changes = {
    changes: outcome.changes,
    violations: outcome.violations.map((x) => ({ path: x.path, rule: x.rule })),
    ...(a.done.result.kind === 'rejected' ? { result_rejected: a.done.result.error } : a.done.result.kind === 'missing' ? { result_missing: true } : {}),
  };
  const extraFiles: NonNullable<EvidenceInput['extraFiles']> = [
    { path: 'changes.json', content: JSON.stringify(changes, null, 2) + '\n' },
    ...(gatewayLog ? [{ path: 'gateway.jsonl', content: gatewayLog + '\n' }] : []),
    ...(result ? [{ path: 'result.json', content: JSON.stringify(meteredResult(result, a.done.agent.gateway.costUsd), null, 2) + '\n' }] : []),
    ...(audit ? [{ path: 'audit.json', content: JSON.stringify({ ...audit, ...(outcome.audit ? { report: outcome.audit.report } : {}) }, null, 2) + '\n' }] : []),
    ...feedbackFiles(a),
  ];
  const worker: CommandRecord = { title: `Worker: ${plan.agent}`, command: ['factory', 'run', '--ticket', plan.ticket_id, '--agent', plan.agent], status: result?.status ?? (a.done.result.kind === 'missing' ? 'NO RESULT' : 'REJECTED') };
  return {
    ...(a.checked.gate ? { gate: a.checked.gate } : {}),
    commands: [worker],
    worker: { claimedStatus: result?.status ?? 'NONE', recordedStatus: outcome.status, overridden: result !== null && result.status !== outcome.status, ...(result?.model_used ? { model: result.model_used } : {}) },
    extraFiles,
  };
}

/** README's "What happened": the verdict, its reasons, the violations, the Gate and Auditor, where the staging copy is. */
function whatHappened(v: VerdictEvidenceInput, folderId: string): string[] {
  const { plan, outcome, act } = v;
  const lines = ['## What happened', '', `The cycle ended **${outcome.status}**: nothing of it was applied to the repository or committed; this folder is not committed either.`, ''];
  if (folderId !== plan.run_id) lines.push(`Cycle run id: ${plan.run_id} (its own folder name was taken).`, '');
  const cause = act?.verdict.cause;
  if (cause && cause !== outcome.status) lines.push(`The attempt itself counts as ${cause}; a kill switch then made the cycle ${outcome.status}.`, '');
  if (v.requeue) {
    const counts = v.requeue.countsAsRetry ? 'It counts as a retry (the change is at fault on that HEAD).' : 'It does not count as a retry.';
    lines.push(`The verdict was PASS on the cycle's base; integrating it onto HEAD ${v.requeue.head.slice(0, 12)} failed, so the ticket went back to the queue. ${counts}`, '');
  }
  lines.push('Reasons:', '', ...bullets(reasonsOf(v)), '');
  if (outcome.violations.length) lines.push('Changes outside the plan\'s scope:', '', ...bullets(outcome.violations.slice(0, 100).map((x) => `${x.path} (${x.rule})`)), '');
  if (act) {
    const gate = act.checked.facts.gate;
    lines.push(`Gate: ${gate ? `${gate.status}${gate.failedAt ? ` at ${gate.failedAt}` : ''} (gate.log, artifacts/)` : 'not run'}`);
    if (outcome.audit) lines.push(`Auditor: ${outcome.audit.verdict} with ${outcome.audit.violations} violation(s) (audit.json; report ${outcome.audit.report})`);
    lines.push(`Changes the Worker made: ${outcome.changes.length} (changes.json)`, '');
    const requested = requestedChanges(act);
    if (requested) lines.push(...feedbackReadmeLines('### Changes requested in review (review.json; kept for the next attempt)', requested));
    if (act.done.feedback) lines.push(...feedbackReadmeLines("### Review comments this attempt's Worker was given (feedback.json)", act.done.feedback.feedback));
  } else {
    lines.push('The cycle stopped before any Worker ran: no Gate, no changes.', '');
  }
  lines.push(outcome.stagingKept ? `The staging copy is kept for inspection at \`${outcome.stagingKept}\` (workspace/ is the Worker's tree, agent/ what the agent said); only the newest few are kept.` : 'No staging copy was kept.');
  return lines;
}
