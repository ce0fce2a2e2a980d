/**
 * One swarm job to completion (issue 19): create the service (a one-completion replicated job,
 * `buildServiceSpec`), wait for its task by polling the swarm's task list, stream its logs under
 * the cap, map the task's end onto the same `ContainerResult` a local container gives, and remove
 * the service on EVERY path. The time cap (from the moment the task runs) and the caller's abort
 * remove the service, which stops the task; a task that finds no node with room within
 * `scheduleTimeoutMs` ends with `swarm.job` naming the swarm's reason. Orphans (a Controller that
 * died) carry owner and deadline labels for `reapSwarmOrphans`.
 */
import type Docker from 'dockerode';
import { DEFAULT_GRACE_MS, LABELS, type ContainerResult, type ContainerStatus } from '../../sandbox/container-spec';
import { ENGINE_CALL_MS, withTimeout } from '../../sandbox/engine-calls';
import { FactoryError, errorMessage } from '../../util/errors';
import { nullLogger, type Logger } from '../../util/log';
import { isGone } from './names';
import { SwarmLogRecorder } from './swarm-logs';

export interface SwarmJobOptions {
  /** Time cap, counted from the moment the task runs. */
  timeoutMs: number;
  /** How long the task may wait for a node (pending, preparing, starting) before the job fails with `swarm.job`. */
  scheduleTimeoutMs: number;
  signal?: AbortSignal;
  logger?: Logger;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  onStart?: () => void;
  logCapBytes: number;
  logFile?: string;
  /** Task-list poll period (ms); default 250. */
  pollMs?: number;
}

export interface SwarmJob {
  /** The job's result once its service is gone; rejects (`swarm.job`) when the service cannot be created or its task never gets a node. */
  done: Promise<ContainerResult>;
  /** The service's id, once created. */
  serviceId: Promise<string>;
}

/** Task states before the task's container runs. */
const WAITING = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);
/** Task states after which nothing more happens. */
const ENDED = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);

/** The fields of a swarm task this runner reads. */
interface TaskInfo {
  CreatedAt?: string;
  Status?: { State?: string; Message?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

/** One job's run: what the poll loop and the clean-up share. */
interface JobRun {
  docker: Docker;
  id: string;
  opts: SwarmJobOptions;
  logger: Logger;
  warnings: string[];
  rec: SwarmLogRecorder;
  t0: number;
  started: boolean;
  kill?: { status: ContainerStatus; why: string };
  wake: () => void;
}

export function startSwarmJob(docker: Docker, svc: Docker.CreateServiceOptions, opts: SwarmJobOptions): SwarmJob {
  let setId!: (id: string) => void;
  let failId!: (err: unknown) => void;
  const serviceId = new Promise<string>((res, rej) => ((setId = res), (failId = rej)));
  serviceId.catch(() => undefined);
  const done = runSwarmJob(docker, svc, opts, setId).catch((err: unknown) => {
    failId(err);
    throw err;
  });
  done.catch(() => undefined);
  return { done, serviceId };
}

async function runSwarmJob(docker: Docker, svc: Docker.CreateServiceOptions, opts: SwarmJobOptions, setId: (id: string) => void): Promise<ContainerResult> {
  const logger = opts.logger ?? nullLogger;
  const t0 = Date.now();
  const warnings: string[] = [];
  const base = { exitCode: null, oomKilled: false, containerId: '', warnings, logTruncated: false, outputBytes: 0 };
  if (opts.signal?.aborted) {
    setId('');
    return { status: 'killed', durationMs: 0, error: 'aborted before start', ...base };
  }
  let id: string;
  try {
    const created = await withTimeout(docker.createService(withDeadline(svc, t0 + opts.scheduleTimeoutMs + opts.timeoutMs + DEFAULT_GRACE_MS)), ENGINE_CALL_MS, 'service create');
    id = created.id;
  } catch (err) {
    throw new FactoryError(`cannot create swarm job ${svc.Name ?? ''}: ${errorMessage(err)}`, 'swarm.job');
  }
  setId(id);
  const rec = new SwarmLogRecorder({ capBytes: opts.logCapBytes, logger, warnings, ...(opts.logFile ? { logFile: opts.logFile } : {}), ...(opts.onOutput ? { onOutput: opts.onOutput } : {}) });
  const run: JobRun = { docker, id, opts, logger, warnings, rec, t0, started: false, wake: () => undefined };
  const onAbort = () => stopJob(run, { status: 'killed', why: 'aborted by the Controller' });
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const task = await watchTask(run, () => (timer = setTimeout(() => stopJob(run, { status: 'timeout', why: `time cap of ${opts.timeoutMs} ms reached` }), opts.timeoutMs)));
    const out = await outcome(run, task);
    return { ...base, ...out, durationMs: Date.now() - t0, logTruncated: rec.truncated, outputBytes: rec.outputBytes };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    await removeService(run);
    await rec.close();
  }
}

/**
 * The service with its deadline label moved out to `deadline` when that is later: the time cap
 * counts from the moment the task runs, after up to `scheduleTimeoutMs` of waiting for a node, so
 * the reaper must not take a job that waited for room as overdue.
 */
function withDeadline(svc: Docker.CreateServiceOptions, deadline: number): Docker.CreateServiceOptions {
  const later = (labels: Record<string, string> | undefined) => {
    if (!labels?.[LABELS.deadline]) return labels;
    return { ...labels, [LABELS.deadline]: String(Math.max(Number(labels[LABELS.deadline]) || 0, deadline)) };
  };
  const task = svc.TaskTemplate;
  const cs = task && 'ContainerSpec' in task ? task.ContainerSpec : undefined;
  return {
    ...svc,
    Labels: later(svc.Labels) ?? {},
    ...(task && cs ? { TaskTemplate: { ...task, ContainerSpec: { ...cs, Labels: later(cs.Labels) ?? {} } } } : {}),
  };
}

/** The time cap or the abort: remember the first reason and wake the poll loop (the clean-up removes the service). */
function stopJob(run: JobRun, reason: { status: ContainerStatus; why: string }): void {
  if (run.kill) return;
  run.kill = reason;
  run.logger.info(`swarm job ${run.id.slice(0, 12)}: ${reason.why}; removing its service`);
  run.rec.stopFollow();
  // Removing the service stops its task at once; the clean-up's removal then finds it gone.
  void withTimeout(run.docker.getService(run.id).remove(), ENGINE_CALL_MS, 'service remove').catch(() => undefined);
  run.wake();
}

/** Poll the service's task until it ends or the job is stopped; undefined when stopped. */
async function watchTask(run: JobRun, onRunning: () => void): Promise<TaskInfo | undefined> {
  const { docker, id, opts } = run;
  let lastAnswer = Date.now();
  let last: TaskInfo | undefined;
  for (;;) {
    if (run.kill) return undefined;
    try {
      const tasks = (await withTimeout(docker.listTasks({ filters: { service: [id] } }), ENGINE_CALL_MS, 'task list')) as TaskInfo[];
      lastAnswer = Date.now();
      last = tasks.sort((a, b) => String(b.CreatedAt ?? '').localeCompare(String(a.CreatedAt ?? '')))[0];
    } catch (err) {
      if (Date.now() - lastAnswer > ENGINE_CALL_MS) {
        run.warnings.push(`lost the swarm while the job ran: ${errorMessage(err)}`);
        return { Status: { State: 'lost', Err: `lost the swarm while the job ran: ${errorMessage(err)}` } };
      }
    }
    const state = last?.Status?.State ?? 'new';
    if (!run.started && !WAITING.has(state) && (state === 'running' || last?.Status?.ContainerStatus?.ContainerID)) {
      run.started = true;
      onRunning();
      notifyStart(run);
      if (state === 'running') await run.rec.startFollow(docker, id);
    }
    if (ENDED.has(state)) return last;
    if (!run.started && Date.now() - run.t0 > opts.scheduleTimeoutMs) {
      const why = last?.Status?.Err || last?.Status?.Message || state;
      throw new FactoryError(`swarm job ${id.slice(0, 12)} did not start within ${Math.round(opts.scheduleTimeoutMs / 1000)} s (task ${state}: ${why})`, 'swarm.job');
    }
    await new Promise<void>((r) => {
      const t = setTimeout(r, opts.pollMs ?? (Date.now() - run.t0 > 10_000 ? 1_000 : 250));
      run.wake = () => (clearTimeout(t), r());
    });
  }
}

function notifyStart(run: JobRun): void {
  try {
    run.opts.onStart?.();
  } catch (err) {
    run.logger.warn(`onStart failed: ${errorMessage(err)}`);
  }
}

/** The task's end as a container result; the rest of its output first, while the service still exists. */
async function outcome(run: JobRun, task: TaskInfo | undefined): Promise<Pick<ContainerResult, 'status' | 'exitCode' | 'oomKilled' | 'containerId' | 'error'>> {
  if (run.kill || !task) return { status: run.kill?.status ?? 'killed', exitCode: null, oomKilled: false, containerId: '' };
  const st = task.Status ?? {};
  const containerId = st.ContainerStatus?.ContainerID ?? '';
  if (run.started) await run.rec.catchUp(run.docker, run.id);
  const oomKilled = containerId ? await oomOf(run.docker, containerId) : false;
  const exitCode = st.ContainerStatus?.ExitCode ?? null;
  if (st.State === 'complete') return { status: 'exited', exitCode: exitCode ?? 0, oomKilled, containerId };
  if (st.State === 'failed' && run.started && exitCode !== null) return { status: 'exited', exitCode, oomKilled, containerId };
  return { status: 'error', exitCode: null, oomKilled, containerId, error: `swarm task ${st.State ?? 'lost'}: ${st.Err || st.Message || 'no reason given'}` };
}

/** Whether the kernel killed the task's container for memory (only answerable when it ran on this engine's node). */
async function oomOf(docker: Docker, containerId: string): Promise<boolean> {
  try {
    const info = await withTimeout(docker.getContainer(containerId).inspect(), 5_000, 'inspect');
    return info.State.OOMKilled;
  } catch {
    return false;
  }
}

/** Remove the job's service (idempotent); a failure is a warning: the swarm reaper removes it by its labels. */
async function removeService(run: JobRun): Promise<void> {
  run.rec.stopFollow();
  try {
    await withTimeout(run.docker.getService(run.id).remove(), ENGINE_CALL_MS, 'service remove');
  } catch (err) {
    if (!isGone(err)) run.warnings.push(`service ${run.id.slice(0, 12)} could not be removed (the reaper will): ${errorMessage(err)}`);
  }
}
