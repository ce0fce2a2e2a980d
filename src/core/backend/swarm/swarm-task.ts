/**
 * One job on the swarm, Worker or Gate step: its folder in the run folder (the token's sha256,
 * meta.json, bundle.tar, for a Worker the gateway socket), its one-time token as a swarm secret,
 * the service (`buildJobSpec` — the local hardening — with every bind mount replaced by a
 * size-capped tmpfs the boot script fills from the bundle), and after the task the result
 * archive mirrored into the writable host folders before the job's result is returned. The job
 * folder, the forwarder and the secret are removed on every path (the service by startSwarmJob).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RELAY_JOB_FILES, TASK_ENV, type RelayJobMeta } from '../../contracts/relay-protocol';
import { LABELS, type ContainerResult } from '../../sandbox/container-spec';
import { SANDBOX_PATHS, buildJobSpec, logCapOf, type ContainerJob, type JobRunOptions } from '../../sandbox/job';
import { errorMessage } from '../../util/errors';
import { bundleFromBody, packBundle, type BundleBody, type BundleInfo, type ShippedMount } from './bundle';
import { forwardGateway, type GatewayForward } from './gateway-forward';
import { mirrorTree } from './mirror';
import { extractResult, TransferRefused } from './result-extract';
import { createJobSecret, type JobSecret } from './secrets';
import { buildServiceSpec } from './service-spec';
import { swarmBootSource } from './swarm-assets';
import { startSwarmJob } from './swarm-job';
import { relayFile, relayFolder, type SwarmRun } from './swarm-run';

const MIB = 1024 * 1024;
/** Where the task finds its token (the secret's file name under /run/secrets). */
const TOKEN_TARGET = 'factory-token';

export interface TaskRequest {
  role: 'w' | 'g';
  /** The job as the local backend gets it (its mounts are ignored: `shipped` says what goes). */
  job: ContainerJob;
  /** The mounts the bundle carries (`m<k>`); the writable ones come back. */
  shipped: ShippedMount[];
  /** A body packed once (the Gate's tree): the bundle is its bytes with this job's manifest. */
  body?: BundleBody;
  /** Host path of the cycle's gateway socket: the task gets a local socket at `gatewaySocket` forwarding to it. */
  gateway?: { hostSocket: string; containerSocket: string; containerDir: string };
}

export interface TaskOutcome {
  result: ContainerResult;
  /** The result archive was refused (nothing was written to the host folders). */
  refused?: TransferRefused;
}

/**
 * Where a container path lives in the swarm task. The engine gives a tmpfs mounted over a folder
 * of the image that folder's mode, owned by root (Docker 20.10, seen with runc's copy-up): the
 * worker image's /workspace and /home/worker (0755) would be read-only for the task's user. So
 * the task works in /factory/workspace and has its home at /factory/home (the Worker runtime and
 * the Gate use their working directory, never the literal /workspace).
 */
export const TASK_WORKSPACE = '/factory/workspace';
export const TASK_HOME = '/factory/home';
export function taskPath(containerPath: string): string {
  if (containerPath === SANDBOX_PATHS.workspace) return TASK_WORKSPACE;
  if (containerPath.startsWith(`${SANDBOX_PATHS.workspace}/`)) return TASK_WORKSPACE + containerPath.slice(SANDBOX_PATHS.workspace.length);
  return containerPath;
}

/** The task's tmpfs per shipped mount: what the bundle takes, plus the growth cap for a writable one. */
function tmpfsOf(req: TaskRequest, info: BundleInfo): { containerPath: string; sizeMb: number }[] {
  const out = req.shipped.map((m) => ({ containerPath: taskPath(m.containerPath), sizeMb: Math.ceil((info.allocated[m.dir] ?? 0) / MIB) + (m.readOnly ? 8 : req.job.limits.workspaceMb) }));
  if (req.gateway) out.push({ containerPath: req.gateway.containerDir, sizeMb: 1 });
  return out;
}

/** The job folder the relay reads: token hash, limits, bundle. */
async function prepareJobFolder(run: SwarmRun, jobDir: string, req: TaskRequest, token: string, env: Record<string, string>): Promise<BundleInfo> {
  relayFolder(jobDir);
  const capBytes = run.swarm.transferMb * MIB;
  fs.writeFileSync(path.join(jobDir, RELAY_JOB_FILES.tokenHash), crypto.createHash('sha256').update(token, 'utf8').digest('hex'));
  const meta: RelayJobMeta = { schema_version: 1, maxResultBytes: capBytes, gateway: req.gateway !== undefined };
  fs.writeFileSync(path.join(jobDir, RELAY_JOB_FILES.meta), JSON.stringify(meta));
  const bundle = path.join(jobDir, RELAY_JOB_FILES.bundle);
  const what = { cmd: req.job.cmd, env: { ...env, HOME: TASK_HOME }, workdir: TASK_WORKSPACE, ...(req.gateway ? { gatewaySocket: req.gateway.containerSocket } : {}) };
  const mounts = req.shipped.map((m) => ({ ...m, containerPath: taskPath(m.containerPath) }));
  const info = req.body ? await bundleFromBody(bundle, req.body, { ...what, mounts }) : await packBundle(bundle, { ...what, mounts, capBytes });
  for (const f of [RELAY_JOB_FILES.tokenHash, RELAY_JOB_FILES.meta, RELAY_JOB_FILES.bundle]) relayFile(path.join(jobDir, f));
  return info;
}

/** The writable mounts' result, checked into scratch, then mirrored onto the host folders. */
async function readBack(jobDir: string, writable: ShippedMount[], capBytes: number, result: ContainerResult): Promise<TaskOutcome> {
  const archive = path.join(jobDir, RELAY_JOB_FILES.result);
  if (writable.length === 0) return { result };
  if (!fs.existsSync(archive)) {
    return { result: { ...result, warnings: [...result.warnings, 'the task uploaded no result: its writable folders are left as they were'] } };
  }
  const scratch = fs.mkdtempSync(path.join(path.dirname(path.dirname(jobDir)), 'controller', 'result-'));
  try {
    await extractResult(archive, { dirs: writable.map((m) => m.dir), capBytes, into: scratch });
    for (const m of writable) {
      const st = fs.lstatSync(m.hostPath);
      mirrorTree(path.join(scratch, m.dir), m.hostPath, { uid: st.uid, gid: st.gid });
    }
    return { result };
  } catch (err) {
    if (!(err instanceof TransferRefused)) throw err;
    // The Worker's fault, never a crash: a failed exit (the verdict's FAIL) naming the rule it broke.
    const exitCode = result.status === 'exited' && result.exitCode !== 0 ? result.exitCode : 1;
    return { result: { ...result, status: result.status === 'error' ? 'exited' : result.status, exitCode, warnings: [...result.warnings, `result refused: ${err.message}`] }, refused: err };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Run one job on the swarm to completion (see the file's comment). */
export async function runSwarmTask(run: SwarmRun, req: TaskRequest, opts: JobRunOptions): Promise<TaskOutcome> {
  const parts = await run.ready();
  const jobId = run.nextJobId(req.role);
  const jobDir = path.join(parts.runDir, 'jobs', jobId);
  const token = crypto.randomBytes(32).toString('hex');
  const spec = buildJobSpec({ ...req.job, mounts: [] });
  let forward: GatewayForward | undefined;
  let secret: JobSecret | undefined;
  const cleanup = async () => {
    await forward?.close().catch(() => undefined);
    await secret?.remove();
    fs.rmSync(jobDir, { recursive: true, force: true });
  };
  const untrack = run.track(cleanup);
  try {
    const info = await prepareJobFolder(run, jobDir, req, token, spec.env ?? {});
    if (req.gateway) forward = await forwardGateway(path.join(jobDir, RELAY_JOB_FILES.gatewaySocket), req.gateway.hostSocket, { uid: fs.statSync(jobDir).uid, gid: fs.statSync(jobDir).gid });
    secret = await createJobSecret(run.deps.docker, jobId, token, { [LABELS.runId]: run.deps.runId });
    const svc = buildServiceSpec(
      // The boot script runs the job's command in the manifest's workdir. The container's own is `/`:
      // the engine re-creates a working directory as root 0755 over its tmpfs (seen on 20.10),
      // which the task's user could then not fill.
      { ...spec, workdir: '/', tmpfs: ['/tmp', TASK_HOME], env: { ...spec.env, HOME: TASK_HOME }, cmd: ['node', '-e', swarmBootSource()], mounts: [] },
      { jobId, network: parts.network.id, constraints: run.swarm.constraints, tmpfs: tmpfsOf(req, info), secret: { id: secret.id, name: secret.name, target: TOKEN_TARGET }, env: { [TASK_ENV.relayUrl]: parts.relay.url } },
    );
    const { onOutput, onStart, signal, logger } = opts;
    const job = startSwarmJob(run.deps.docker, svc, {
      timeoutMs: req.job.timeoutMs,
      scheduleTimeoutMs: run.swarm.scheduleTimeoutSeconds * 1000,
      logCapBytes: logCapOf(req.job),
      ...(req.job.logFile ? { logFile: req.job.logFile } : {}),
      ...(signal ? { signal } : {}),
      ...(logger ? { logger } : {}),
      ...(onOutput ? { onOutput } : {}),
      ...(onStart ? { onStart: () => void Promise.resolve(onStart(jobId)).catch((err: unknown) => run.logger.warn(`onStart: ${errorMessage(err)}`)) } : {}),
    });
    const result = await job.done;
    return await readBack(jobDir, req.shipped.filter((m) => !m.readOnly), run.swarm.transferMb * MIB, result);
  } finally {
    untrack();
    await cleanup().catch((err: unknown) => run.logger.warn(`swarm job ${jobId} clean-up: ${errorMessage(err)}`));
  }
}
