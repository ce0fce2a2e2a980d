/**
 * The cycle's Worker as a swarm job: the SAME `ContainerJob` the local backend gets. Its mounts
 * become the bundle's folders, except
 * - the read-only overlays nested under /workspace: their content is in the workspace already,
 *   and on a swarm task nothing makes them read-only — the changeset scope check is the authority
 *   for readonly/forbidden paths here, as it is locally past MAX_OVERLAY_MOUNTS overlays;
 * - the gateway socket's folder: the task gets a local socket at AGENT_PATHS.gatewaySocket that
 *   reaches the cycle's gateway through the relay and `gateway-forward.ts`.
 * The bundle is packed once plan.json is in the plan folder (DO writes it after the base
 * snapshot; the runtime would wait for it), and the writable folders hold the task's result
 * before `done` resolves, so DO's snapshots, scope check and Gate read them as they would locally.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AGENT_PATHS } from '../../agents/task';
import { snapshotBytes, type Snapshot } from '../../changeset/snapshot';
import type { ContainerMount } from '../../sandbox/container-spec';
import { SANDBOX_PATHS, type ContainerJob, type JobRunOptions, type RunningJob } from '../../sandbox/job';
import { treeBytesYielding } from '../../sandbox/workspace-cap';
import { FactoryError } from '../../util/errors';
import type { ShippedMount } from './bundle';
import type { TransferRefused } from './result-extract';
import { runSwarmTask, type TaskRequest } from './swarm-task';
import type { SwarmRun } from './swarm-run';

/** How long the bundle waits for plan.json (the runtime's own wait). */
const PLAN_WAIT_MS = 120_000;

/** Whether `inner` lies strictly below `outer` (container paths). */
function below(inner: string, outer: string): boolean {
  return inner.startsWith(outer.endsWith('/') ? outer : `${outer}/`);
}

/** The job's mounts as the swarm ships them, and where its gateway socket is on the host. */
export function shippedMounts(mounts: readonly ContainerMount[]): { shipped: ShippedMount[]; gateway?: TaskRequest['gateway'] } {
  const shipped: ShippedMount[] = [];
  let gateway: TaskRequest['gateway'];
  for (const m of mounts) {
    if (m.containerPath === AGENT_PATHS.gatewayDir) {
      gateway = { hostSocket: path.join(m.hostPath, path.posix.basename(AGENT_PATHS.gatewaySocket)), containerSocket: AGENT_PATHS.gatewaySocket, containerDir: AGENT_PATHS.gatewayDir };
      continue;
    }
    if (m.readOnly && mounts.some((o) => o !== m && below(m.containerPath, o.containerPath))) continue;
    shipped.push({ ...m, dir: `m${shipped.length}` });
  }
  return { shipped, ...(gateway ? { gateway } : {}) };
}

/** Until the plan folder (if the job has one) holds plan.json: the bundle must carry it. */
async function untilPlanWritten(job: ContainerJob, signal?: AbortSignal): Promise<void> {
  const planDir = job.mounts.find((m) => m.containerPath === SANDBOX_PATHS.planDir);
  if (!planDir) return;
  const file = path.join(planDir.hostPath, path.posix.basename(SANDBOX_PATHS.plan));
  const deadline = Date.now() + PLAN_WAIT_MS;
  while (!fs.existsSync(file) && Date.now() < deadline) {
    if (signal?.aborted) throw new FactoryError('the Worker was stopped before it started', 'interrupted');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the writable host folders allocate together (the first from a snapshot when given). */
async function writableBytes(dirs: readonly string[], first?: Snapshot): Promise<number> {
  let total = 0;
  for (const [i, d] of dirs.entries()) total += i === 0 && first ? snapshotBytes(first) : await treeBytesYielding(d, Infinity, () => false);
  return total;
}

export function startSwarmWorker(run: SwarmRun, job: ContainerJob, opts: JobRunOptions): RunningJob {
  const { shipped, gateway } = shippedMounts(job.mounts);
  const writable = job.mounts.filter((m) => !m.readOnly).map((m) => m.hostPath);
  let base: number | undefined;
  let refused: TransferRefused | undefined;
  const done = (async () => {
    await untilPlanWritten(job, opts.signal);
    const out = await runSwarmTask(run, { role: 'w', job, shipped, ...(gateway ? { gateway } : {}) }, opts);
    refused = out.refused;
    return out.result;
  })();
  done.catch(() => undefined); // observed by the caller at `await done`
  return {
    done,
    async watchGrowth(baseBytes) {
      if (base !== undefined || writable.length === 0) return;
      const [main, ...extra] = writable;
      base = (baseBytes ?? (await treeBytesYielding(main ?? '', Infinity, () => false))) + (await writableBytes(extra));
    },
    async exceeded(after) {
      // A result refused for its size is the growth cap's verdict: the task wrote more than it may bring back.
      if (refused?.overSize) return true;
      if (base === undefined) return false;
      return (await writableBytes(writable, after)) - base > job.limits.workspaceMb * 1024 * 1024;
    },
  };
}
