/**
 * A compare run (`factory run --compare a,b [--pick auto|ask]`, the editor's compare action; issue
 * 20): ONE run (openRun: the lock, recovery, push retry), ONE PLAN (the ticket's plan, baseline
 * first), then the same plan on two agents side by side — each side its own run id, slot (state
 * file), staging copy, Worker container and gateway, DO + CHECK through the same Gate and Auditor
 * as any cycle. Each side gets the FULL cycle budget (B − the Controller model's review − the
 * Auditor's reserve): a compare may spend up to two cycles' budget, and says so. Then the pick —
 * `deps.pickCandidate` with `ask`, else the cheaper passing side (pick.ts `pickAuto`) — and only
 * the picked side goes through ADJUST (apply, ledger, evidence, commit). The other side leaves
 * FAIL evidence "not picked (compare with <run>)" and a history line the kill switches skip.
 * No side passes: the cycle FAILs as usual with both sides' reasons, counted once.
 */
import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../../contracts/plan';
import { atomicWrite } from '../../util/atomic-write';
import { FactoryError, errorMessage } from '../../util/errors';
import { clearCycleState } from '../cycle-state';
import type { CycleEnv } from '../cycle-context';
import { emptyOutcome, type CompareCandidate, type CycleDeps, type CycleOutcome } from '../cycle-types';
import { markCycleInProgress } from '../in-progress';
import { abandonCycle, cycleContext, cycleEnv, openRun, planCycle, releaseCycle, runCycleBody, type PlannedCycle } from '../orchestrator';
import type { FactoryRunOptions, FactoryRunResult } from '../parallel/factory-types';
import { actPhase } from '../phases/act';
import { failedAdjustVerdict } from '../phases/adjust-docops';
import { publishPlan } from '../phases/plan';
import type { PushResult } from '../push';
import { cycleBudget } from '../spend';
import { bothReasons, candidateOf, checkPick, compareSides, pickAuto, secondRunId, type CompareSide } from './pick';
import { moveMarks, recordNotPicked } from './settle';
import { runSide, sideEnv, sidePlan, type SideRun, type SideShared } from './side';

/**
 * Run one compare cycle (the ticket `opts.ticket`, or the queue's next). `maxCycles` does not
 * apply: a compare is one cycle. The run's outcome is the side that counts (the applied one, or
 * side a when none was), with both candidates in `outcome.compare`.
 * @throws FactoryError `compare.invalid` / `agent_unknown` before the lock; then what a cycle throws.
 */
export async function runCompare(opts: FactoryRunOptions, deps: CycleDeps = {}): Promise<FactoryRunResult> {
  const sides = compareSides(opts);
  if (deps.signal) setMaxListeners(100, deps.signal);
  const session = await openRun(opts, deps);
  try {
    const cycleUsd = session.config.killSwitch.budgetUsd;
    if (opts.batchBudgetUsd !== undefined && opts.batchBudgetUsd < 2 * cycleUsd) {
      return { outcomes: [], stoppedBy: 'batch-budget', message: `a compare may spend two cycles' budget (2 × $${cycleUsd.toFixed(2)}), more than --batch-budget $${opts.batchBudgetUsd.toFixed(2)}: nothing started`, spentUsd: 0 };
    }
    const { parallel: _p, maxCycles: _m, batchBudgetUsd: _b, baseline, ...rest } = opts;
    const env = cycleEnv(session, { ...rest, root: session.root, config: session.config, slot: 0, baseline: baseline ?? 'run' }, deps);
    try {
      const ended = await compareCycle(env, sides, session.retried);
      return { outcomes: [ended.outcome], stoppedBy: opts.ticket ? 'ticket-done' : 'max-cycles', message: ended.message, spentUsd: ended.spentUsd };
    } catch (err) {
      if (err instanceof FactoryError && err.code === 'plan.queue-empty') return { outcomes: [], stoppedBy: 'queue-empty', message: err.message, spentUsd: 0 };
      throw err;
    }
  } finally {
    await session.close();
  }
}

interface Ended {
  outcome: CycleOutcome;
  spentUsd: number;
  message: string;
}

/** PLAN once, then both sides, the pick and the end of each side. */
async function compareCycle(env: CycleEnv, sides: [CompareSide, CompareSide], retried: PushResult | null): Promise<Ended> {
  const pc = await planCycle(env);
  const { plan } = pc.planned;
  const controllerCostUsd = pc.planned.controller?.costUsd ?? 0;
  const budget = cycleBudget({ budgetUsd: env.config.killSwitch.budgetUsd, controllerUsd: controllerCostUsd, reserveUsd: plan.routing?.reserve_usd, auditor: plan.routing?.auditor });
  if (pc.planned.verdict.blocked || !budget.fits) {
    // Nothing to compare: the retry cap or the budget ends the cycle before any Worker, as a normal cycle.
    const outcome = await runCycleBody(env, { planned: pc, retried });
    return { outcome, spentUsd: outcome.costUsd, message: `compare of ${sides.map((s) => s.spec).join(' and ')} not started: ${outcome.reasons.join('; ')}` };
  }
  const runs = sideRuns(env, pc, sides);
  try {
    await startSides(runs, pc);
    const shared: SideShared = { workerUsd: budget.workerUsd, controllerCostUsd, baseline: pc.baseline ?? pc.runBaseline };
    const settled = await Promise.allSettled(runs.map((r) => runSide(r, shared)));
    settled.forEach((s, i) => {
      if (s.status === 'rejected') runs[i].error = s.reason;
    });
    await setErroredAside(env, runs);
    const candidates = runs.map(candidateFor);
    const choice = await choose(env, candidates);
    env.emit({ type: 'compare', candidates, picked: choice.picked });
    const rep = runs[choice.picked ?? runs.findIndex((r) => !r.error)];
    await moveMarks(runs, rep);
    for (const r of runs) if (r !== rep && !r.error) await recordNotPicked(r, rep.planned.plan.run_id, choice.picked === null ? 'no candidate was applied' : `${rep.side.spec} was applied`);
    shareOut(rep, pc, retried, { candidates, picked: choice.picked });
    await adjustRep(rep, choice, candidates, sides);
    for (const r of [...runs.filter((x) => x !== rep), rep]) await finishRun(r, pc.startedMs);
    return { outcome: rep.outcome, spentUsd: runs.reduce((s, r) => s + r.outcome.costUsd, 0), message: summary(env, sides, candidates, choice.picked) };
  } catch (err) {
    for (const r of runs) await abandonCycle(env.root, env.config, r.ctx.statePath, env.log, err, r.res);
    throw err;
  } finally {
    for (const r of runs) await releaseCycle(r.res, env.paths, r.ctx.opts, env.log);
  }
}

/** Both sides' runs: the plan routed per side, side b under the next free run id. */
function sideRuns(env: CycleEnv, pc: PlannedCycle, sides: readonly CompareSide[]): SideRun[] {
  const first = pc.planned.plan.run_id;
  const ids = [first, secondRunId(first, (id) => fs.existsSync(path.join(env.paths.evidence, id)))];
  const source = `--compare ${sides.map((s) => s.spec).join(',')}`;
  return sides.map((side, i) => {
    const planned = sidePlan(env.config, pc.planned, side, ids[i], `${source} (side ${side.side})`);
    const ctx = cycleContext(sideEnv(env, side, i), planned);
    // The Controller model's review (PLAN) is paid once: side a's state records it until the end.
    if (i > 0) delete ctx.state.spend;
    return { side, planned, ctx, res: {}, outcome: emptyOutcome(planned.plan), diffLines: 0 };
  });
}

/** Each side's state in PLAN and its plan event; the ACs marked IN_PROGRESS once (side a's state holds the previous cells). */
async function startSides(runs: readonly SideRun[], pc: PlannedCycle): Promise<void> {
  for (const r of runs) {
    await r.ctx.setPhase('PLAN');
    await publishPlan(r.ctx, r.planned);
  }
  await markCycleInProgress(runs[0].ctx);
  const planMs = Date.now() - pc.startedMs;
  for (const r of runs) r.outcome.timings.phases.PLAN = planMs;
}

const interrupted = (err: unknown) => err instanceof FactoryError && err.code === 'interrupted';

/**
 * A side whose DO or CHECK threw (not a verdict: no image, a worker-error …) is recorded ABORTED
 * (not counted) and the other goes on alone; both, or a stop, end the compare with that error.
 */
async function setErroredAside(env: CycleEnv, runs: SideRun[]): Promise<void> {
  const errored = runs.filter((r) => r.error !== undefined);
  if (!errored.length) return;
  if (errored.length === runs.length || env.signal?.aborted || errored.some((r) => interrupted(r.error))) throw errored.find((r) => interrupted(r.error))?.error ?? errored[0].error;
  await moveMarks(runs, runs.find((r) => r.error === undefined)!);
  for (const r of errored) {
    env.log.warn(`compare: ${r.side.spec} (${r.planned.plan.run_id}) ended without a verdict: ${errorMessage(r.error)}`);
    await abandonCycle(env.root, env.config, r.ctx.statePath, env.log, r.error, r.res);
    r.outcome.status = 'ABORTED';
    r.outcome.reasons.push(errorMessage(r.error));
  }
}

/** A side as the person (or `--pick auto`) sees it. */
function candidateFor(r: SideRun): CompareCandidate {
  const act = r.act;
  const gate = act?.checked.facts.gate?.status;
  return candidateOf({
    runId: r.planned.plan.run_id,
    side: r.side,
    model: r.planned.plan.model,
    status: r.error !== undefined ? 'ERROR' : (act?.verdict.status ?? 'FAIL'),
    reasons: r.outcome.reasons,
    gate: gate === 'PASS' || gate === 'FAIL' ? gate : undefined,
    changes: r.outcome.changes,
    diffLines: r.diffLines,
    spend: r.outcome.spend ?? [],
    costUsd: r.outcome.costUsd,
    workspace: act?.done.staging.workspace ?? '',
    baseCommit: r.planned.baseCommit,
  });
}

interface Choice {
  picked: number | null;
  reason?: string;
}

/** `ask` with a picker: the person's answer (a passing side, or none); otherwise the `auto` rule. */
async function choose(env: CycleEnv, candidates: CompareCandidate[]): Promise<Choice> {
  if (!candidates.some((c) => c.passed)) return { picked: null };
  const ask = env.opts.compare?.pick === 'ask' ? env.deps.pickCandidate : undefined;
  if (!ask) return { picked: pickAuto(candidates) };
  const answer = await ask(candidates.map((c) => ({ ...c, reasons: [...c.reasons], changes: c.changes.map((x) => ({ ...x })) })));
  if (env.signal?.aborted) throw new FactoryError('interrupted while the compare waited for the pick', 'interrupted');
  return checkPick(candidates, answer);
}

/** The side that counts carries what the cycle shares: the Controller model's spend, the baseline, the push retry, both candidates. */
function shareOut(rep: SideRun, pc: PlannedCycle, retried: PushResult | null, compare: NonNullable<CycleOutcome['compare']>): void {
  const { outcome, ctx } = rep;
  const controller = pc.planned.controller;
  outcome.costUsd += controller?.costUsd ?? 0;
  outcome.spend = [...(controller?.spend ?? []), ...(outcome.spend ?? [])];
  ctx.state.spend = [...outcome.spend];
  if (rep.act) rep.act.controllerRecords = controller?.records ?? [];
  outcome.escalated = pc.planned.verdict.escalate;
  if (pc.baseline) outcome.baseline = pc.baseline;
  if (retried) {
    outcome.pushRetry = { pushed: retried.pushed, commits: retried.commits, ...(retried.error ? { error: retried.error } : {}) };
    if (!retried.pushed) outcome.reasons.push(`${retried.commits} earlier commit(s) still not pushed to ${retried.upstream ?? 'the upstream'}: ${retried.error ?? 'git push failed'}`);
  }
  outcome.compare = compare;
}

/** ADJUST of the side that counts: the picked one applied; none picked or none passed → its FAIL recorded (counted once). */
async function adjustRep(rep: SideRun, choice: Choice, candidates: readonly CompareCandidate[], sides: readonly CompareSide[]): Promise<void> {
  const act = rep.act!;
  const { plan } = act;
  const t = Date.now();
  // plan.json is the counted side's (the commit records the plan it ran).
  await writePlanJson(rep.ctx.paths.plan, plan);
  if (choice.picked !== null) {
    await actPhase(rep.ctx, act);
  } else if (!candidates.some((c) => c.passed)) {
    rep.outcome.reasons.splice(0, rep.outcome.reasons.length, ...bothReasons(candidates, sides));
    await actPhase(rep.ctx, act);
  } else {
    const reason = choice.reason ?? 'no candidate picked';
    rep.outcome.reasons.push(reason);
    await actPhase(rep.ctx, { ...act, verdict: failedAdjustVerdict(rep.ctx, plan.ticket_id, plan.run_id, reason) });
  }
  rep.res.keepStaging = rep.outcome.status !== 'PASS';
  rep.outcome.timings.phases.ADJUST = Date.now() - t;
}

async function writePlanJson(file: string, plan: Plan): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await atomicWrite(file, JSON.stringify(plan, null, 2) + '\n');
}

/** A side is over: no state left to recover, its time, its `end` event. */
async function finishRun(r: SideRun, startedMs: number): Promise<void> {
  await clearCycleState(r.ctx.statePath);
  r.outcome.timings.totalMs = Date.now() - startedMs;
  r.ctx.emit({ type: 'end', outcome: r.outcome });
}

/** The run's one line: what was compared, the budget rule, what was applied. */
function summary(env: CycleEnv, sides: readonly CompareSide[], candidates: readonly CompareCandidate[], picked: number | null): string {
  const spent = candidates.reduce((s, c) => s + c.costUsd, 0);
  const what = picked === null ? 'nothing applied' : `applied ${sides[picked]?.side} (${candidates[picked]?.agent}${candidates[picked]?.model ? ` ${candidates[picked]?.model}` : ''}, ${candidates[picked]?.runId})`;
  return `compare ${sides.map((s) => `${s.side}=${s.spec}`).join(', ')}: each side had the full cycle budget ($${env.config.killSwitch.budgetUsd.toFixed(2)}), so the compare may spend two cycles' budget; the sides spent $${spent.toFixed(4)}; ${what}`;
}
