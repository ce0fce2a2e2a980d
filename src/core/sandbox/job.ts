import * as fs from 'node:fs';
import type { Snapshot } from '../changeset/snapshot';
import type { FactoryConfig } from '../config/schema';
import { runContainer } from './container';
import type { ContainerLimits, ContainerMount, ContainerResult, ContainerRole, ContainerSpec, RunContainerOptions } from './container-spec';
import { workerIdentity } from './staging';
import { treeBytesYielding, watchWorkspace, type WorkspaceWatch } from './workspace-cap';

/** Fixed paths inside the Worker container (documented for agent adapters). */
export const SANDBOX_PATHS = {
  workspace: '/workspace',
  planDir: '/factory/plan',
  plan: '/factory/plan/plan.json',
  outDir: '/factory/out',
  result: '/factory/out/result.json',
  home: '/home/worker',
} as const;

/** The Worker limits when no config names them (the config schema's defaults). */
export const DEFAULT_LIMITS: ContainerLimits = { memoryMb: 2048, cpus: 1, pidsLimit: 256, tmpfsMb: 256 };

/**
 * Who starts a container: the cycle's Worker (DO), the Gate's steps, the Auditor, or the
 * standalone `factory sandbox` Worker (labelled `worker`: `factory stop` and the reaper treat
 * both Workers alike).
 */
export type JobRole = ContainerRole | 'sandbox';

/** Resource limits of a job: the container's own, plus the caps the Controller enforces around it. */
export interface JobLimits extends ContainerLimits {
  /** Growth cap of every writable host folder together (MiB); also the largest single file (RLIMIT_FSIZE). */
  workspaceMb: number;
  /** Output recorded per container (MiB). */
  logCapMb: number;
}

/** The config schema's defaults for the caps around the container. */
export const DEFAULT_JOB_LIMITS: JobLimits = { ...DEFAULT_LIMITS, workspaceMb: 1024, logCapMb: 64 };

/** A job's limits from `config.worker` (every role is held to the Worker's limits). */
export function jobLimits(worker: FactoryConfig['worker']): JobLimits {
  return { memoryMb: worker.memoryMb, cpus: worker.cpus, pidsLimit: worker.pidsLimit, tmpfsMb: worker.tmpfsMb, workspaceMb: worker.workspaceMb, logCapMb: worker.logCapMb };
}

/** What a call site says about its container: only what differs by role. */
export interface ContainerJob {
  role: JobRole;
  image: string;
  /** argv; no shell is involved unless the caller puts one there. */
  cmd: string[];
  mounts: ContainerMount[];
  /** The role's environment, on top of the base one (HOME, no bytecode writes). Never secrets. */
  env?: Record<string, string>;
  limits: JobLimits;
  /** Numeric non-root `uid:gid`; default `workerIdentity()` (the Controller's own uid when not root). */
  user?: string;
  /**
   * The main process's user when the work runs as `user` through `docker exec` (an exec
   * session's keep-alive, which the steps must not be able to signal); the tmpfs mounts stay `user`'s.
   */
  mainUser?: string;
  labels: { runId: string; ticket: string; repo?: string };
  timeoutMs: number;
  /** Host folder the reaper deletes if the container is found orphaned (a staging copy, a temp folder). */
  cleanupPath?: string;
  logFile?: string;
  /** Overrides the role's output cap (bytes). */
  logCapBytes?: number;
}

/**
 * Make `dir` a host folder a container may write, and nobody else: mode 0700, owned by the
 * container's user. A root Controller hands it to that user; any other Controller runs its
 * containers as its own uid (`workerIdentity`), which owns the folder already. Never world-
 * writable: another local user could plant or forge what the Controller reads back.
 */
export function containerOutputDir(dir: string, owner: { uid: number; gid: number } = workerIdentity()): string {
  fs.chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) fs.chownSync(dir, owner.uid, owner.gid);
  return dir;
}

/** The environment every role starts from: a home on the tmpfs, and no `.pyc` litter in host folders. */
const BASE_ENV: Readonly<Record<string, string>> = { HOME: SANDBOX_PATHS.home, PYTHONDONTWRITEBYTECODE: '1' };

/** Output cap of a job: the Gate keeps only the tail of its output itself (TailBuffer), so a head cap as small as the Worker's would cut off the summary a flooding suite prints last; its head cap is the growth cap instead. */
export function logCapOf(job: ContainerJob): number {
  if (job.logCapBytes !== undefined) return job.logCapBytes;
  return (job.role === 'gate' ? job.limits.workspaceMb : job.limits.logCapMb) * 1024 * 1024;
}

/**
 * The one place a container spec is built. Every role gets the same hardening (SECURITY 1, 4, 6,
 * 7): a non-root user, size-capped tmpfs `/tmp` and home, the growth cap as the largest file,
 * a capped log, the base environment, owner/role/repo labels and the clean-up path — on top of
 * what `buildCreateOptions` gives every spec (no network, caps dropped, no-new-privileges,
 * read-only root, pids, memory, CPU).
 */
export function buildJobSpec(job: ContainerJob): ContainerSpec {
  const { uid, gid } = workerIdentity();
  const { workspaceMb, logCapMb: _logCapMb, ...limits } = job.limits;
  const user = job.user ?? `${uid}:${gid}`;
  return {
    image: job.image,
    cmd: job.cmd,
    env: { ...BASE_ENV, ...job.env },
    user: job.mainUser ?? user,
    ...(job.mainUser ? { tmpfsOwner: user } : {}),
    workdir: SANDBOX_PATHS.workspace,
    mounts: job.mounts,
    tmpfs: ['/tmp', SANDBOX_PATHS.home],
    // One file can never exceed the growth cap (kernel-enforced); the growth watch covers many files.
    limits: { ...limits, fileSizeMb: workspaceMb },
    labels: { runId: job.labels.runId, ticket: job.labels.ticket, role: job.role === 'sandbox' ? 'worker' : job.role, ...(job.labels.repo ? { repo: realRepo(job.labels.repo) } : {}) },
    timeoutMs: job.timeoutMs,
    logCapBytes: logCapOf(job),
    ...(job.cleanupPath ? { cleanupPath: job.cleanupPath } : {}),
    ...(job.logFile ? { logFile: job.logFile } : {}),
  };
}

/** The repository's real path, as the reaper compares it. */
function realRepo(repo: string): string {
  try {
    return fs.realpathSync(repo);
  } catch {
    return repo;
  }
}

/** How a job runs: the container runner's options (the engine's grace period stays the runner's default). */
export type JobRunOptions = Omit<RunContainerOptions, 'graceMs'>;

/** A job whose container is starting or running. */
export interface RunningJob {
  /** The container's result once it is gone (it is removed on every path). Rejects only for a refused spec or no engine. */
  readonly done: Promise<ContainerResult>;
  /**
   * Start the growth watch over every writable host mount; the first one (the workspace) is
   * counted from `baseBytes` (default: what it holds now), the others from what they hold now.
   * Past the cap the container is stopped. Call it once; a no-op without writable mounts.
   */
  watchGrowth(baseBytes?: number): Promise<void>;
  /**
   * After `done`: whether the writable mounts grew past the cap, by the watch or by what they
   * hold now (`after`: the first mount's snapshot, when the caller took one anyway).
   */
  exceeded(after?: Snapshot): Promise<boolean>;
}

/**
 * Start a job's container now and return at once: the cycle's Worker takes its base snapshot
 * while the container starts, then starts the growth watch with the snapshot's size.
 */
export function startJob(job: ContainerJob, opts: JobRunOptions = {}): RunningJob {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const writable = job.mounts.filter((m) => !m.readOnly).map((m) => m.hostPath);
  let watch: WorkspaceWatch | undefined;
  let settled = false;
  const { docker, logger, onOutput, onStart } = opts;
  const done = (async () => runContainer(buildJobSpec(job), { signal, ...(docker ? { docker } : {}), ...(logger ? { logger } : {}), ...(onOutput ? { onOutput } : {}), ...(onStart ? { onStart } : {}) }))().finally(() => {
    settled = true;
    watch?.stop();
  });
  // Observed by the caller at `await done`; until then a refusal is not an unhandled rejection.
  done.catch(() => undefined);
  return {
    done,
    async watchGrowth(baseBytes) {
      const [main, ...extraDirs] = writable;
      if (main === undefined || watch) return;
      try {
        const base = baseBytes ?? (await treeBytesYielding(main, Infinity, () => false));
        watch = await watchWorkspace(main, { baseBytes: base, growthMb: job.limits.workspaceMb, extraDirs, onOver: () => stop.abort() });
      } catch (err) {
        stop.abort(); // a run the cap cannot hold does not go on
        throw err;
      }
      if (settled) watch.stop();
    },
    async exceeded(after) {
      if (!watch) return false;
      return watch.exceeded(after ?? (await treeAsSnapshot(writable[0] ?? '')));
    },
  };
}

/** What a folder allocates, counted by the watch's own walker, as the one-entry snapshot `exceeded` takes. */
async function treeAsSnapshot(dir: string): Promise<Snapshot> {
  const allocated = await treeBytesYielding(dir, Infinity, () => false);
  return new Map([['.', { type: 'dir', mode: 0, size: 0, hash: '', ino: 0, mtimeNs: 0n, ctimeNs: 0n, allocated }]]);
}

/** A job's result, with the growth verdict. */
export interface JobResult extends ContainerResult {
  /** The writable host folders grew past `limits.workspaceMb` (the container was stopped, or wrote it and exited). */
  overCap: boolean;
}

/** Run a job to completion: growth watch from what the writable folders hold before the run. */
export async function runJob(job: ContainerJob, opts: JobRunOptions = {}): Promise<JobResult> {
  const running = startJob(job, opts);
  try {
    await running.watchGrowth();
  } catch (err) {
    await running.done.catch(() => undefined);
    throw err;
  }
  const result = await running.done;
  return { ...result, overCap: await running.exceeded() };
}
