/**
 * The end of a compare run's sides: the side not applied is recorded as a non-PASS run that the
 * kill switches skip (its evidence says "not picked (compare with <run>)"), and the IN_PROGRESS
 * marks of the ledger move to the side that counts, which ADJUST (or the verdict's record) ends.
 */
import { clearCycleState, writeCycleState } from '../cycle-state';
import type { CycleStatus } from '../../contracts/status';
import { record } from '../phases/record';
import { writeVerdictEvidence } from '../phases/verdict-evidence';
import type { Verdict } from '../verdict';
import type { SideRun } from './side';

/**
 * Move the ledger cells saved before the marking (`acStatusBefore`) from whichever side holds them
 * to `to`, each state file written, so whatever ends `to` (or recovers it) puts them back.
 */
export async function moveMarks(runs: readonly SideRun[], to: SideRun): Promise<void> {
  for (const r of runs) {
    if (r === to || !r.ctx.state.acStatusBefore) continue;
    to.ctx.state.acStatusBefore = { ...(to.ctx.state.acStatusBefore ?? {}), ...r.ctx.state.acStatusBefore };
    await writeCycleState(to.ctx.statePath, to.ctx.state);
    delete r.ctx.state.acStatusBefore;
    await writeCycleState(r.ctx.statePath, r.ctx.state);
  }
}

/** What the side not applied counts as: its own failure (never BLOCKED: the cap is the counted side's), or FAIL when it passed. */
export function notPickedStatus(verdict: Verdict): CycleStatus {
  if (verdict.status === 'PASS') return 'FAIL';
  return verdict.status === 'BLOCKED' ? (verdict.cause === 'TIMEOUT' ? 'TIMEOUT' : 'FAIL') : verdict.status;
}

/**
 * A side that was not applied: nothing on the host changes; FAIL (or its own TIMEOUT) evidence
 * marked "not picked (compare with <run>)", and a history line with `compare.picked: false`,
 * which the kill switches skip. Its staging copy is kept for a look at what it made.
 */
export async function recordNotPicked(run: SideRun, withRunId: string, why: string): Promise<void> {
  const { ctx, act, outcome } = run;
  if (!act) return;
  const status = notPickedStatus(act.verdict);
  outcome.status = status;
  outcome.reasons.unshift(`not picked (compare with ${withRunId}): ${why}`);
  outcome.stagingKept = act.done.staging.dir;
  run.res.keepStaging = true;
  const verdict: Verdict = { status, cause: status, reasons: outcome.reasons };
  await writeVerdictEvidence(ctx, { plan: act.plan, outcome, act: { ...act, verdict } });
  await record(ctx.paths, act.plan, outcome, status, ctx.now, { compare: { picked: false, with: withRunId } });
  // Recorded: nothing of this side is left for a crash recovery to finish.
  await clearCycleState(ctx.statePath);
}
