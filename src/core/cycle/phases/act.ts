/**
 * ADJUST: act on the verdict. PASS: back up the Controller's files, apply the changeset
 * (conflict-checked), set the ledger and roadmap cells, write and validate the evidence, run DocOps
 * on the adjusted documents (a FAIL rolls all of it back: no commit), record, commit and push. Anything else: nothing applied, the staging copy kept, the verdict recorded
 * (and the ticket BLOCKED when a cap fired).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyChangeset } from '../../changeset/apply';
import type { Plan } from '../../contracts/plan';
import { gateCommandMs, type GateReport } from '../../gate/gate-model';
import type { AcceptanceCriterion } from '../../ssot/model';
import { editDocument, setAcStatus, setTicketStatus } from '../../ssot/writer';
import { atomicWrite } from '../../util/atomic-write';
import { errorMessage } from '../../util/errors';
import { monthOf } from '../cost-summary';
import { faultPoint, rel, ssotDocs, type CycleContext } from '../cycle-context';
import type { CycleOutcome } from '../cycle-types';
import { amendPaths, commitPaths, headCommit, onAnyRemote } from '../git-ops';
import { restoreCycleStatuses } from '../in-progress';
import { integrate, recordRequeue, stillCurrent, type Requeue } from '../parallel/integrate';
import { rollbackAdjust } from '../recover';
import { writeCycleState } from '../cycle-state';
import { markNotPushed, pushToUpstream } from '../push';
import { costLine } from '../spend';
import type { Verdict } from '../verdict';
import type { ActInput } from './act-input';
import { docOpsOnAdjusted, failedAdjustVerdict } from './adjust-docops';
import { writeRunEvidence } from './evidence';
import { writeVerdictEvidence } from './verdict-evidence';
import { settleFeedback } from '../feedback';
import { blockTicket, record } from './record';

export type { ActInput } from './act-input';

/**
 * Run ADJUST: apply a PASS onto the current HEAD — integrated first (parallel/integrate.ts); an
 * integration made earlier (`a.integration`, while the cycle waited for the merge queue) is taken
 * when HEAD has not moved since, else made again; a requeue is recorded, nothing applied — or
 * record any other verdict with the staging copy named as kept.
 */
export async function actPhase(ctx: CycleContext, a: ActInput): Promise<void> {
  if (a.verdict.status === 'PASS' && a.checked.gate) {
    const early = a.integration && (await stillCurrent(ctx, a.integration, ctx.state.baseCommit)) ? a.integration : undefined;
    const integration = early ?? (await integrate(ctx, { plan: a.plan, baseCommit: ctx.state.baseCommit, done: a.done, checked: a.checked }));
    // The integrated Gate's commands are Gate time, not the Controller's (an earlier integration counted its own).
    if (!early && integration.kind !== 'same-base' && integration.gate) a.outcome.timings.gateCommandMs += gateCommandMs(integration.gate);
    if (integration.kind === 'requeue') return recordRequeue(ctx, a, integration);
    return adjustPass(ctx, { ...a, integration }, integration.kind === 'integrated' ? integration.gate : a.checked.gate);
  }
  a.outcome.stagingKept = a.done.staging.dir;
  await recordVerdict(ctx, a.plan, a.outcome, a.verdict, a);
}

/** A verdict other than PASS: its status and history line; a fired cap also blocks the ticket. */
export async function recordVerdict(ctx: CycleContext, plan: Plan, outcome: CycleOutcome, verdict: Verdict, act?: ActInput): Promise<void> {
  await restoreCycleStatuses(ctx);
  outcome.status = verdict.status;
  // FAIL and BLOCKED leave evidence too (marked with their verdict), before the history line names it.
  await writeVerdictEvidence(ctx, { plan, outcome, ...(act ? { act } : {}) });
  if (verdict.blockReason) {
    await blockTicket({ root: ctx.root, config: ctx.config, paths: ctx.paths, plan, reason: verdict.blockReason, cause: verdict.cause, now: ctx.now, signal: ctx.signal }, outcome);
  } else {
    await record(ctx.paths, plan, outcome, verdict.cause, ctx.now);
  }
  // The attempt's verdict is recorded: the feedback it was given is used; a "Request changes" waits for the next one.
  if (act) await settleFeedback(ctx.paths.feedback, plan, act.done.feedback, act.checked.review, ctx.log);
}

/**
 * ADJUST on PASS. Every file it will rewrite is backed up first and named in the state file, so a
 * crash anywhere below is rolled back (or, once the commit exists, completed) on the next start —
 * never applied twice.
 */
async function adjustPass(ctx: CycleContext, a: ActInput, gate: GateReport): Promise<void> {
  const { root, config, paths } = ctx;
  const { plan, outcome } = a;
  const evidenceRel = `${config.paths.evidence.replace(/\/+$/, '')}/${plan.run_id}/`;
  // The commit's parent must be the HEAD the Gate verified the changeset on (a person may commit meanwhile).
  const onto = integratedHead(ctx, a);
  const backupDir = await backupControllerFiles(ctx, a);
  ctx.lap('ADJUST backups');

  const applied = await applyChangeset({ hostRoot: root, stagingRoot: a.done.staging.workspace, changes: a.done.changes, base: a.done.before });
  if (!applied.applied) {
    // SECURITY 15: the user edited a file in scope during the cycle; nothing was written, so
    // nothing is rolled back either (that would overwrite the user's edit).
    return rejectAdjust(ctx, a, `conflict: the host changed under the cycle: ${applied.conflicts.map((c) => `${c.path} (${c.reason})`).join(', ')}`, { rollback: false });
  }
  faultPoint('ADJUST:applied');
  ctx.lap('changeset applied');

  await updateDocuments(ctx, a, evidenceRel);
  faultPoint('ADJUST:documents');
  ctx.lap('ledger and roadmap');

  await writeRunEvidence(ctx, a, gate);
  ctx.lap('evidence written and checked');

  // Spec §8-3: DocOps on the adjusted documents, before the history line says PASS and before the commit.
  const docops = await docOpsOnAdjusted(ctx, outcome.baseline);
  outcome.docops = { status: docops.status, durationMs: docops.durationMs };
  ctx.log.info(`ADJUST: DocOps on the adjusted documents: ${docops.status} (${docops.report.guards.map((g) => `${g.name} ${g.status}`).join(', ')}; ${docops.durationMs} ms)`);
  if (docops.tolerated.length) ctx.log.warn(`ADJUST: DocOps guard(s) ${docops.tolerated.join(', ')} fail as on the accepted red baseline: not held against this cycle`);
  faultPoint('ADJUST:docops');
  ctx.lap('DocOps on the adjusted documents');
  if (docops.reason) return rejectAdjust(ctx, a, docops.reason, { rollback: true });
  const movedAfter = await headMovedFrom(ctx, onto);
  if (movedAfter) return rejectAdjust(ctx, a, movedAfter.reason, { rollback: true, requeue: movedAfter });

  outcome.evidencePath = evidenceRel;
  outcome.status = 'PASS';
  const summary = await record(paths, plan, outcome, 'PASS', ctx.now, { evidence: evidenceRel, changes: outcome.changes.length });
  faultPoint('ADJUST:recorded');
  await settleFeedback(paths.feedback, plan, a.done.feedback, undefined, ctx.log);
  ctx.lap('evidence checked, history recorded');

  if (config.git.commit) await commitPass(ctx, a, evidenceRel, summary);
  await fs.promises.rm(backupDir, { recursive: true, force: true });
}

/**
 * ADJUST fails a PASS verdict (DocOps on the adjusted documents, a conflict with the host): no
 * commit. With `rollback`, everything ADJUST wrote is undone by the crash recovery's own rollback
 * (the changeset paths from the base commit, the Controller's files from their backups, the PASS
 * evidence removed); then the cycle is recorded FAIL (BLOCKED when it is the attempt that reaches
 * the retry cap) with its reason and FAIL evidence, the AC statuses restored, the staging copy kept.
 */
async function rejectAdjust(ctx: CycleContext, a: ActInput, reason: string, opts: { rollback: boolean; requeue?: Requeue }): Promise<void> {
  const { plan, outcome } = a;
  ctx.log.warn(`ADJUST: ${reason}: ${opts.rollback ? 'rolled back, ' : ''}nothing is committed`);
  // A crash in the rollback leaves the state in ADJUST with its backups: the next start repeats it.
  if (opts.rollback) await rollbackAdjust(ctx.root, ctx.config, ctx.state);
  else if (ctx.state.backupDir) await fs.promises.rm(ctx.state.backupDir, { recursive: true, force: true });
  // Nothing of ADJUST is left on the host, so the state leaves ADJUST: a crash from here on is
  // recovered like a FAIL decided in CHECK (ABORTED unless the history line below exists), never by
  // a rollback, which would remove this FAIL's own evidence (or overwrite the user's edit).
  delete ctx.state.changes;
  delete ctx.state.backups;
  delete ctx.state.backupDir;
  ctx.state.phase = 'CHECK';
  await writeCycleState(ctx.statePath, ctx.state);
  faultPoint('ADJUST:rolled-back');
  ctx.lap(opts.rollback ? 'ADJUST rolled back' : 'ADJUST refused');
  outcome.evidencePath = null;
  if (opts.requeue) return recordRequeue(ctx, a, opts.requeue);
  outcome.stagingKept = a.done.staging.dir;
  outcome.reasons.push(reason);
  await recordVerdict(ctx, plan, outcome, failedAdjustVerdict(ctx, plan.ticket_id, plan.run_id, reason), a);
}

/** The commit ADJUST applies onto: the integrated HEAD, else the cycle's base. */
export function integratedHead(ctx: CycleContext, a: ActInput): string {
  return a.integration?.kind === 'integrated' ? a.integration.head : ctx.state.baseCommit;
}

/** A requeue (not counted) when HEAD is no longer `onto`, the commit the Gate verified the changeset on. */
async function headMovedFrom(ctx: CycleContext, onto: string): Promise<Requeue | null> {
  const head = await headCommit(ctx.root, ctx.signal);
  if (head === onto) return null;
  return { kind: 'requeue', head: head ?? '', countsAsRetry: false, reason: `HEAD moved to ${head?.slice(0, 7) ?? '(none)'} during ADJUST, after the changeset was verified on ${onto.slice(0, 7)}; the ticket goes back to the queue (not counted as a retry)` };
}

/** Back up every Controller file ADJUST rewrites, then enter ADJUST with them named in the state. */
async function backupControllerFiles(ctx: CycleContext, a: ActInput): Promise<string> {
  const { root, config, paths } = ctx;
  const month = monthOf(ctx.now().toISOString());
  const controllerFiles = [...ssotDocs(config), rel(root, paths.history), rel(root, paths.costSummary(month)), rel(root, paths.plan)];
  const backupDir = path.join(paths.autopilot, `.adjust-${a.plan.run_id}`);
  const backups: Record<string, string | null> = {};
  await fs.promises.mkdir(backupDir, { recursive: true });
  for (const [i, f] of controllerFiles.entries()) {
    const src = path.join(root, f);
    if (fs.existsSync(src)) {
      const dst = path.join(backupDir, String(i));
      await atomicWrite(dst, fs.readFileSync(src));
      backups[f] = dst;
    } else backups[f] = null;
  }
  await ctx.setPhase('ADJUST', { changes: a.outcome.changes, backups, backupDir });
  return backupDir;
}

/** Ledger: every AC of the plan DONE with its evidence and base commit; roadmap: the ticket's count and status. */
async function updateDocuments(ctx: CycleContext, a: ActInput, evidenceRel: string): Promise<void> {
  const { root, config } = ctx;
  const { plan } = a;
  const shortBase = integratedHead(ctx, a).slice(0, 7);
  const ledger = path.join(root, config.ssot.ledger);
  await editDocument(ledger, (t) => plan.ac_ids.reduce((text, id) => setAcStatus(text, id, { status: 'DONE', evidence: evidenceRel, commit: shortBase }), t));
  // Roadmap: DONE/TOTAL and status of the ticket from the ledger as it now reads.
  const done = new Set(plan.ac_ids);
  const ticketAcs: AcceptanceCriterion[] = a.index.ledger.filter((x) => x.ticketId === plan.ticket_id);
  const doneCount = ticketAcs.filter((x) => x.status === 'DONE' || done.has(x.id)).length;
  const total = a.built.ticket?.total ?? ticketAcs.length;
  const ticketStatus = doneCount >= total ? 'DONE' : doneCount > 0 ? 'PARTIAL' : 'OPEN';
  if (a.built.ticket) {
    await editDocument(path.join(root, config.ssot.roadmap), (t) => setTicketStatus(t, plan.ticket_id, { status: ticketStatus, done: doneCount, total }));
  }
}

/** The one commit of a PASS (changeset, documents, evidence, records), then the push if configured. */
async function commitPass(ctx: CycleContext, a: ActInput, evidenceRel: string, summary: string): Promise<void> {
  const { root, config, paths } = ctx;
  const { plan, outcome } = a;
  const files = [...new Set([...outcome.changes.map((c) => c.path), ...ssotDocs(config).filter((d) => fs.existsSync(path.join(root, d))), evidenceRel.replace(/\/$/, ''), rel(root, paths.history), rel(root, summary), rel(root, paths.plan)])];
  const message = [
    `factory: ${plan.ticket_id} PASS — ${plan.ac_ids.join(', ')} DONE`,
    '',
    `Evidence: ${evidenceRel}`,
    costLine(outcome.costUsd, outcome.spend ?? [], { agent: plan.agent, model: plan.model }, plan.risk_level),
    `Changed: ${outcome.changes.map((c) => `${c.path} (${c.kind})`).join(', ')}`,
    '',
    `Factory-Run: ${plan.run_id}`,
    '',
  ].join('\n');
  outcome.commit = await commitPaths(root, files, message, ctx.signal);
  faultPoint('ADJUST:committed');
  // The merge queue's last step: the PASS is HEAD now (after `integrating` and `gate` when HEAD had moved).
  ctx.emit({ type: 'merge', runId: plan.run_id, step: 'committed', head: outcome.commit });
  ctx.lap('committed');
  if (config.git.push) {
    // The branch's upstream, with the same guards as every host git call (no hooks: no pre-push
    // program runs); a failure keeps the commit, is reported, and the next run retries it.
    const pushed = await pushToUpstream(root, ctx.signal);
    outcome.pushed = pushed.pushed;
    if (!pushed.pushed) {
      outcome.pushError = pushed.error ?? 'git push failed';
      outcome.reasons.push(`git push failed (the commit is kept): ${outcome.pushError}; the next run retries the push`);
      outcome.commit = await recordNotPushed(ctx, plan.run_id, outcome.commit, outcome.pushError);
    }
    ctx.emit({ type: 'push', when: 'commit', ...pushed });
    ctx.lap('pushed');
  }
}

/**
 * A failed push: the run's history line says `pushed: false` (and why) in the commit itself — the
 * commit is amended, which is safe because it was never published (no remote branch holds it).
 * Returns the commit that now holds the run (unchanged when it could not be marked).
 */
async function recordNotPushed(ctx: CycleContext, runId: string, commit: string, error: string): Promise<string> {
  const history = rel(ctx.root, ctx.paths.history);
  try {
    if (await onAnyRemote(ctx.root, commit, ctx.signal)) return commit;
    if (!(await markNotPushed(ctx.paths.history, runId, error))) return commit;
    return await amendPaths(ctx.root, [history], ctx.signal);
  } catch (err) {
    ctx.log.warn(`could not record the failed push in ${history}: ${errorMessage(err)}`);
    return commit;
  }
}
