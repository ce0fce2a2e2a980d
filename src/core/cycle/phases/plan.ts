/**
 * PLAN: refuse a dirty host, choose the ticket and its ACs, read the ticket's history (escalation,
 * retry cap), and publish plan.json.
 */
import * as fs from 'node:fs';
import type { FactoryConfig } from '../../config/schema';
import type { Plan } from '../../contracts/plan';
import { assertGateCommands } from '../../gate/command-check';
import { buildPlan, type BuiltPlan } from '../../plan/builder';
import { selectWork } from '../../plan/queue';
import { hostChanges } from '../../sandbox/staging';
import type { SsotIndex } from '../../ssot/model';
import { indexWorkspace } from '../../ssot/workspace';
import { atomicWrite } from '../../util/atomic-write';
import { FactoryError } from '../../util/errors';
import { controllerRecordFilter, dirtyTreeRefusal } from '../clean-start';
import { ssotDocs, type CycleContext, type CycleEnv } from '../cycle-context';
import { deriveWorkScope, reviewWorkScope, type ScopeReviewOptions } from '../derive-inputs';
import type { ControllerSpend } from '../cycle-types';
import { cycleRecords, cyclePaths } from '../cycle-paths';
import { headCommit, trackedFiles } from '../git-ops';
import { evaluateKillSwitches, type CycleRecord } from '../kill-switches';
import { feedbackNote, takeFeedback } from '../feedback';
import { planVerdict, type PlanVerdict } from '../verdict';

/** The refusals of a dirty work tree (clean-start.ts). */
const DIRTY: ReadonlySet<string> = new Set(['ssot-dirty', 'scope-dirty', 'worktree-dirty']);

export interface PreparePlanOptions {
  ticket?: string;
  /** Worker agent / model overrides (`--agent`, `--model`, the UI's picker): recorded in plan.routing.override. */
  agent?: string;
  model?: string;
  /** Who asked for the override, in words (default: "--agent X --model Y"). */
  overrideSource?: string;
  now?: Date;
  signal?: AbortSignal;
  head?: Promise<string | null>;
  review?: ScopeReviewOptions;
  /** History before this cycle (oldest first); read from `<ap>/history.jsonl` when absent. */
  history?: readonly CycleRecord[];
  /** Tickets the queue passes over (a parallel run's cycles in flight, or waiting for one). */
  exclude?: ReadonlySet<string>;
}

/**
 * Plan the next cycle without running anything: config, SSOT index, base commit, the work, its
 * derived scope (with reasons, or the config default said loudly), plan. With `review` (a real
 * cycle only) the Controller model, when configured, reviews the derived scope first; `controller`
 * is then what that cost.
 */
export async function preparePlan(
  root: string,
  config: FactoryConfig,
  opts: PreparePlanOptions = {},
): Promise<{ index: SsotIndex; built: BuiltPlan; baseCommit: string | null; controller?: ControllerSpend }> {
  // Independent reads (documents, HEAD, the file list): side by side. Every tracked file is
  // listed: the ticket's text may name any of them, wherever the code lives.
  const [index, baseCommit, files] = await Promise.all([indexWorkspace(root, config, { ...(opts.signal ? { signal: opts.signal } : {}) }), opts.head ?? headCommit(root, opts.signal), trackedFiles(root, opts.signal)]);
  const work = selectWork(index, opts.ticket, opts.exclude);
  // The ticket's FAILs in a row: escalation on retry (routing.escalation) and the Auditor (killSwitch.escalateAfterFails).
  const ticketId = work.ticket?.id ?? work.acs[0]?.ticketId ?? String(opts.ticket);
  const ks = evaluateKillSwitches(opts.history ?? cycleRecords(cyclePaths(root, config).history), ticketId, config);
  const derived = await deriveWorkScope(root, config, work, files, opts.signal);
  const { scope, controller } = opts.review ? await reviewWorkScope(derived, work, files, config, opts.review) : { scope: derived, controller: undefined };
  const built = buildPlan(index, config, {
    ...(opts.ticket ? { ticket: opts.ticket } : {}),
    ...(opts.agent ? { agent: opts.agent } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    ...(opts.overrideSource ? { overrideSource: opts.overrideSource } : {}),
    consecutiveFails: ks.consecutiveFails,
    escalate: ks.escalate,
    files,
    baseCommit: baseCommit ?? '',
    ...(opts.now ? { now: opts.now } : {}),
    work,
    scope,
  });
  return { index, built, baseCommit, ...(controller ? { controller } : {}) };
}

function settled<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/** What PLAN decided. */
export interface PlanOutput {
  plan: Plan;
  built: BuiltPlan;
  index: SsotIndex;
  /** The HEAD the Worker starts from. */
  baseCommit: string;
  startedAt: Date;
  /** History before this cycle (oldest first): the kill switches read it. */
  history: CycleRecord[];
  /** Escalation, or a block before anything runs. */
  verdict: PlanVerdict;
  /** The Controller model's review of the scope, when it was asked: its cost is part of the cycle's budget. */
  controller?: ControllerSpend;
}

/** PLAN's hooks. */
export interface PlanHooks {
  /**
   * Called once the work tree is known to be clean and before PLAN spends anything (the
   * Controller model's review) or publishes the plan, with HEAD: the baseline (spec §8-3) runs here.
   * Not called for a ticket whose retry cap already blocks it.
   */
  beforeSpend?: (head: string) => Promise<void>;
  /** Tickets the queue passes over (a parallel run: the tickets in flight, or waiting for one). */
  exclude?: ReadonlySet<string>;
  /**
   * A parallel run's later cycles: the changed paths without the Controller's own changes of the
   * cycles in flight (their IN_PROGRESS marks in the ledger, clean-start.ts withoutOwnMarks);
   * anything else still refuses the start.
   */
  ownChanges?: (paths: readonly string[], head: string | null) => Promise<string[]>;
}

/**
 * Choose the run: the host's state and the plan side by side, then the ticket's history.
 * @throws FactoryError `config.command-missing`, `no-commit`, `ssot-dirty`, `scope-dirty`,
 *   `worktree-dirty` (spec §8-3: a cycle starts from a clean tree), or what `beforeSpend` throws.
 */
export async function planPhase(env: CycleEnv, hooks: PlanHooks = {}): Promise<PlanOutput> {
  const { root, config, opts, signal } = env;
  // A Gate stage or guard whose script is not in the repository would FAIL every cycle after the
  // Worker was paid: refuse first, before the Controller model or any Worker is asked.
  assertGateCommands(root, config);
  const startedAt = env.now();
  // One `git status` of the whole tree (a derived scope may reach any folder; filtered by the
  // plan's own globs below) covers the SSOT documents too, and its rev-parse gives the HEAD the
  // plan is built on.
  const docs = ssotDocs(config);
  const host = hostChanges(root, [...docs, '**'], signal).then(async (h) => (hooks.ownChanges ? { ...h, paths: await hooks.ownChanges(h.paths, h.head) } : h));
  // Read first: a ticket the retry cap blocks is not worth the Controller model's money.
  const history = cycleRecords(env.paths.history);
  // Spec §8-3 "git status → clean": any change refuses the cycle (the Controller's own records
  // aside), named by the most specific reason (SSOT documents, the plan's modify scope, the tree),
  // before the Controller model is paid or the baseline runs.
  const isRecord = controllerRecordFilter(root, config);
  const refuseDirty = async (modify: readonly string[]) => {
    const refusal = dirtyTreeRefusal((await host).paths, isRecord, docs, modify);
    if (refusal) throw refusal;
  };
  let spendChecked = false;
  const beforeSpend = async () => {
    if (spendChecked || !hooks.beforeSpend) return;
    spendChecked = true;
    const { head } = await host;
    if (head) await hooks.beforeSpend(head);
  };
  const review: ScopeReviewOptions = {
    ...(opts.keys ? { keys: opts.keys } : {}),
    ...(signal ? { signal } : {}),
    logger: env.log,
    skipTicket: (t) => planVerdict(history, t, config).blocked !== null,
    beforeReview: async (derived) => {
      await refuseDirty(derived.scope.modify);
      await beforeSpend();
    },
  };
  const [hostState, prepared] = await Promise.allSettled([
    host,
    preparePlan(root, config, { ...(opts.ticket ? { ticket: opts.ticket } : {}), ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.model ? { model: opts.model } : {}), ...(opts.overrideSource ? { overrideSource: opts.overrideSource } : {}), history, now: startedAt, head: host.then((h) => h.head), ...(signal ? { signal } : {}), ...(hooks.exclude ? { exclude: hooks.exclude } : {}), review }),
  ]);
  // A repository without a commit fails every question; say the plain reason first.
  const baseCommit = hostState.status === 'fulfilled' ? hostState.value.head : await headCommit(root, signal);
  if (!baseCommit) throw new FactoryError(`${root} has no commit: the cycle exports HEAD to the Worker; commit first`, 'no-commit');
  settled(hostState);
  // The Worker sees HEAD and ADJUST would overwrite the host's copy: refuse before anything starts,
  // naming the plan's own modify scope when the plan could be made (or the derived scope's
  // refusal, made before the Controller model's review, when that is what stopped it).
  if (prepared.status === 'rejected' && prepared.reason instanceof FactoryError && DIRTY.has(prepared.reason.code)) throw prepared.reason;
  await refuseDirty(prepared.status === 'fulfilled' ? prepared.value.built.plan.scope.modify : []);
  const { index, built, controller } = settled(prepared);
  env.lap('SSOT index and plan');
  const verdict = planVerdict(history, built.plan.ticket_id, config);
  if (!verdict.blocked) await beforeSpend();
  return { plan: built.plan, built, index, baseCommit, startedAt, history, verdict, ...(controller ? { controller } : {}) };
}

/** Write plan.json (atomic) and announce the plan. */
export async function publishPlan(ctx: CycleContext, p: PlanOutput): Promise<void> {
  await fs.promises.mkdir(ctx.paths.autopilot, { recursive: true });
  // The Worker will be given review feedback ("Request changes", cycle/feedback.ts): plan.json says so.
  const feedback = takeFeedback(ctx.paths.feedback, p.plan.ticket_id, ctx.opts, ctx.log);
  if (feedback) p.plan.review_feedback = feedbackNote(feedback.feedback);
  await atomicWrite(ctx.paths.plan, JSON.stringify(p.plan, null, 2) + '\n');
  ctx.emit({ type: 'plan', plan: p.plan, escalate: p.verdict.escalate, auditorRequired: p.built.risk.auditorRequired });
}
