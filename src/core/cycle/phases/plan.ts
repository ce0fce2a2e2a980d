/**
 * PLAN: refuse a dirty host, choose the ticket and its ACs, read the ticket's history (escalation,
 * retry cap), and publish plan.json.
 */
import * as fs from 'node:fs';
import type { FactoryConfig } from '../../config/schema';
import type { Plan } from '../../contracts/plan';
import { buildPlan, type BuiltPlan } from '../../plan/builder';
import { dirtyScopeError, globPrefixes, hostChanges, matchingPaths } from '../../sandbox/staging';
import type { SsotIndex } from '../../ssot/model';
import { indexWorkspace } from '../../ssot/workspace';
import { atomicWrite } from '../../util/atomic-write';
import { FactoryError } from '../../util/errors';
import { ssotDocs, type CycleContext, type CycleEnv } from '../cycle-context';
import { cycleRecords } from '../cycle-paths';
import { headCommit, trackedFiles } from '../git-ops';
import type { CycleRecord } from '../kill-switches';
import { planVerdict, type PlanVerdict } from '../verdict';

/**
 * Every modify glob the config can give a plan (the global list and each ticket's own), or
 * undefined when one of them is empty: an empty modify list means "anything" to the risk rules.
 */
function modifyGlobsOf(config: FactoryConfig): string[] | undefined {
  const sets = [config.scope.modify, ...config.scope.tickets.map((t) => t.modify).filter((m): m is string[] => !!m)];
  return sets.some((m) => m.length === 0) ? undefined : sets.flat();
}

/** Plan the next cycle without running anything: config, SSOT index, base commit, plan. */
export async function preparePlan(
  root: string,
  config: FactoryConfig,
  opts: { ticket?: string; agent?: string; now?: Date; signal?: AbortSignal; head?: Promise<string | null> } = {},
): Promise<{ index: SsotIndex; built: BuiltPlan; baseCommit: string | null }> {
  // Independent reads (documents, HEAD, the file list): side by side. The risk rules look only
  // at files a Worker may modify, so only the folders some scope.modify can reach are listed (a
  // ticket's own modify list is not known before the documents are read; the union is).
  const all = modifyGlobsOf(config);
  const under = all ? globPrefixes(all) : undefined;
  const [index, baseCommit, files] = await Promise.all([indexWorkspace(root, config, { ...(opts.signal ? { signal: opts.signal } : {}) }), opts.head ?? headCommit(root, opts.signal), trackedFiles(root, opts.signal, under)]);
  const built = buildPlan(index, config, {
    ...(opts.ticket ? { ticket: opts.ticket } : {}),
    ...(opts.agent ? { agent: opts.agent } : {}),
    files,
    baseCommit: baseCommit ?? '',
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { index, built, baseCommit };
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
}

/**
 * Choose the run: the host's state and the plan side by side, then the ticket's history.
 * @throws FactoryError `no-commit`, `ssot-dirty`, or the dirty-scope refusal.
 */
export async function planPhase(env: CycleEnv): Promise<PlanOutput> {
  const { root, config, opts, signal } = env;
  const startedAt = env.now();
  // One `git status` covers the SSOT documents and every folder a scope.modify can reach
  // (filtered by the plan's own globs below), and its rev-parse gives the HEAD the plan is built on.
  const docs = ssotDocs(config);
  const host = hostChanges(root, [...docs, ...(modifyGlobsOf(config) ?? ['**'])], signal);
  const [hostState, prepared] = await Promise.allSettled([
    host,
    preparePlan(root, config, { ...(opts.ticket ? { ticket: opts.ticket } : {}), ...(opts.agent ? { agent: opts.agent } : {}), now: startedAt, head: host.then((h) => h.head), ...(signal ? { signal } : {}) }),
  ]);
  // A repository without a commit fails every question; say the plain reason first.
  const baseCommit = hostState.status === 'fulfilled' ? hostState.value.head : await headCommit(root, signal);
  if (!baseCommit) throw new FactoryError(`${root} has no commit: the cycle exports HEAD to the Worker; commit first`, 'no-commit');
  const changed = settled(hostState).paths;
  const dirtyDocs = changed.filter((p) => docs.includes(p));
  if (dirtyDocs.length) throw new FactoryError(`the SSOT documents have uncommitted changes (${dirtyDocs.join(', ')}); commit or revert them first: ADJUST commits its own edits of them`, 'ssot-dirty');
  const { index, built } = settled(prepared);
  // The Worker sees HEAD and ADJUST would overwrite the host's copy: refuse before anything starts.
  const dirtyScope = matchingPaths(changed, built.plan.scope.modify);
  if (dirtyScope.length) throw dirtyScopeError(dirtyScope);
  env.lap('SSOT index and plan');
  const history = cycleRecords(env.paths.history);
  return { plan: built.plan, built, index, baseCommit, startedAt, history, verdict: planVerdict(history, built.plan.ticket_id, config) };
}

/** Write plan.json (atomic) and announce the plan. */
export async function publishPlan(ctx: CycleContext, p: PlanOutput): Promise<void> {
  await fs.promises.mkdir(ctx.paths.autopilot, { recursive: true });
  await atomicWrite(ctx.paths.plan, JSON.stringify(p.plan, null, 2) + '\n');
  ctx.emit({ type: 'plan', plan: p.plan, escalate: p.verdict.escalate, auditorRequired: p.built.risk.auditorRequired });
}
