import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { applyChangeset } from '../changeset/apply';
import { diffSnapshots } from '../changeset/diff';
import { checkScope } from '../changeset/scope';
import { snapshotBytes, type Snapshot } from '../changeset/snapshot';
import type { Plan } from '../contracts/plan';
import { connectDocker } from '../docker/connect';
import { acquireRepoLock, type RepoLock } from '../lock/repo-lock';
import { errorMessage } from '../util/errors';
import { nullLogger, type Logger, type ProgressSink } from '../util/log';
import type { ContainerLimits, ContainerMount, ContainerResult } from './container-spec';
import { DEFAULT_JOB_LIMITS, startJob } from './job';
import { reapOrphans } from './reaper';
import { beginRecord, endRecord } from './sandbox-record';
import { decide, dropIgnored, emptyReport, readResult, type SandboxReport } from './sandbox-verdict';
import { afterSnapshot, baseSnapshot, writeBaseEntries } from './staging-snapshots';
import { createStagingCopy, type StagingCopy } from './staging';
import { workerJob } from './worker-job';


/** runSandbox's result (its verdict lives in sandbox-verdict.ts). */
export type { SandboxReport, SandboxStatus } from './sandbox-verdict';

export const DEFAULT_WORKER_IMAGE = 'agentic-factory/worker-base:bookworm';

export interface SandboxOptions {
  /** Host repository (a git checkout); its HEAD is exported. */
  root: string;
  plan: Plan;
  /** argv run as the Worker inside the container (no shell unless you put one there). */
  command: string[];
  image?: string;
  /** Time cap; default `plan.timeout_minutes`. */
  timeoutMs?: number;
  /** Apply a PASSing changeset to the host (under the repo lock). Without it the host is never written. */
  apply?: boolean;
  /** The container's limits (the largest file is always the workspace cap). */
  limits?: Partial<Omit<ContainerLimits, 'fileSizeMb'>>;
  /** Growth cap of the workspace, MiB (the Worker is stopped when it writes more). Default 1024. */
  workspaceMb?: number;
  /** Extra environment for the Worker (never secrets: they would show in `docker inspect`). */
  env?: Record<string, string>;
  /** Extra mounts (e.g. the model gateway's socket folder, read-only). */
  extraMounts?: ContainerMount[];
  /** Demultiplexed Worker output is appended here (capped). */
  logFile?: string;
  logCapBytes?: number;
  /**
   * history.jsonl to record this cycle in (and an earlier cycle whose Controller died mid-way, as
   * ABORTED; a `<history>.inflight.json` marker lives beside it during the run). Nothing is
   * recorded when absent.
   */
  historyFile?: string;
  /** Stale time of the repo lock (ms). */
  lockStaleMs?: number;
}

export interface SandboxDeps {
  docker?: Docker;
  logger?: Logger;
  signal?: AbortSignal;
  progress?: ProgressSink;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** Called with the container id once the Worker started. */
  onStart?: (containerId: string) => void | Promise<void>;
}


/** One sandbox run's moving parts, passed between its steps. */
interface SandboxRun {
  opts: SandboxOptions;
  deps: SandboxDeps;
  docker: Docker;
  logger: Logger;
  report: SandboxReport;
  progress: (step: number, message: string) => void;
}

/**
 * One Worker run, start to finish (DESIGN §5): reap orphans → take the repo lock → export the base
 * commit to a staging copy (refusing when scope.modify is dirty) → snapshot → run the command in
 * the hardened container with plan.json read-only at /factory/plan/plan.json and readonly/
 * forbidden paths overlaid read-only → snapshot → changeset → scope check → result.json check →
 * (with `apply` and a PASS) apply to the host. The staging copy is always deleted.
 */
export async function runSandbox(opts: SandboxOptions, deps: SandboxDeps = {}): Promise<SandboxReport> {
  const logger = deps.logger ?? nullLogger;
  const t0 = Date.now();
  const plan = opts.plan;
  const report = emptyReport(plan);
  const steps = opts.apply ? 6 : 5;
  const progress = (step: number, message: string) => deps.progress?.({ step, maxStep: steps, message });
  const docker = deps.docker ?? (await connectDocker({ signal: deps.signal })).docker;
  const ctx: SandboxRun = { opts, deps, docker, logger, report, progress };

  progress(1, 'reaping orphaned containers');
  report.reaped = await reapOrphans({ docker, logger });
  let lock: RepoLock | undefined;
  let staging: StagingCopy | undefined;
  let markerWritten = false;
  try {
    lock = await acquireRepoLock(opts.root, { staleMs: opts.lockStaleMs, logger });
    if (opts.historyFile) {
      await beginRecord(opts.historyFile, plan);
      markerWritten = true;
    }
    progress(2, 'exporting the staging copy');
    staging = await createStagingCopy({ root: opts.root, runId: plan.run_id, modify: plan.scope.modify, signal: deps.signal, workspaceMb: opts.workspaceMb ?? 1024, memoryMb: opts.limits?.memoryMb ?? DEFAULT_JOB_LIMITS.memoryMb });
    report.baseCommit = staging.baseCommit;
    fs.writeFileSync(path.join(staging.control, 'plan.json'), JSON.stringify(plan, null, 2) + '\n', { mode: 0o644 });
    const before = await baseSnapshot(staging, plan.scope.modify);
    writeBaseEntries(staging, before);
    progress(3, `running the Worker (${opts.command[0]})`);
    const { run, exceeded } = await runWorker(ctx, staging, before);
    report.exitCode = run.exitCode;
    report.container = { status: run.status, containerId: run.containerId, durationMs: run.durationMs, oomKilled: run.oomKilled, warnings: run.warnings, logTruncated: run.logTruncated };
    progress(4, 'checking the changeset');
    await checkRun(ctx, staging, before, run, exceeded, lock);
  } catch (err) {
    report.status = 'ERROR';
    report.reasons.push(errorMessage(err));
    if (!(err instanceof Error && err.name === 'FactoryError')) logger.error(err instanceof Error ? err : String(err));
  } finally {
    staging?.dispose();
    await lock?.release();
    report.durationMs = Date.now() - t0;
  }
  await endRecord(opts.historyFile, report, plan.agent, markerWritten);
  progress(steps, `done: ${report.status}`);
  return report;
}

/** The Worker's container over the staging copy, held to the growth cap from the base snapshot's size. */
async function runWorker(ctx: SandboxRun, staging: StagingCopy, before: Snapshot): Promise<{ run: ContainerResult; exceeded: (after: Snapshot) => Promise<boolean> }> {
  const { opts, deps } = ctx;
  const workspaceMb = opts.workspaceMb ?? 1024;
  const job = workerJob({
    role: 'sandbox',
    plan: opts.plan,
    staging,
    listing: before,
    image: opts.image ?? DEFAULT_WORKER_IMAGE,
    cmd: opts.command,
    // Python caches go to /tmp, so running the tests does not litter the changeset.
    env: { PYTHONPYCACHEPREFIX: '/tmp/pycache', ...opts.env },
    ...(opts.extraMounts ? { extraMounts: opts.extraMounts } : {}),
    limits: { ...DEFAULT_JOB_LIMITS, workspaceMb, ...opts.limits },
    repo: opts.root,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
    ...(opts.logCapBytes ? { logCapBytes: opts.logCapBytes } : {}),
    logger: ctx.logger,
  });
  const running = startJob(job, { docker: ctx.docker, logger: ctx.logger, ...(deps.signal ? { signal: deps.signal } : {}), ...(deps.onOutput ? { onOutput: deps.onOutput } : {}), ...(deps.onStart ? { onStart: deps.onStart } : {}) });
  await running.watchGrowth(snapshotBytes(before));
  return { run: await running.done, exceeded: (after) => running.exceeded(after) };
}

/** After the run: changeset → scope → result.json → verdict → (with `apply` and a PASS) apply. */
async function checkRun(ctx: SandboxRun, staging: StagingCopy, before: Snapshot, run: ContainerResult, exceeded: (after: Snapshot) => Promise<boolean>, lock: RepoLock): Promise<void> {
  const { opts, deps, report } = ctx;
  try {
    const after = await afterSnapshot(staging, before, deps.signal);
    const { changes, ignored } = await dropIgnored(path.resolve(opts.root), diffSnapshots(before, after), opts.plan.scope, deps.signal);
    report.ignored = { count: ignored.length, sample: ignored.slice(0, 20) };
    report.changeset = changes.map((c) => ({ path: c.path, kind: c.kind }));
    report.violations = checkScope(changes, opts.plan.scope);
    if (run.status !== 'error') readResult(staging, report);
    decide(report, run, await exceeded(after), deps.signal?.aborted === true);
    if (report.status === 'PASS' && opts.apply) {
      ctx.progress(5, 'applying the changeset to the host');
      if (lock.compromised) throw new Error('the repo lock was lost during the run; not applying');
      const applied = await applyChangeset({ hostRoot: path.resolve(opts.root), stagingRoot: staging.workspace, changes, base: before });
      report.applied = applied.applied;
      report.conflicts = applied.conflicts;
      if (!applied.applied) {
        report.status = 'FAIL';
        report.reasons.push(`conflict: the host changed under the cycle: ${applied.conflicts.map((c) => `${c.path} (${c.reason})`).join(', ')}`);
      }
    }
  } catch (err) {
    report.status = report.status === 'TIMEOUT' ? 'TIMEOUT' : 'FAIL';
    report.reasons.push(`the staging copy could not be checked: ${errorMessage(err)}`);
  }
}
