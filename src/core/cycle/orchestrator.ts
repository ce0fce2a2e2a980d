import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { z } from 'zod';
import { runAuditor, type AuditOutcome } from '../auditor/run-auditor';
import { applyChangeset } from '../changeset/apply';
import { diffSnapshots, type Change } from '../changeset/diff';
import { checkScope, type Violation } from '../changeset/scope';
import { snapshotBytes, type Snapshot } from '../changeset/snapshot';
import { afterSnapshot, baseSnapshot, stagingTreeHash, writeBaseEntries } from '../sandbox/staging-snapshots';
import { watchWorkspace, type WorkspaceWatch } from '../sandbox/workspace-cap';
import { loadConfigStrict } from '../config/load';
import type { FactoryConfig } from '../config/schema';
import type { Plan } from '../contracts/plan';
import { readResultJson, type WorkerResult } from '../contracts/result';
import { readUntrustedJson } from '../contracts/untrusted-json';
import { connectDocker } from '../docker/connect';
import { collectGitInfo } from '../evidence/git-info';
import { validateEvidence } from '../evidence/validator';
import { isProfitTicket, writeEvidence } from '../evidence/writer';
import { ContainerRunner } from '../gate/container-runner';
import { HostRunner } from '../gate/host-runner';
import { GateCache } from '../gate/gate-cache';
import type { GateReport } from '../gate/gate-model';
import { runGate } from '../gate/run-gate';
import { appendHistory, readHistory } from '../history/history';
import { acquireRepoLock, type RepoLock } from '../lock/repo-lock';
import { buildPlan, type BuiltPlan } from '../plan/builder';
import { overlayListing, overlayTargets, DEFAULT_LIMITS, SANDBOX_PATHS } from '../sandbox/run-sandbox';
import { ownerTag, runContainer, type ContainerMount, type ContainerResult } from '../sandbox/container';
import { SAFE_GIT, createStagingCopy, dirtyScopeError, execCapture, globPrefixes, hostChanges, matchingPaths, type StagingCopy } from '../sandbox/staging';
import { isOwnTempFolder } from '../sandbox/staging-root';
import type { AcceptanceCriterion, SsotIndex } from '../ssot/model';
import { indexWorkspace } from '../ssot/workspace';
import { editDocument, setAcStatus, setTicketStatus } from '../ssot/writer';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { summarizeMonth, monthOf } from './cost-summary';
import { clearCycleState, readCycleState, stateFile, writeCycleState, type CyclePhase, type CycleState } from './cycle-state';
import { commitPaths, headCommit, trackedFiles } from './git-ops';
import { evaluateKillSwitches, type CycleRecord, type CycleStatus } from './kill-switches';
import { abortOnce, adjustCommitted, recoverInterrupted, rollbackAdjust, type Recovery } from './recover';
import { prepareWorkerLaunch, type WorkerLaunch } from './worker-launch';
import type { ProviderKeys } from '../gateway/gateway';
import { stopwatch } from '../util/stopwatch';

/** Events for the UI (Run panel, status bar) and `factory run` / `tail`. */
export type CycleEvent =
  | { type: 'recovered'; recovery: Recovery }
  | { type: 'plan'; plan: Plan; escalate: boolean; auditorRequired: boolean }
  | { type: 'phase'; runId: string; phase: CyclePhase; at: string }
  | { type: 'output'; runId: string; source: 'worker' | 'gate' | 'auditor'; text: string }
  | { type: 'review'; runId: string; changes: number }
  | { type: 'end'; outcome: CycleOutcome };

export interface CycleOptions {
  /** The repository (a git checkout with at least one commit). */
  root: string;
  /** Work on this ticket instead of the queue's next one. */
  ticket?: string;
  /** Agent override (default: config.worker.agent). */
  agent?: string;
  /** Recordings for the replay agent: `<dir>/<TICKET>.json` (Worker) and `<dir>/<TICKET>.audit.json` (Auditor). */
  replayDir?: string;
  /** Config to use instead of `.factory/config.json`. */
  config?: FactoryConfig;
  /** Worker/Gate/Auditor image override. */
  image?: string;
  lockStaleMs?: number;
  /** How many FAILed staging copies to keep for inspection (older ones are pruned). Default 3. */
  keepFailedStaging?: number;
  /** worker.js on the host (default: next to the bundle, or dist/). */
  runtimeFile?: string;
  /** Provider keys for the model gateway (default: the host environment's; the extension passes SecretStorage's). */
  keys?: ProviderKeys;
}

/** What a person reviews before ADJUST when approval is required (`factory.review.requireApproval`). */
export interface ChangesetReview {
  runId: string;
  ticketId: string;
  acIds: string[];
  /** The commit the Worker started from: the "before" side of every diff. */
  baseCommit: string;
  /** The verified staging tree (the "after" side); read it, never write it. */
  workspace: string;
  changes: { path: string; kind: string }[];
  /** The Auditor's verdict when it ran. */
  audit: CycleOutcome['audit'];
}

/** A person's decision on a changeset: approve applies it; reject fails the cycle with the reason. */
export type ReviewDecision = { approved: true } | { approved: false; reason: string };

export interface CycleDeps {
  docker?: Docker;
  logger?: Logger;
  signal?: AbortSignal;
  onEvent?: (e: CycleEvent) => void;
  now?: () => Date;
  /**
   * Asked after every check passed and before anything is applied. Absent: no review (the CLI).
   * Interrupting the cycle (signal) while it waits ends the cycle ABORTED, nothing applied.
   */
  review?: (r: ChangesetReview) => Promise<ReviewDecision>;
}

/** One cycle's outcome: what `factory run --json` prints per cycle. */
export interface CycleOutcome {
  runId: string;
  ticketId: string;
  acIds: string[];
  status: CycleStatus;
  /** Why the status is not PASS, one line each. */
  reasons: string[];
  /** Metered by the gateway (the agent's own figure only when no call went through it). */
  costUsd: number;
  /** Repo-relative evidence folder (PASS), else null. */
  evidencePath: string | null;
  /** The ADJUST commit (PASS) or the BLOCKED commit, else null. */
  commit: string | null;
  /** The retry/budget/time cap set the ticket BLOCKED in the roadmap. */
  blocked: boolean;
  /** Two consecutive FAILs before this cycle: the Auditor was called. */
  escalated: boolean;
  audit: { verdict: 'PASS' | 'FAIL'; violations: number; report: string } | null;
  changes: { path: string; kind: string }[];
  violations: Violation[];
  /** The staging copy kept for inspection after a FAIL. */
  stagingKept: string | null;
  /**
   * Wall times (ms). `agentMs`: the Worker container, start to exit; `agentOwnMs`: the agent process
   * and the Worker's own gate commands, as the runtime measured them (its boot, prompt and
   * changed-file list are not in it); `gateMs`: the whole Gate; `gateCommandMs`: its commands alone.
   * Controller overhead = totalMs − agentOwnMs − gateCommandMs (bench/cycle.bench.ts).
   */
  timings: { totalMs: number; agentMs: number; agentOwnMs: number; gateMs: number; gateCommandMs: number; auditMs: number; phases: Partial<Record<CyclePhase, number>> };
}

const ssotDocs = (c: FactoryConfig) => [c.ssot.roadmap, c.ssot.ledger, ...c.ssot.extraRoadmaps];

/** Repository paths of the Controller's own records. */
export function cyclePaths(root: string, config: FactoryConfig) {
  const autopilot = path.join(root, config.paths.autopilot);
  return {
    autopilot,
    history: path.join(autopilot, 'history.jsonl'),
    plan: path.join(autopilot, 'plan.json'),
    state: stateFile(root, config.paths.autopilot),
    evidence: path.join(root, config.paths.evidence),
    audits: path.join(autopilot, 'audits'),
    gateCache: path.join(autopilot, 'gate_cache'),
    costSummary: (month: string) => path.join(autopilot, `cost_summary_${month}.json`),
  };
}

/** History records in the shape the kill switches read. */
export function cycleRecords(historyFile: string): CycleRecord[] {
  return readHistory(historyFile).records.map((r) => ({
    runId: r.runId,
    ticketId: r.ticketId,
    status: r.status as CycleStatus,
    endedAt: typeof r.endedAt === 'string' ? r.endedAt : new Date(0).toISOString(),
    costUsd: typeof r.costUsd === 'number' ? r.costUsd : 0,
    ...(typeof r.agent === 'string' ? { agent: r.agent } : {}),
    ...(typeof r.model === 'string' ? { model: r.model } : {}),
  }));
}

/** Read a repo-relative text file, or '' when absent. */
function readText(root: string, rel: string): string {
  try {
    return fs.readFileSync(path.join(root, rel), 'utf8');
  } catch {
    return '';
  }
}

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

/** Fault injection for the crash tests: `FACTORY_FAULT_KILL_AT=ADJUST:applied` SIGKILLs this process there. */
function faultPoint(name: string): void {
  const at = process.env.FACTORY_FAULT_KILL_AT;
  if (at && at === name) process.kill(process.pid, 'SIGKILL');
}

/** Delay injection for the ordering tests: `FACTORY_FAULT_DELAY_AT=DO:snapshot=1500` waits 1.5 s there. */
async function faultDelay(name: string): Promise<void> {
  const m = /^(.+)=(\d+)$/.exec(process.env.FACTORY_FAULT_DELAY_AT ?? '');
  if (m && m[1] === name) await new Promise((r) => setTimeout(r, Number(m[2])));
}

function emptyOutcome(plan: Plan): CycleOutcome {
  return {
    runId: plan.run_id,
    ticketId: plan.ticket_id,
    acIds: [...plan.ac_ids],
    status: 'FAIL',
    reasons: [],
    costUsd: 0,
    evidencePath: null,
    commit: null,
    blocked: false,
    escalated: false,
    audit: null,
    changes: [],
    violations: [],
    stagingKept: null,
    timings: { totalMs: 0, agentMs: 0, agentOwnMs: 0, gateMs: 0, gateCommandMs: 0, auditMs: 0, phases: {} },
  };
}

/**
 * One PDCA cycle (spec §4; DESIGN §1), as a persisted state machine under the repo lock:
 * recover an interrupted cycle → PLAN (queue or ticket, kill switches, plan.json) → DO (the Worker
 * in the hardened sandbox over a staging copy of HEAD, through the model gateway) → CHECK (scope,
 * result.json, the Gate in fresh containers, the Auditor when the risk or two FAILs call for it) →
 * ADJUST (PASS: conflict-checked apply, ledger DONE, roadmap counts, evidence, history, cost
 * summary, one commit; FAIL: nothing applied, the staging copy kept; caps → ticket BLOCKED).
 * @throws FactoryError `locked` (exit 3) when another Controller runs a cycle on this repo;
 *   `plan.queue-empty` (exit 0) when there is nothing to do.
 */
export async function runCycle(opts: CycleOptions, deps: CycleDeps = {}): Promise<CycleOutcome> {
  const log = deps.logger ?? nullLogger;
  const now = deps.now ?? (() => new Date());
  const emit = (e: CycleEvent) => {
    try {
      deps.onEvent?.(e);
    } catch (err) {
      log.warn(`cycle event listener failed: ${errorMessage(err)}`);
    }
  };
  const root = path.resolve(opts.root);
  const config = opts.config ?? (await loadConfigStrict(root)).config;
  const paths = cyclePaths(root, config);
  const t0 = Date.now();
  const lap = stopwatch(log, 'cycle');
  let lock: RepoLock;
  try {
    lock = await acquireRepoLock(root, { ...(opts.lockStaleMs ? { staleMs: opts.lockStaleMs } : {}), logger: log });
  } catch (err) {
    throw explainLocked(err, readCycleState(paths.state), opts.lockStaleMs ?? 30_000);
  }
  let staging: StagingCopy | undefined;
  let launch: WorkerLaunch | undefined;
  let keepStaging = false;
  try {
    const docker = deps.docker ?? (await connectDocker({ ...(deps.signal ? { signal: deps.signal } : {}) })).docker;
    const recovery = await recoverInterrupted({ root, config, docker, logger: log });
    if (recovery.actions.length) emit({ type: 'recovered', recovery });
    lap('lock, engine and recovery');

    // ---- PLAN
    const tPlan = Date.now();
    const startedAt = now();
    // The host's state and the plan, side by side: one `git status` covers the SSOT documents and
    // every folder a scope.modify can reach (filtered by the plan's own globs below), and its
    // rev-parse gives the HEAD the plan is built on.
    const docs = ssotDocs(config);
    const host = hostChanges(root, [...docs, ...(modifyGlobsOf(config) ?? ['**'])], deps.signal);
    const [hostState, prepared] = await Promise.allSettled([
      host,
      preparePlan(root, config, { ...(opts.ticket ? { ticket: opts.ticket } : {}), ...(opts.agent ? { agent: opts.agent } : {}), now: startedAt, head: host.then((h) => h.head), ...(deps.signal ? { signal: deps.signal } : {}) }),
    ]);
    // A repository without a commit fails every question; say the plain reason first.
    const baseCommit = hostState.status === 'fulfilled' ? hostState.value.head : await headCommit(root, deps.signal);
    if (!baseCommit) throw new FactoryError(`${root} has no commit: the cycle exports HEAD to the Worker; commit first`, 'no-commit', 2);
    const changed = settled(hostState).paths;
    const dirtyDocs = changed.filter((p) => docs.includes(p));
    if (dirtyDocs.length) throw new FactoryError(`the SSOT documents have uncommitted changes (${dirtyDocs.join(', ')}); commit or revert them first: ADJUST commits its own edits of them`, 'ssot-dirty', 2);
    const { index, built } = settled(prepared);
    // The Worker sees HEAD and ADJUST would overwrite the host's copy: refuse before anything starts.
    const dirtyScope = matchingPaths(changed, built.plan.scope.modify);
    if (dirtyScope.length) throw dirtyScopeError(dirtyScope);
    const plan = built.plan;
    lap('SSOT index and plan');
    const outcome = emptyOutcome(plan);
    const history = cycleRecords(paths.history);
    const ks = evaluateKillSwitches(history, plan.ticket_id, config);
    outcome.escalated = ks.escalate;
    const owner = ownerTag();
    const state: CycleState = { version: 1, runId: plan.run_id, ticketId: plan.ticket_id, acIds: plan.ac_ids, phase: 'PLAN', baseCommit, startedAt: startedAt.toISOString(), owner };
    const setPhase = async (phase: CyclePhase, extra: Partial<CycleState> = {}) => {
      Object.assign(state, extra, { phase });
      await writeCycleState(paths.state, state);
      emit({ type: 'phase', runId: plan.run_id, phase, at: now().toISOString() });
      faultPoint(phase);
    };
    await setPhase('PLAN');
    if (ks.block) {
      // The cap was reached earlier but the roadmap does not say BLOCKED yet (e.g. edited by hand).
      outcome.status = 'BLOCKED';
      outcome.reasons.push(ks.reason ?? 'retry cap');
      await blockTicket(root, config, paths, plan, outcome, ks.reason ?? 'retry cap', 'FAIL', now, deps.signal);
      return await finish(outcome);
    }
    await fs.promises.mkdir(paths.autopilot, { recursive: true });
    await atomicWrite(paths.plan, JSON.stringify(plan, null, 2) + '\n');
    emit({ type: 'plan', plan, escalate: ks.escalate, auditorRequired: built.risk.auditorRequired });
    outcome.timings.phases.PLAN = Date.now() - tPlan;

    // ---- DO
    const tDo = Date.now();
    await setPhase('DO');
    const replayFile = opts.replayDir ? path.join(opts.replayDir, `${plan.ticket_id}.json`) : undefined;
    if (plan.agent === 'replay' && (!replayFile || !fs.existsSync(replayFile))) {
      throw new FactoryError(`no recording for ${plan.ticket_id}: the replay agent needs ${replayFile ?? '--replay DIR'}`, 'agent_config', 2);
    }
    lap('PLAN recorded');
    staging = await createStagingCopy({ root, runId: plan.run_id, commit: baseCommit, dirtyChecked: true, modify: plan.scope.modify, workspaceMb: config.worker.workspaceMb, memoryMb: config.worker.memoryMb, ...(deps.signal ? { signal: deps.signal } : {}) });
    await setPhase('DO', { stagingDir: staging.dir });
    lap(`staging copy in ${staging.placement.kind === 'tmpfs' ? 'RAM' : staging.placement.root} (${staging.placement.reason})`);
    const inner = new AbortController();
    let budgetHit = false;
    const onOuter = () => inner.abort();
    deps.signal?.addEventListener('abort', onOuter, { once: true });
    launch = await prepareWorkerLaunch({
      plan,
      config,
      acs: built.acs,
      rules: readText(root, config.ssot.rules),
      ...(replayFile ? { replayFile } : {}),
      ...(opts.runtimeFile ? { runtimeFile: opts.runtimeFile } : {}),
      ...(opts.keys ? { keys: opts.keys } : {}),
      onBudgetExceeded: () => {
        budgetHit = true;
        inner.abort();
      },
      logger: log,
    });
    lap('gateway and agent set up');
    const ws = staging.workspace;
    const protectedGlobs = [...plan.scope.readonly, ...plan.scope.forbidden];
    const overlays = overlayTargets(overlayListing(ws, protectedGlobs), protectedGlobs).slice(0, 200);
    const mounts: ContainerMount[] = [
      { hostPath: ws, containerPath: SANDBOX_PATHS.workspace, readOnly: false },
      ...overlays.map((p) => ({ hostPath: path.join(ws, p), containerPath: `${SANDBOX_PATHS.workspace}/${p}`, readOnly: true })),
      { hostPath: staging.control, containerPath: SANDBOX_PATHS.planDir, readOnly: true },
      { hostPath: staging.output, containerPath: SANDBOX_PATHS.outDir, readOnly: false },
      ...launch.mounts,
    ];
    const [uid, gid] = [staging.uid, staging.gid];
    let run: ContainerResult;
    let before: Snapshot;
    let growth: WorkspaceWatch | undefined;
    const tAgent = Date.now();
    try {
      const running = runContainer(
        {
          image: opts.image ?? config.worker.image,
          cmd: launch.command,
          env: { HOME: SANDBOX_PATHS.home, FACTORY_PLAN: SANDBOX_PATHS.plan, FACTORY_OUT: SANDBOX_PATHS.outDir, FACTORY_RESULT: SANDBOX_PATHS.result, FACTORY_RUN_ID: plan.run_id, PYTHONDONTWRITEBYTECODE: '1', ...launch.env },
          user: `${uid}:${gid}`,
          workdir: SANDBOX_PATHS.workspace,
          mounts,
          tmpfs: ['/tmp', SANDBOX_PATHS.home],
          limits: { ...DEFAULT_LIMITS, memoryMb: config.worker.memoryMb, cpus: config.worker.cpus, pidsLimit: config.worker.pidsLimit, tmpfsMb: config.worker.tmpfsMb, fileSizeMb: config.worker.workspaceMb },
          labels: { runId: plan.run_id, ticket: plan.ticket_id, role: 'worker' },
          timeoutMs: plan.timeout_minutes * 60_000,
          cleanupPath: staging.dir,
          logCapBytes: config.worker.logCapMb * 1024 * 1024,
        },
        { docker, logger: log, signal: inner.signal, onStart: () => faultPoint('DO:running'), onOutput: (_s, chunk) => emit({ type: 'output', runId: plan.run_id, source: 'worker', text: chunk.toString('utf8') }) },
      );
      // A refusal (a spec the runner rejects, no engine) surfaces at `await running` below; until
      // then it must not count as an unhandled rejection while the snapshot is taken.
      running.catch(() => undefined);
      // The container starts while the base snapshot is taken. Its runtime starts the agent only
      // once plan.json is there, and plan.json is written only when the snapshot is complete, so
      // nothing the Worker does can happen before the state it is measured against.
      try {
        await faultDelay('DO:snapshot');
        before = await baseSnapshot(staging, plan.scope.modify);
        lap(`snapshot of ${before.size} entries, container starting meanwhile`);
        // Every host folder the Worker may write counts against the cap: the workspace, its output
        // folder and the agent's log folder.
        const extraDirs = mounts.filter((m) => !m.readOnly && m.hostPath !== ws).map((m) => m.hostPath);
        growth = await watchWorkspace(ws, { baseBytes: snapshotBytes(before), growthMb: config.worker.workspaceMb, extraDirs, onOver: () => inner.abort() });
        writeBaseEntries(staging, before);
        const planTmp = path.join(staging.control, '.plan.json.tmp');
        fs.writeFileSync(planTmp, JSON.stringify(plan, null, 2) + '\n', { mode: 0o644 });
        fs.renameSync(planTmp, path.join(staging.control, 'plan.json'));
      } catch (err) {
        inner.abort();
        await running.catch(() => undefined);
        throw err;
      }
      run = await running;
    } finally {
      growth?.stop();
      deps.signal?.removeEventListener('abort', onOuter);
    }
    outcome.timings.agentMs = Date.now() - tAgent;
    lap('Worker container');
    const agent = await launch.finish();
    lap('gateway closed, agent report read');
    // The agent's own time, as the runtime measured it (a figure for the benchmark, never a
    // decision): the agent process and the Worker's gate commands, not the runtime's own work.
    outcome.timings.agentOwnMs = Math.min(outcome.timings.agentMs, agent.report?.agentMs ?? agent.report?.durationMs ?? outcome.timings.agentMs);
    outcome.costUsd = agent.gateway.requests > 0 ? agent.gateway.costUsd : (agent.report?.costUsd ?? 0);
    if (deps.signal?.aborted) throw new FactoryError('interrupted', 'interrupted', 130);
    const after = await afterSnapshot(staging, before, deps.signal);
    const changes: Change[] = diffSnapshots(before, after);
    const overCap = await growth.exceeded(after);
    lap(`after snapshot, changeset of ${changes.length}`);
    outcome.changes = changes.map((c) => ({ path: c.path, kind: c.kind }));
    outcome.violations = checkScope(changes, plan.scope);
    let result: (WorkerResult & { forced: boolean }) | null = null;
    const resultFile = path.join(staging.output, 'result.json');
    if (fs.existsSync(resultFile) || isSymlink(resultFile)) {
      try {
        result = readResultJson(resultFile);
      } catch (err) {
        outcome.reasons.push(`result.json rejected: ${errorMessage(err)}`);
      }
    } else {
      outcome.reasons.push('the Worker wrote no result.json');
    }
    outcome.timings.phases.DO = Date.now() - tDo;

    // ---- CHECK
    const tCheck = Date.now();
    await setPhase('CHECK');
    let timedOut = false;
    if (run.status === 'timeout') {
      timedOut = true;
      outcome.reasons.push(`time cap: the Worker ran past ${plan.timeout_minutes} min and was killed`);
    } else if (overCap) {
      outcome.reasons.push(`workspace size cap: the Worker wrote more than ${config.worker.workspaceMb} MiB into the staging copy and was stopped`);
    } else if (budgetHit || agent.gateway.budgetExceeded) {
      outcome.reasons.push(`budget cap: the cycle spent $${agent.gateway.costUsd.toFixed(4)} of $${config.killSwitch.budgetUsd.toFixed(2)}; the gateway refused further calls`);
    } else if (run.status === 'error') {
      throw new FactoryError(`the Worker container failed: ${run.error ?? 'unknown error'}`, 'worker-error', 1);
    } else if (run.status === 'exited' && run.exitCode !== 0) {
      outcome.reasons.push(`the Worker exited with code ${run.exitCode}${agent.report ? ` (agent: ${agent.report.outcome})` : ''}`);
    }
    if (run.oomKilled) outcome.reasons.push('the Worker ran out of memory (OOM-killed)');
    if (outcome.violations.length) {
      outcome.reasons.push(`${outcome.violations.length} change(s) outside the plan's scope: ${outcome.violations.map((v) => `${v.path} (${v.rule})`).join(', ')}`);
    }
    if (result && result.status !== 'PASS') outcome.reasons.push(result.forced ? 'result.json claims PASS while one of its gate results is FAIL' : `the Worker reported ${result.status}`);
    if (changes.length === 0 && outcome.reasons.length === 0) outcome.reasons.push('the Worker changed nothing');

    let gate: GateReport | undefined;
    if (outcome.reasons.length === 0) {
      const tGate = Date.now();
      // The staging copy itself, read-only, in a fresh container per step (gate.runIn "host" runs
      // on it directly): no second copy of the tree (10 s on 10,000 files), and what the Gate
      // verified is byte for byte what ADJUST applies — the tests cannot rewrite it on the way.
      const runner =
        config.gate.runIn === 'host'
          ? new HostRunner({ cwd: ws })
          : new ContainerRunner({
              treeDir: ws,
              image: opts.image ?? config.worker.image,
              limits: { memoryMb: config.worker.memoryMb, cpus: config.worker.cpus, pidsLimit: config.worker.pidsLimit, tmpfsMb: config.worker.tmpfsMb },
              user: `${staging.uid}:${staging.gid}`,
              readOnly: true,
              runId: plan.run_id,
              ticket: plan.ticket_id,
              cleanupPath: staging.dir,
              docker,
              logger: log,
            });
      gate = await runGate({ config, treeDir: ws, treeHash: stagingTreeHash(staging, changes, after), runner, cache: new GateCache(paths.gateCache), runId: plan.run_id, logger: log, ...(deps.signal ? { signal: deps.signal } : {}) });
      outcome.timings.gateMs = Date.now() - tGate;
      lap('Gate');
      outcome.timings.gateCommandMs = Math.round([...gate.guards, ...gate.stages].reduce((sum, st) => sum + (st.cached ? 0 : st.durationMs), 0));
      emit({ type: 'output', runId: plan.run_id, source: 'gate', text: gate.log });
      if (gate.status !== 'PASS') outcome.reasons.push(`Gate FAIL at ${gate.failedAt ?? 'unknown step'}`);
    }
    // The Auditor: required by risk (only worth paying for when all else passed), or escalation.
    const auditNeeded = ks.escalate || (built.risk.auditorRequired && outcome.reasons.length === 0);
    if (auditNeeded && !timedOut) {
      const tAudit = Date.now();
      const audit: AuditOutcome = await runAuditor(
        { root, config, plan, workspace: ws, changes, rules: readText(root, config.ssot.rules), ...(opts.replayDir ? { replayFile: path.join(opts.replayDir, `${plan.ticket_id}.audit.json`) } : {}), ...(opts.image ? { image: opts.image } : {}), ...(opts.runtimeFile ? { runtimeFile: opts.runtimeFile } : {}), reason: ks.escalate ? 'escalation' : 'risk', ...(opts.keys ? { keys: opts.keys } : {}) },
        { docker, logger: log, ...(deps.signal ? { signal: deps.signal } : {}) },
      );
      outcome.timings.auditMs = Date.now() - tAudit;
      outcome.costUsd += audit.costUsd;
      await fs.promises.mkdir(paths.audits, { recursive: true });
      const reportFile = path.join(paths.audits, `${plan.run_id}.json`);
      await atomicWrite(reportFile, JSON.stringify(audit.report, null, 2) + '\n');
      outcome.audit = { verdict: audit.report.verdict, violations: audit.report.violations.length, report: rel(root, reportFile) };
      if (audit.report.verdict !== 'PASS') outcome.reasons.push(`Auditor verdict FAIL: ${audit.report.violations.map((v) => `${v.file}${v.line ? `:${v.line}` : ''} ${v.rule}`).join('; ') || audit.report.summary || 'no detail'}`);
    }
    let pnl: Record<string, unknown> | undefined;
    const profit = isProfitTicket(plan.ticket_id, config.evidence.profitTickets);
    if (profit && outcome.reasons.length === 0) {
      pnl = readWorkerPnl(staging.output);
      if (!pnl) outcome.reasons.push('profit ticket: the Worker produced no valid pnl_breakdown.json in /factory/out');
    }
    if (deps.review && outcome.reasons.length === 0 && gate) {
      emit({ type: 'review', runId: plan.run_id, changes: outcome.changes.length });
      const decision = await deps.review({ runId: plan.run_id, ticketId: plan.ticket_id, acIds: [...plan.ac_ids], baseCommit, workspace: ws, changes: outcome.changes, audit: outcome.audit });
      if (deps.signal?.aborted) throw new FactoryError('interrupted during the changeset review', 'interrupted', 130);
      if (!decision.approved) outcome.reasons.push(`rejected in review: ${decision.reason || 'no reason given'}`);
    }
    outcome.timings.phases.CHECK = Date.now() - tCheck;

    // ---- ADJUST
    const tAdjust = Date.now();
    lap('CHECK done');
    if (outcome.reasons.length === 0 && gate) {
      // The gateway's per-call records (no headers or bodies: provider, model, tokens, cost).
      const gatewayLog = agent.records.map((r) => JSON.stringify(r)).join('\n');
      await adjustPass({ root, config, paths, plan, built, index, changes, before, staging, gate, result, pnl, profit, startedAt, outcome, state, setPhase, now, signal: deps.signal, gatewayLog, lap });
    } else {
      keepStaging = true;
      outcome.stagingKept = staging.dir;
      const cause: CycleStatus = timedOut ? 'TIMEOUT' : 'FAIL';
      const projected = evaluateKillSwitches([...history, { runId: plan.run_id, ticketId: plan.ticket_id, status: cause, endedAt: now().toISOString(), costUsd: outcome.costUsd }], plan.ticket_id, config);
      const capReason = timedOut
        ? `time cap (${plan.timeout_minutes} min)`
        : budgetHit || agent.gateway.budgetExceeded
          ? `budget cap ($${config.killSwitch.budgetUsd.toFixed(2)})`
          : projected.block
            ? projected.reason
            : undefined;
      if (capReason) {
        outcome.status = timedOut ? 'TIMEOUT' : 'BLOCKED';
        await blockTicket(root, config, paths, plan, outcome, capReason, cause, now, deps.signal);
      } else {
        outcome.status = cause;
        await record(paths, config, plan, outcome, cause, now);
      }
    }
    outcome.timings.phases.ADJUST = Date.now() - tAdjust;
    return await finish(outcome);
  } catch (err) {
    // An interruption or an internal failure mid-cycle: nothing was applied unless ADJUST had
    // begun, and then the state file lets the next start finish it or roll it back.
    // A failure inside ADJUST is rolled back at once, so the host never keeps half a cycle.
    const st = readCycleState(paths.state);
    if (st) {
      try {
        const committed = st.phase === 'ADJUST' ? await adjustCommitted(root, st) : null;
        if (st.phase === 'ADJUST' && !committed) await rollbackAdjust(root, config, st);
        if (!committed) await abortOnce(paths.history, st.runId, st.ticketId, errorMessage(err));
        if (st.backupDir) await fs.promises.rm(st.backupDir, { recursive: true, force: true });
        await clearCycleState(paths.state);
      } catch (cleanup) {
        // Leave the state file: the next start retries the rollback.
        log.error(`could not roll back run ${st.runId}: ${errorMessage(cleanup)}`);
      }
    }
    throw err;
  } finally {
    // A FAILed cycle keeps its staging copy for inspection, and with it what the agent said.
    if (keepStaging && staging && launch) {
      try {
        launch.keepOutput(path.join(staging.dir, 'agent'));
      } catch (err) {
        log.warn(`could not keep the agent's output next to the staging copy: ${errorMessage(err)}`);
      }
    }
    await launch?.dispose();
    // The outcome is settled; the copy is deleted while the caller goes on.
    if (staging && !keepStaging) void staging.disposeInBackground();
    pruneKeptStaging(paths.history, opts.keepFailedStaging ?? 3);
    await lock.release();
  }

  /** The cycle is over (whatever its status): no state left for a restart to recover. */
  async function finish(outcome: CycleOutcome): Promise<CycleOutcome> {
    await clearCycleState(paths.state);
    outcome.timings.totalMs = Date.now() - t0;
    emit({ type: 'end', outcome });
    return outcome;
  }
}

/**
 * "Another Controller is running" is wrong when that Controller died (a crash, a SIGKILL): its
 * lock only goes stale after `staleMs`. Say so, with the run it left behind.
 */
function explainLocked(err: unknown, state: CycleState | null, staleMs: number): unknown {
  if (!(err instanceof FactoryError) || err.code !== 'locked' || !state) return err;
  const i = state.owner.lastIndexOf(':');
  const pid = Number(state.owner.slice(i + 1));
  if (state.owner.slice(0, i) !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return err;
  try {
    process.kill(pid, 0);
    return new FactoryError(`${err.message} (pid ${pid}, run ${state.runId} in ${state.phase})`, 'locked', 3);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return err;
  }
  return new FactoryError(
    `the Controller that ran ${state.runId} (pid ${pid}) stopped during ${state.phase}; its repo lock goes stale within ${Math.round(staleMs / 1000)} s — run again then, and the interrupted cycle is finished or recorded ABORTED`,
    'locked',
    3,
  );
}

function rel(root: string, p: string): string {
  return path.relative(root, p).split(path.sep).join('/');
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The Worker's pnl_breakdown.json (untrusted: regular file, ≤ 1 MB, a JSON object of numbers). */
function readWorkerPnl(outDir: string): Record<string, unknown> | undefined {
  const file = path.join(outDir, 'pnl_breakdown.json');
  if (!fs.existsSync(file) && !isSymlink(file)) return undefined;
  try {
    return readUntrustedJson(file, z.record(z.string(), z.union([z.number(), z.string(), z.record(z.string(), z.number())])), 1024 * 1024, 'pnl_breakdown.json');
  } catch {
    return undefined;
  }
}

type Paths = ReturnType<typeof cyclePaths>;

/** Append this cycle's one history line and refresh the month's cost summary. */
async function record(paths: Paths, _config: FactoryConfig, plan: Plan, outcome: CycleOutcome, cause: CycleStatus, now: () => Date, extra: Record<string, unknown> = {}): Promise<string> {
  const endedAt = now().toISOString();
  await appendHistory(paths.history, {
    runId: plan.run_id,
    ticketId: plan.ticket_id,
    acIds: plan.ac_ids,
    status: outcome.status,
    ...(cause !== outcome.status ? { cause } : {}),
    endedAt,
    costUsd: outcome.costUsd,
    agent: plan.agent,
    reasons: outcome.reasons,
    ...(outcome.stagingKept ? { stagingKept: outcome.stagingKept } : {}),
    ...(outcome.audit ? { audit: outcome.audit.verdict } : {}),
    // For the Run panel's timeline once the cycle is over (the live one is gone after a reload).
    phases: (['PLAN', 'DO', 'CHECK', 'ADJUST'] as const).map((name) => ({
      name,
      status:
        name === 'ADJUST' ? (outcome.status === 'PASS' ? 'PASS' : 'SKIPPED')
        : outcome.timings.phases[name] === undefined ? 'SKIPPED'
        : name === 'CHECK' && outcome.status !== 'PASS' ? 'FAIL'
        : 'PASS',
      durationMs: outcome.timings.phases[name] ?? null,
    })),
    // For the Run panel and the Runs view: a FAIL keeps no evidence folder, only this line.
    ...(outcome.violations.length ? { scopeViolations: outcome.violations.slice(0, 100).map((v) => `${v.path} (${v.rule})`) } : {}),
    ...extra,
  });
  const month = monthOf(endedAt);
  const file = paths.costSummary(month);
  await atomicWrite(file, JSON.stringify(summarizeMonth(cycleRecords(paths.history), month), null, 2) + '\n');
  return file;
}

/** A kill switch fired: BLOCKED (with the reason) in the roadmap, one history line, one commit. */
async function blockTicket(root: string, config: FactoryConfig, paths: Paths, plan: Plan, outcome: CycleOutcome, reason: string, cause: CycleStatus, now: () => Date, signal?: AbortSignal): Promise<void> {
  outcome.blocked = true;
  outcome.reasons.push(`ticket ${plan.ticket_id} set BLOCKED: ${reason}`);
  const roadmap = path.join(root, config.ssot.roadmap);
  let edited = false;
  try {
    edited = await editDocument(roadmap, (t) => setTicketStatus(t, plan.ticket_id, { status: 'BLOCKED', reason }));
  } catch (err) {
    outcome.reasons.push(`could not mark ${plan.ticket_id} BLOCKED in ${config.ssot.roadmap}: ${errorMessage(err)}`);
  }
  const summary = await record(paths, config, plan, outcome, cause, now, { blockedReason: reason });
  if (config.git.commit && edited) {
    const files = [config.ssot.roadmap, rel(root, paths.history), rel(root, summary), rel(root, paths.plan)];
    if (outcome.audit) files.push(outcome.audit.report);
    outcome.commit = await commitPaths(root, files.filter((f) => fs.existsSync(path.join(root, f))), `factory: ${plan.ticket_id} BLOCKED (${reason})\n\nThe kill switch stopped the ticket after run ${plan.run_id}; a person has to look at it.\nCost of the cycle: $${outcome.costUsd.toFixed(4)}\n\nFactory-Run: ${plan.run_id}\n`, signal);
  }
}

/** Keep only the newest `keep` FAILed staging copies named in history. */
function pruneKeptStaging(historyFile: string, keep: number): void {
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

interface AdjustInput {
  root: string;
  config: FactoryConfig;
  paths: Paths;
  plan: Plan;
  built: BuiltPlan;
  index: SsotIndex;
  changes: Change[];
  before: Snapshot;
  staging: StagingCopy;
  gate: GateReport;
  result: (WorkerResult & { forced: boolean }) | null;
  pnl: Record<string, unknown> | undefined;
  profit: boolean;
  startedAt: Date;
  outcome: CycleOutcome;
  state: CycleState;
  setPhase: (phase: CyclePhase, extra?: Partial<CycleState>) => Promise<void>;
  now: () => Date;
  signal: AbortSignal | undefined;
  /** gateway.jsonl for the evidence run. */
  gatewayLog: string;
  lap: (step: string) => void;
}

/**
 * ADJUST on PASS. Every file it will rewrite is backed up first and named in the state file, so a
 * crash anywhere below is rolled back (or, once the commit exists, completed) on the next start —
 * never applied twice.
 */
async function adjustPass(a: AdjustInput): Promise<void> {
  const { root, config, paths, plan, outcome } = a;
  const evidenceRel = `${config.paths.evidence.replace(/\/+$/, '')}/${plan.run_id}/`;
  const month = monthOf(a.now().toISOString());
  const controllerFiles = [...ssotDocs(config), rel(root, paths.history), rel(root, paths.costSummary(month)), rel(root, paths.plan)];
  const backupDir = path.join(paths.autopilot, `.adjust-${plan.run_id}`);
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
  await a.setPhase('ADJUST', { changes: outcome.changes, backups, backupDir });
  a.lap('ADJUST backups');

  const applied = await applyChangeset({ hostRoot: root, stagingRoot: a.staging.workspace, changes: a.changes, base: a.before });
  if (!applied.applied) {
    // SECURITY 15: the user edited a file in scope during the cycle; nothing was written.
    outcome.status = 'FAIL';
    outcome.reasons.push(`conflict: the host changed under the cycle: ${applied.conflicts.map((c) => `${c.path} (${c.reason})`).join(', ')}`);
    outcome.stagingKept = a.staging.dir;
    await record(paths, config, plan, outcome, 'FAIL', a.now);
    await fs.promises.rm(backupDir, { recursive: true, force: true });
    return;
  }
  faultPoint('ADJUST:applied');
  a.lap('changeset applied');

  // Ledger: every AC of the plan DONE with its evidence and the commit it was verified on.
  const shortBase = a.state.baseCommit.slice(0, 7);
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
  faultPoint('ADJUST:documents');
  a.lap('ledger and roadmap');

  const git = await collectGitInfo(root, a.startedAt, a.signal);
  a.lap('git info');
  const evidence = await writeEvidence(paths.evidence, {
    runId: plan.run_id,
    ticketId: plan.ticket_id,
    taskName: a.built.ticket?.title ?? '',
    acIds: plan.ac_ids,
    status: 'PASS',
    startedAt: a.startedAt,
    endedAt: a.now(),
    git: { ...git, commit: a.state.baseCommit },
    gate: a.gate,
    commands: [{ title: `Worker: ${plan.agent}`, command: ['factory', 'run', '--ticket', plan.ticket_id, '--agent', plan.agent], status: a.result?.status ?? 'PASS' }],
    kpi: { ...(a.result?.kpi_summary ?? {}), files_changed: outcome.changes.length, agent: plan.agent },
    ...(a.profit && a.pnl ? { pnlBreakdown: a.pnl } : {}),
    profitRelated: a.profit,
    worker: { claimedStatus: a.result?.status ?? 'NONE', recordedStatus: 'PASS', overridden: false, ...(a.result?.model_used ? { model: a.result.model_used } : {}) },
    costUsd: outcome.costUsd,
    ...(a.gatewayLog ? { extraFiles: [{ path: 'gateway.jsonl', content: a.gatewayLog + '\n' }] } : {}),
    reproduce: [`git checkout ${a.state.baseCommit.slice(0, 12)}`, `factory gate --no-cache`, `factory evidence-check ${plan.run_id}`],
  });
  a.lap('evidence written');
  const check = validateEvidence(evidence.dir, { profitTickets: config.evidence.profitTickets });
  if (!check.valid) throw new FactoryError(`the evidence of ${plan.run_id} does not validate: ${check.problems.map((p) => p.message).join('; ')}`, 'evidence-invalid', 1);
  outcome.evidencePath = evidenceRel;
  outcome.status = 'PASS';
  const summary = await record(paths, config, plan, outcome, 'PASS', a.now, { evidence: evidenceRel, changes: outcome.changes.length });
  faultPoint('ADJUST:recorded');
  a.lap('evidence checked, history recorded');

  if (config.git.commit) {
    const files = [...new Set([...outcome.changes.map((c) => c.path), ...ssotDocs(config).filter((d) => fs.existsSync(path.join(root, d))), evidenceRel.replace(/\/$/, ''), rel(root, paths.history), rel(root, summary), rel(root, paths.plan)])];
    const message = [
      `factory: ${plan.ticket_id} PASS — ${plan.ac_ids.join(', ')} DONE`,
      '',
      `Evidence: ${evidenceRel}`,
      `Cost: $${outcome.costUsd.toFixed(4)} (agent ${plan.agent}, risk ${plan.risk_level})`,
      `Changed: ${outcome.changes.map((c) => `${c.path} (${c.kind})`).join(', ')}`,
      '',
      `Factory-Run: ${plan.run_id}`,
      '',
    ].join('\n');
    outcome.commit = await commitPaths(root, files, message, a.signal);
    faultPoint('ADJUST:committed');
    a.lap('committed');
    if (config.git.push) {
      // The repository's upstream, with the same guards as every host git call (no hooks: no
      // pre-push program runs); a failure keeps the commit and is reported.
      const r = await execCapture('git', [...SAFE_GIT, '-C', root, 'push'], { ...(a.signal ? { signal: a.signal } : {}) });
      if (r.code !== 0) outcome.reasons.push(`git push failed (the commit is kept): ${r.stderr.trim()}`);
    }
  }
  await fs.promises.rm(backupDir, { recursive: true, force: true });
}
