import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { DEFAULT_GRACE_MS, validateUser, type ContainerResult } from './container-spec';
import { AttachDemuxer, ENGINE_CALL_MS, withTimeout } from './engine-calls';
import { SANDBOX_PATHS, startJob, type ContainerJob, type RunningJob } from './job';
import { workerIdentity } from './staging';

/**
 * The keep-alive's user: never the steps' uid, so a step's `kill -9 -1` (and the scrub's) cannot
 * reach it, and no step can signal it or read its /proc entries.
 */
export function keepAliveUser(stepUser: string): string {
  return stepUser.split(':')[0] === '65534' ? '65533:65533' : '65534:65534';
}

/**
 * Run between two steps, as the steps' user: SIGKILL every process that user has (`kill -1`
 * spares only PID 1, the caller, and what it may not signal: the keep-alive) until none is
 * left, drop its SysV IPC objects, and empty every writable tmpfs (/tmp, the home, /dev/shm,
 * POSIX queues). Exits non-zero when anything is left; the caller then starts a fresh container.
 */
export const SCRUB_SCRIPT = [
  'n=0',
  'while :; do',
  '  kill -9 -1 2>/dev/null',
  '  left=',
  '  for d in /proc/[0-9]*; do [ "${d#/proc/}" = "$$" ] && continue; [ -O "$d" ] && left=1 && break; done',
  '  [ -z "$left" ] && break',
  '  n=$((n+1)); [ "$n" -gt 300 ] && exit 3',
  '  sleep 0.01',
  'done',
  'ipcrm -a 2>/dev/null',
  `for d in /tmp ${SANDBOX_PATHS.home} /dev/shm /dev/mqueue; do`,
  '  [ -d "$d" ] || continue',
  '  rm -rf "$d"/* "$d"/.[!.]* "$d"/..?* 2>/dev/null',
  '  for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do if [ -e "$f" ] || [ -L "$f" ]; then exit 4; fi; done',
  'done',
  'exit 0',
].join('\n');

/** One command run in the session's container. */
export interface ExecStep {
  cmd: string[];
  /** On top of the container's environment. */
  env?: Record<string, string>;
  /** Host-enforced: past it the container is killed (no later step could use it anyway). */
  timeoutMs: number;
  /** Output recorded; beyond it output is counted and dropped. */
  logCapBytes: number;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/** What happened to one step; the exit code is the engine's (exec inspect), never read from the output. */
export interface ExecResult {
  status: ContainerResult['status'];
  exitCode: number | null;
  durationMs: number;
  error?: string;
  logTruncated: boolean;
  outputBytes: number;
  /** The writable mounts grew past the growth cap (the container was stopped, or the step wrote it and exited). */
  overCap: boolean;
}

export interface ExecSessionOptions {
  docker: Docker;
  logger?: Logger;
  /** Called with the container's id once it runs. */
  onStart?: (containerId: string) => void | Promise<void>;
}

/**
 * One hardened container (the job's spec: role, limits, labels, owner and deadline, mounts) whose
 * main process only keeps it alive for `job.timeoutMs`, running one command after another with
 * `docker exec` as the job's user. Between two commands `scrub` leaves nothing of the previous
 * one behind. The container is removed by `close`, by a step's time cap or abort, or at its own
 * time cap; if the Controller dies, the reaper removes it (owner label).
 */
export class ExecSession {
  /** A step ran since the last scrub. */
  dirty = false;
  private ended = false;

  private constructor(
    private readonly docker: Docker,
    private readonly running: RunningJob,
    private readonly stop: AbortController,
    readonly containerId: string,
    private readonly stepUser: string,
    private readonly deadline: number,
    private readonly logger: Logger,
  ) {
    running.done.finally(() => (this.ended = true)).catch(() => undefined);
  }

  /** Create and start the container; resolves once it runs (rejects if it cannot). */
  static async open(job: ContainerJob, opts: ExecSessionOptions): Promise<ExecSession> {
    const { uid, gid } = workerIdentity();
    const stepUser = job.user ?? `${uid}:${gid}`;
    validateUser(stepUser);
    const t0 = Date.now();
    const stop = new AbortController();
    let started!: (id: string) => void;
    const startedP = new Promise<string>((r) => (started = r));
    const running = startJob(
      { ...job, user: stepUser, mainUser: keepAliveUser(stepUser), cmd: ['sleep', String(Math.ceil(job.timeoutMs / 1000) + 1)] },
      { docker: opts.docker, signal: stop.signal, ...(opts.logger ? { logger: opts.logger } : {}), onStart: async (id) => {
        started(id);
        await opts.onStart?.(id);
      } },
    );
    const failed = running.done.then((r) => {
      throw new Error(r.error ?? `the container ended before its first step (${r.status})`);
    });
    failed.catch(() => undefined); // it rejects at every end of the container; observed only while opening
    let id: string;
    try {
      id = await Promise.race([startedP, failed]);
      await running.watchGrowth();
    } catch (err) {
      stop.abort();
      await running.done.catch(() => undefined);
      throw err;
    }
    return new ExecSession(opts.docker, running, stop, id, stepUser, t0 + job.timeoutMs, opts.logger ?? nullLogger);
  }

  /** The container still runs (no step timed out, nothing killed it). */
  get alive(): boolean {
    return !this.ended && !this.stop.signal.aborted;
  }

  /** Time left before the container's own cap. */
  remainingMs(now = Date.now()): number {
    return this.deadline - now;
  }

  /** Run one step to its end; a time cap or an abort kills the whole container. */
  async exec(step: ExecStep, signal?: AbortSignal): Promise<ExecResult> {
    const t0 = Date.now();
    const out = { outputBytes: 0, recorded: 0, truncated: false };
    const result = (status: ExecResult['status'], extra: Partial<ExecResult> = {}): ExecResult => ({
      status, exitCode: null, durationMs: Date.now() - t0, logTruncated: out.truncated, outputBytes: out.outputBytes, overCap: false, ...extra,
    });
    if (!this.alive) return result('error', { error: 'the gate container is no longer running' });
    if (signal?.aborted) return result('killed');
    this.dirty = true;
    const demux = new AttachDemuxer((s, chunk) => {
      out.outputBytes += chunk.length;
      const room = step.logCapBytes - out.recorded;
      if (room <= 0) return void (out.truncated = true);
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (part.length < chunk.length) out.truncated = true;
      out.recorded += part.length;
      try {
        step.onOutput?.(s, part);
      } catch (err) {
        this.logger.warn(`output subscriber failed: ${errorMessage(err)}`);
      }
    });
    let exec: Docker.Exec;
    let stream: Duplex;
    try {
      exec = await withTimeout(
        this.docker.getContainer(this.containerId).exec({
          Cmd: step.cmd, User: this.stepUser, WorkingDir: SANDBOX_PATHS.workspace,
          Env: Object.entries(step.env ?? {}).map(([k, v]) => `${k}=${v}`),
          AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
        }),
        ENGINE_CALL_MS, 'exec create',
      );
      stream = await withTimeout(exec.start({ hijack: true, stdin: false }), ENGINE_CALL_MS, 'exec start');
    } catch (err) {
      await this.close();
      return result('error', { error: `cannot run the step in the gate container: ${errorMessage(err)}` });
    }
    const killed = await this.follow(stream, demux, step.timeoutMs, signal);
    if (killed) {
      await this.close();
      return result(killed, { overCap: await this.running.exceeded() });
    }
    let info: Docker.ExecInspectInfo | undefined;
    let lost: string | undefined;
    try {
      info = await withTimeout(exec.inspect(), ENGINE_CALL_MS, 'exec inspect');
    } catch (err) {
      lost = `cannot inspect the step after it ran: ${errorMessage(err)}`;
    }
    const overCap = await this.running.exceeded();
    if (!info || info.Running || info.ExitCode === null || !this.alive) {
      // The growth watch stopped the container, or the engine lost track of the step.
      const stopped = !this.alive;
      await this.close();
      if (stopped) return result('killed', { overCap });
      return result('error', { error: lost ?? 'the engine closed the step\'s output while it still ran', overCap });
    }
    return result('exited', { exitCode: info.ExitCode, overCap });
  }

  /** Stream the step's output until it ends; the reason when the step was killed instead. */
  private async follow(stream: Duplex, demux: AttachDemuxer, timeoutMs: number, signal?: AbortSignal): Promise<'timeout' | 'killed' | undefined> {
    let reason: 'timeout' | 'killed' | undefined;
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => kill('killed');
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (c: Buffer) => demux.push(c));
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    const kill = (why: 'timeout' | 'killed') => {
      if (reason) return;
      reason = why;
      this.logger.info(`gate container ${this.containerId.slice(0, 12)}: ${why === 'timeout' ? `step time cap of ${timeoutMs} ms reached` : 'aborted'}; removing it`);
      this.stop.abort();
      // The engine ends the stream when the container dies; a wedged one gets the grace period.
      grace = setTimeout(() => stream.destroy(), DEFAULT_GRACE_MS);
    };
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // The growth watch stopping the container ends the stream too.
    const gone = this.running.done.then(() => undefined, () => undefined);
    try {
      await Promise.race([ended, gone.then(() => new Promise<void>((r) => setTimeout(r, 1_000).unref?.()))]);
    } finally {
      clearTimeout(timer);
      clearTimeout(grace);
      signal?.removeEventListener('abort', onAbort);
      stream.destroy();
    }
    return reason;
  }

  /**
   * Leave nothing of the previous step behind (`SCRUB_SCRIPT`); true when the container is clean
   * and may run the next step, false when the caller must start a fresh one.
   */
  async scrub(): Promise<boolean> {
    const res = await this.exec({ cmd: ['sh', '-c', SCRUB_SCRIPT], timeoutMs: 15_000, logCapBytes: 4096 });
    const clean = res.status === 'exited' && res.exitCode === 0 && !res.overCap;
    if (clean) this.dirty = false;
    else this.logger.warn(`gate container ${this.containerId.slice(0, 12)}: the previous step could not be cleared (${res.error ?? `exit ${res.exitCode}`}); a fresh container runs the next step`);
    return clean;
  }

  /** Kill and remove the container (idempotent); resolves once the engine has removed it. */
  async close(): Promise<ContainerResult | undefined> {
    this.stop.abort();
    return this.running.done.catch(() => undefined);
  }
}
