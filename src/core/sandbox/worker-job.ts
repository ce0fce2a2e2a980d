import * as path from 'node:path';
import type { Plan } from '../contracts/plan';
import { nullLogger, type Logger } from '../util/log';
import type { ContainerMount } from './container-spec';
import { SANDBOX_PATHS, type ContainerJob, type JobLimits } from './job';
import { overlayTargets, type TreeListing } from './overlays';
import type { StagingCopy } from './staging';

/** Above this many read-only overlay mounts, the changeset check alone guards the rest. */
export const MAX_OVERLAY_MOUNTS = 200;

/** What differs between the cycle's Worker and the standalone sandbox's: the rest is the Worker's job. */
export interface WorkerJobRequest {
  /** `worker`: the cycle's DO phase; `sandbox`: `factory sandbox`. */
  role: 'worker' | 'sandbox';
  plan: Plan;
  staging: StagingCopy;
  /** The staging copy's entries the plan's readonly/forbidden globs can name (a snapshot, or `overlayListing`). */
  listing: TreeListing;
  image: string;
  cmd: string[];
  /** The role's extra environment (the agent runtime's, the sandbox caller's). */
  env?: Record<string, string>;
  /** The agent runtime's task folder, gateway socket and output folder. */
  extraMounts?: readonly ContainerMount[];
  limits: JobLimits;
  /** The host repository (labelled, so a reaper records only its own cycles). */
  repo: string;
  /** Default `plan.timeout_minutes`. */
  timeoutMs?: number;
  logFile?: string;
  logCapBytes?: number;
  logger?: Logger;
}

/**
 * The Worker's job over a staging copy: the copy writable at /workspace with the plan's
 * readonly and forbidden paths overlaid read-only, plan.json's folder read-only, result.json's
 * folder writable, the runtime's mounts, the copy as the reaper's clean-up path.
 */
export function workerJob(req: WorkerJobRequest): ContainerJob {
  const { plan, staging } = req;
  const ws = staging.workspace;
  const overlays = overlayTargets(req.listing, [...plan.scope.readonly, ...plan.scope.forbidden]);
  if (overlays.length > MAX_OVERLAY_MOUNTS) (req.logger ?? nullLogger).warn(`${overlays.length} read-only paths; overlaying the first ${MAX_OVERLAY_MOUNTS} (the changeset check covers all)`);
  const mounts: ContainerMount[] = [
    { hostPath: ws, containerPath: SANDBOX_PATHS.workspace, readOnly: false },
    ...overlays.slice(0, MAX_OVERLAY_MOUNTS).map((p) => ({ hostPath: path.join(ws, p), containerPath: `${SANDBOX_PATHS.workspace}/${p}`, readOnly: true })),
    { hostPath: staging.control, containerPath: SANDBOX_PATHS.planDir, readOnly: true },
    { hostPath: staging.output, containerPath: SANDBOX_PATHS.outDir, readOnly: false },
    ...(req.extraMounts ?? []),
  ];
  return {
    role: req.role,
    image: req.image,
    cmd: req.cmd,
    mounts,
    env: { FACTORY_PLAN: SANDBOX_PATHS.plan, FACTORY_OUT: SANDBOX_PATHS.outDir, FACTORY_RESULT: SANDBOX_PATHS.result, FACTORY_RUN_ID: plan.run_id, ...req.env },
    limits: req.limits,
    user: `${staging.uid}:${staging.gid}`,
    labels: { runId: plan.run_id, ticket: plan.ticket_id, repo: req.repo },
    timeoutMs: req.timeoutMs ?? plan.timeout_minutes * 60_000,
    cleanupPath: staging.dir,
    ...(req.logFile ? { logFile: req.logFile } : {}),
    ...(req.logCapBytes ? { logCapBytes: req.logCapBytes } : {}),
  };
}
