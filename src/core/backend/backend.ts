/**
 * The execution backend (issue 19): where the cycle's Worker and Gate containers run. `local` is
 * the one Docker engine the Controller talks to (bind mounts of the staging copy and the gateway's
 * Unix socket); `swarm` runs them as Docker Swarm replicated jobs that reach the Controller only
 * through the run's relay service (backend/swarm/). Both take the same `ContainerJob` (one job
 * description, one hardening: sandbox/job.ts `buildJobSpec`) and return the same handles, so the
 * changeset goes through exactly the same scope, Gate and Auditor checks whichever ran it.
 */
import type Docker from 'dockerode';
import type { ContainerRunnerOptions } from '../gate/container-runner';
import type { StageRunner } from '../gate/stage-runner';
import type { ContainerJob, JobRunOptions, RunningJob } from '../sandbox/job';

export type BackendKind = 'local' | 'swarm';

/** One finding of `checkBackend` (`factory doctor`): what is missing, and what to do about it. */
export interface BackendCheck {
  /** Stable id, e.g. `swarm.manager`, `swarm.image`, `swarm.network`. */
  id: string;
  ok: boolean;
  /** One line: what was found. */
  detail: string;
  /** When not ok: what the user does about it (a command, a setting). */
  fix?: string;
}

/** The backend a run's cycles start their containers on. Owned by the run (`RunSession`), disposed when it ends. */
export interface ExecutionBackend {
  readonly kind: BackendKind;
  /**
   * Start the cycle's Worker job. `job.mounts` are host folders: the local backend bind-mounts
   * them; the swarm backend ships the read-only and writable ones to the task through the relay
   * and writes the writable ones back on the host before `done` resolves (so the Controller's
   * snapshots, scope check and Gate read the Worker's result from the same host folders).
   */
  startWorker(job: ContainerJob, opts: JobRunOptions): RunningJob;
  /** A Gate runner over `opts.treeDir` (read-only): the local `ContainerRunner`, or a swarm job per Gate. */
  gateRunner(opts: ContainerRunnerOptions): StageRunner;
  /** What this backend needs and whether it has it (engine, swarm manager, nodes with the image, network). */
  check(signal?: AbortSignal): Promise<BackendCheck[]>;
  /** How many Worker jobs can run at once (the swarm: from its nodes' resources; local: unknown → null). */
  capacity(signal?: AbortSignal): Promise<number | null>;
  /** Stop everything the backend started (relay service, networks, secrets, jobs); idempotent. */
  dispose(): Promise<void>;
}

/** What every backend is made from. */
export interface BackendDeps {
  docker: Docker;
  logger?: import('../util/log').Logger;
  signal?: AbortSignal;
  /** The repository (labels; the relay's run folder). */
  root: string;
  runId: string;
}
