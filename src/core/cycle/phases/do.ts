/**
 * DO: the staging copy of the base commit, the Worker's gateway and agent, the Worker container
 * (started while the base snapshot is taken), then the changeset from the snapshots and the
 * Worker's result.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { diffSnapshots, type Change } from '../../changeset/diff';
import { checkScope, type Violation } from '../../changeset/scope';
import { snapshotBytes, type Snapshot } from '../../changeset/snapshot';
import type { FactoryConfig } from '../../config/schema';
import type { SpendEntry } from '../../contracts/history-entry';
import type { Plan } from '../../contracts/plan';
import type { GatewayRecord } from '../../gateway/gateway';
import { readResultJson } from '../../contracts/result';
import type { BuiltPlan } from '../../plan/builder';
import type { ContainerResult } from '../../sandbox/container-spec';
import { jobLimits, type RunningJob } from '../../sandbox/job';
import { overlayListing } from '../../sandbox/overlays';
import { workerJob } from '../../sandbox/worker-job';
import { createStagingCopy, type StagingCopy } from '../../sandbox/staging';
import { afterSnapshot, baseSnapshot, writeBaseEntries } from '../../sandbox/staging-snapshots';
import { FactoryError, errorMessage } from '../../util/errors';
import { faultDelay, faultPoint, isSymlink, readText, type CycleContext } from '../cycle-context';
import { spendFromRecords, tierOfModel, type SpendRoute } from '../spend';
import type { ResultRead } from '../verdict';
import { prepareWorkerLaunch, type WorkerLaunch } from '../../sandbox/worker-launch';
import { prefetchVerifiedTree } from '../../evidence/verified-tree';
import { reviewComments, takeFeedback, type TakenFeedback } from '../feedback';

/** What the cycle must clean up whatever happens: filled in by DO as it creates them. */
export interface CycleResources {
  staging?: StagingCopy;
  launch?: WorkerLaunch;
  /** A FAILed cycle keeps its staging copy (and the agent's output) for inspection. */
  keepStaging?: boolean;
  /** The Worker's metered spend so far (its gateway's records): what an aborted cycle still records. */
  workerSpend?: () => SpendEntry[];
  /** The Auditor's metered spend so far, while it runs (CHECK). */
  auditorSpend?: () => SpendEntry[];
}

/** What DO needs from PLAN. */
export interface DoInput {
  plan: Plan;
  built: BuiltPlan;
  baseCommit: string;
  /** The Worker's gateway budget (spend.ts `cycleBudget`: B − c − the Auditor's reserve). */
  workerBudgetUsd: number;
  /** What was held back for the Auditor (the budget reason names it). */
  reserveUsd?: number | undefined;
}

/** What DO produced. */
export interface DoOutput {
  staging: StagingCopy;
  run: ContainerResult;
  agent: Awaited<ReturnType<WorkerLaunch['finish']>>;
  /** The gateway refused further calls (the cycle's budget is spent). */
  budgetHit: boolean;
  before: Snapshot;
  after: Snapshot;
  changes: Change[];
  violations: Violation[];
  /** The workspace growth watch stopped the Worker. */
  overCap: boolean;
  result: ResultRead;
  /** Wall time of the Worker container, and the agent's own share as its runtime measured it. */
  agentMs: number;
  agentOwnMs: number;
  /** Metered by the gateway (the agent's own figure only when no call went through it). */
  costUsd: number;
  /** The Worker's history `spend` entries (one per model it called through its gateway). */
  spend: SpendEntry[];
  /** What was held back from the Worker's budget for the Auditor. */
  reserveUsd?: number;
  /** The review feedback ("Request changes") the Worker was given (cycle/feedback.ts), consumed when the verdict is recorded. */
  feedback?: TakenFeedback;
}

/** Who the Worker runs as, for its spend entries: the plan's agent, model and tier. */
export function workerRoute(plan: Plan, config: FactoryConfig): SpendRoute {
  return { agent: plan.agent, model: plan.routing?.worker.model ?? plan.model ?? config.agents[plan.agent]?.model, tier: plan.routing?.worker.tier ?? plan.model_budget };
}

/** Run DO. `res` receives the staging copy and the launch as soon as they exist, for clean-up. */
export async function doPhase(ctx: CycleContext, input: DoInput, res: CycleResources): Promise<DoOutput> {
  const { plan } = input;
  const { root, config, opts, signal } = ctx;
  await ctx.setPhase('DO');
  const replayFile = opts.replayDir ? path.join(opts.replayDir, `${plan.ticket_id}.json`) : undefined;
  if (plan.agent === 'replay' && (!replayFile || !fs.existsSync(replayFile))) {
    throw new FactoryError(`no recording for ${plan.ticket_id}: the replay agent needs ${replayFile ?? '--replay DIR'}`, 'agent_config');
  }
  ctx.lap('PLAN recorded');
  const inner = new AbortController();
  let budgetHit = false;
  // Live spend: every metered call of the Worker's gateway updates the role's running totals.
  const route = workerRoute(plan, config);
  const tierOf = tierOfModel(config);
  const records: GatewayRecord[] = [];
  res.workerSpend = () => spendFromRecords('worker', route, records, tierOf);
  // "Request changes" on an earlier attempt of this ticket: the caller's, else the pending one.
  const feedback = takeFeedback(ctx.paths.feedback, plan.ticket_id, opts, ctx.log);
  // The copy (git archive into tar) and the gateway with the task folder need nothing from each
  // other: side by side. Each lands in `res` as soon as it exists, so a failure of the other still
  // cleans it up (releaseCycle).
  const [copied, launched] = await Promise.allSettled([
    createStagingCopy({ root, runId: plan.run_id, commit: input.baseCommit, dirtyChecked: true, modify: plan.scope.modify, workspaceMb: config.worker.workspaceMb, memoryMb: config.worker.memoryMb, ...(signal ? { signal } : {}) }).then((s) => (res.staging = s)),
    prepareWorkerLaunch({
      plan,
      config,
      acs: input.built.acs,
      rules: readText(root, config.ssot.rules),
      ...(replayFile ? { replayFile } : {}),
      ...(opts.runtimeFile ? { runtimeFile: opts.runtimeFile } : {}),
      ...(opts.keys ? { keys: opts.keys } : {}),
      ...(feedback ? { reviewComments: reviewComments(feedback.feedback) } : {}),
      // One budget per cycle: the Controller model's review came out of it first, the Auditor's reserve is held back.
      budgetUsd: input.workerBudgetUsd,
      onBudgetExceeded: () => {
        budgetHit = true;
        inner.abort();
      },
      onRecord: (r) => {
        records.push(r);
        ctx.emit({ type: 'spend', runId: plan.run_id, role: 'worker', spend: spendFromRecords('worker', route, records, tierOf) });
      },
      logger: ctx.log,
    }).then((l) => (res.launch = l)),
  ]);
  if (copied.status === 'rejected') throw copied.reason;
  if (launched.status === 'rejected') throw launched.reason;
  const staging = copied.value;
  const launch = launched.value;
  await ctx.setPhase('DO', { stagingDir: staging.dir });
  ctx.lap(`staging copy in ${staging.placement.kind === 'tmpfs' ? 'RAM' : staging.placement.root} (${staging.placement.reason}), gateway and agent set up meanwhile`);
  const onOuter = () => inner.abort();
  signal?.addEventListener('abort', onOuter, { once: true });
  let worker: WorkerRun;
  try {
    worker = await runWorkerContainer(ctx, plan, staging, launch, inner);
  } finally {
    signal?.removeEventListener('abort', onOuter);
  }
  const out = await afterWorker(ctx, plan, staging, launch, worker, () => budgetHit);
  out.spend = spendFromRecords('worker', route, out.agent.records, tierOf);
  ctx.emit({ type: 'spend', runId: plan.run_id, role: 'worker', spend: out.spend });
  if (input.reserveUsd) out.reserveUsd = input.reserveUsd;
  if (feedback) out.feedback = feedback;
  return out;
}

/** The Worker container's run, with the base snapshot taken while it started. */
interface WorkerRun {
  run: ContainerResult;
  before: Snapshot;
  /** The Worker's job: its growth verdict after the run. */
  worker: RunningJob;
  agentMs: number;
}

/**
 * The Worker container (its spec: `workerJob`, the same as `factory sandbox`'s). It starts while
 * the base snapshot is taken; plan.json is written only once it is complete.
 */
async function runWorkerContainer(ctx: CycleContext, plan: Plan, staging: StagingCopy, launch: WorkerLaunch, inner: AbortController): Promise<WorkerRun> {
  const { config, opts, docker, log } = ctx;
  const ws = staging.workspace;
  const protectedGlobs = [...plan.scope.readonly, ...plan.scope.forbidden];
  const tAgent = Date.now();
  const worker = ctx.backend.startWorker(
    workerJob({ role: 'worker', plan, staging, listing: overlayListing(ws, protectedGlobs), image: opts.image ?? config.worker.image, cmd: launch.command, env: launch.env, extraMounts: launch.mounts, limits: jobLimits(config.worker), repo: ctx.root, logger: log }),
    { docker, logger: log, signal: inner.signal, onStart: () => faultPoint('DO:running'), onOutput: (_s, chunk) => ctx.emit({ type: 'output', runId: plan.run_id, source: 'worker', text: chunk.toString('utf8') }) },
  );
  // The container starts while the base snapshot is taken. Its runtime starts the agent only
  // once plan.json is there, and plan.json is written only when the snapshot is complete, so
  // nothing the Worker does can happen before the state it is measured against.
  let before: Snapshot;
  try {
    await faultDelay('DO:snapshot');
    before = await baseSnapshot(staging, plan.scope.modify);
    ctx.lap(`snapshot of ${before.size} entries, container starting meanwhile`);
    // Every host folder the Worker may write counts against the cap (the job watches each writable mount).
    await worker.watchGrowth(snapshotBytes(before));
    writeBaseEntries(staging, before);
    const planTmp = path.join(staging.control, '.plan.json.tmp');
    fs.writeFileSync(planTmp, JSON.stringify(plan, null, 2) + '\n', { mode: 0o644 });
    fs.renameSync(planTmp, path.join(staging.control, 'plan.json'));
  } catch (err) {
    inner.abort();
    await worker.done.catch(() => undefined);
    throw err;
  }
  // A refused spec or no engine rejects here, as runContainer did.
  const run = await worker.done;
  return { run, before, worker, agentMs: Date.now() - tAgent };
}

/** After the container: the agent's report and cost, the changeset, the growth cap, result.json. */
async function afterWorker(ctx: CycleContext, plan: Plan, staging: StagingCopy, launch: WorkerLaunch, w: WorkerRun, budgetHit: () => boolean): Promise<DoOutput> {
  ctx.lap('Worker container');
  const agent = await launch.finish();
  ctx.lap('gateway closed, agent report read');
  // The agent's own time, as the runtime measured it (a figure for the benchmark, never a
  // decision): the agent process and the Worker's gate commands, not the runtime's own work.
  const agentOwnMs = Math.min(w.agentMs, agent.report?.agentMs ?? agent.report?.durationMs ?? w.agentMs);
  const costUsd = agent.gateway.requests > 0 ? agent.gateway.costUsd : (agent.report?.costUsd ?? 0);
  if (ctx.signal?.aborted) throw new FactoryError('interrupted', 'interrupted');
  const after = await afterSnapshot(staging, w.before, ctx.signal);
  const changes: Change[] = diffSnapshots(w.before, after);
  const overCap = await w.worker.exceeded(after);
  const violations = checkScope(changes, plan.scope);
  ctx.lap(`after snapshot, changeset of ${changes.length}`);
  // A changeset that can still PASS: its verified tree (ADJUST's evidence) is built while the Gate runs.
  if (changes.length && !violations.length && !overCap && changedBytes(changes, after) <= PREFETCH_MAX_BYTES) void prefetchVerifiedTree(ctx.root, staging.baseCommit, staging.workspace, changes, ctx.signal);
  return {
    staging,
    run: w.run,
    agent,
    budgetHit: budgetHit() || agent.gateway.budgetExceeded,
    before: w.before,
    after,
    changes,
    violations,
    overCap,
    result: readWorkerResult(staging.output),
    agentMs: w.agentMs,
    agentOwnMs,
    costUsd,
    spend: [],
  };
}

/**
 * Up to this many changed bytes the verified tree is built ahead: its blobs go into the host's
 * object store before the verdict, and a FAIL leaves them there unreferenced (git gc drops them).
 */
const PREFETCH_MAX_BYTES = 8 * 1024 * 1024;

function changedBytes(changes: readonly Change[], after: Snapshot): number {
  let total = 0;
  for (const c of changes) total += after.get(c.path)?.size ?? 0;
  return total;
}

/** result.json from the Worker's output folder, as untrusted input. */
function readWorkerResult(outDir: string): ResultRead {
  const resultFile = path.join(outDir, 'result.json');
  if (!fs.existsSync(resultFile) && !isSymlink(resultFile)) return { kind: 'missing' };
  try {
    return { kind: 'read', result: readResultJson(resultFile) };
  } catch (err) {
    return { kind: 'rejected', error: errorMessage(err) };
  }
}
