/**
 * The records a finished cycle leaves: its one history line (with the phase timeline), the
 * month's cost summary, a BLOCKED ticket's roadmap cell and commit, and the pruning of kept
 * staging copies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../../config/schema';
import type { HistoryEntry, HistoryPhase } from '../../contracts/history-entry';
import type { Plan } from '../../contracts/plan';
import { CYCLE_PHASES, type CycleStatus } from '../../contracts/status';
import { appendHistory, readHistory } from '../../history/history';
import { isOwnTempFolder } from '../../sandbox/staging-root';
import { editDocument, setTicketStatus } from '../../ssot/writer';
import { atomicWrite } from '../../util/atomic-write';
import { errorMessage } from '../../util/errors';
import { summarizeMonth, monthOf } from '../cost-summary';
import { rel } from '../cycle-context';
import { costLine } from '../spend';
import { cycleRecords, type CyclePaths } from '../cycle-paths';
import type { CycleOutcome } from '../cycle-types';
import { commitPaths } from '../git-ops';

/** The Run panel's timeline of a finished cycle: each phase PASS, FAIL or SKIPPED, with its time. */
function phaseTimeline(outcome: CycleOutcome): HistoryPhase[] {
  return CYCLE_PHASES.map((name) => ({
    name,
    status:
      name === 'ADJUST' ? (outcome.status === 'PASS' ? 'PASS' : 'SKIPPED')
      : outcome.timings.phases[name] === undefined ? 'SKIPPED'
      : name === 'CHECK' && outcome.status !== 'PASS' ? 'FAIL'
      : 'PASS',
    durationMs: outcome.timings.phases[name] ?? null,
  }));
}

/**
 * Append this cycle's one history line and refresh the month's cost summary. `cause`: what the
 * attempt counts as when a cap changed its status. Returns the cost summary's file.
 */
export async function record(paths: CyclePaths, plan: Plan, outcome: CycleOutcome, cause: CycleStatus, now: () => Date, extra: Partial<HistoryEntry> = {}): Promise<string> {
  const endedAt = now().toISOString();
  await appendHistory(paths.history, {
    runId: plan.run_id,
    ticketId: plan.ticket_id,
    acIds: plan.ac_ids,
    status: outcome.status,
    ...(cause !== outcome.status ? { cause } : {}),
    endedAt,
    costUsd: outcome.costUsd,
    // costUsd by role and model (Controller model, Worker, Auditor): the cost summary's byRole/byModel/byTier.
    ...(outcome.spend?.length ? { spend: outcome.spend } : {}),
    // The Worker's agent and model; every role's are in `spend`.
    agent: plan.agent,
    ...(plan.model ? { model: plan.model } : {}),
    reasons: outcome.reasons,
    ...(outcome.stagingKept ? { stagingKept: outcome.stagingKept } : {}),
    ...(outcome.audit ? { audit: outcome.audit.verdict } : {}),
    // For the Run panel's timeline once the cycle is over (the live one is gone after a reload).
    phases: phaseTimeline(outcome),
    // The run's evidence folder: a PASS's is committed with it; a FAIL's, BLOCKED's or TIMEOUT's
    // (marked with its verdict, phases/verdict-evidence.ts) stays uncommitted. A caller's `extra` wins.
    ...(outcome.evidencePath ? { evidence: outcome.evidencePath } : {}),
    // For the Run panel and the Runs view (the evidence's changes.json has them too).
    ...(outcome.violations.length ? { scopeViolations: outcome.violations.slice(0, 100).map((v) => `${v.path} (${v.rule})`) } : {}),
    ...extra,
  });
  const month = monthOf(endedAt);
  const file = paths.costSummary(month);
  await atomicWrite(file, JSON.stringify(summarizeMonth(cycleRecords(paths.history), month), null, 2) + '\n');
  return file;
}

/** What blocking a ticket needs besides the outcome. */
export interface BlockRequest {
  root: string;
  config: FactoryConfig;
  paths: CyclePaths;
  plan: Plan;
  reason: string;
  cause: CycleStatus;
  now: () => Date;
  signal?: AbortSignal | undefined;
}

/** A kill switch fired: BLOCKED (with the reason) in the roadmap, one history line, one commit. */
export async function blockTicket(b: BlockRequest, outcome: CycleOutcome): Promise<void> {
  const { root, config, paths, plan, reason } = b;
  outcome.blocked = true;
  outcome.reasons.push(`ticket ${plan.ticket_id} set BLOCKED: ${reason}`);
  const roadmap = path.join(root, config.ssot.roadmap);
  let edited = false;
  try {
    edited = await editDocument(roadmap, (t) => setTicketStatus(t, plan.ticket_id, { status: 'BLOCKED', reason }));
  } catch (err) {
    outcome.reasons.push(`could not mark ${plan.ticket_id} BLOCKED in ${config.ssot.roadmap}: ${errorMessage(err)}`);
  }
  const summary = await record(paths, plan, outcome, b.cause, b.now, { blockedReason: reason });
  if (config.git.commit && edited) {
    const files = [config.ssot.roadmap, rel(root, paths.history), rel(root, summary), rel(root, paths.plan)];
    if (outcome.audit) files.push(outcome.audit.report);
    outcome.commit = await commitPaths(root, files.filter((f) => fs.existsSync(path.join(root, f))), `factory: ${plan.ticket_id} BLOCKED (${reason})\n\nThe kill switch stopped the ticket after run ${plan.run_id}; a person has to look at it.\n${costLine(outcome.costUsd, outcome.spend ?? [], { agent: plan.agent, model: plan.model }, plan.risk_level)}\n\nFactory-Run: ${plan.run_id}\n`, b.signal);
  }
}

/** Keep only the newest `keep` FAILed staging copies named in history. */
export function pruneKeptStaging(historyFile: string, keep: number): void {
  try {
    const kept = readHistory(historyFile)
      .records.map((r) => r.stagingKept)
      .filter((p): p is string => typeof p === 'string');
    for (const dir of kept.slice(0, Math.max(0, kept.length - keep))) {
      if (isOwnTempFolder(dir)) fs.rmSync(dir, { recursive: true, force: true });
    }
  } catch {
    // pruning is housekeeping; never fail a cycle for it
  }
}
