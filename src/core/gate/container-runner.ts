import type Docker from 'dockerode';
import { connectDocker } from '../docker/connect';
import { ExecSession, type ExecResult } from '../sandbox/exec-session';
import { DEFAULT_JOB_LIMITS, logCapOf, runJob, type ContainerJob, type JobLimits, type JobResult } from '../sandbox/job';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { DEFAULT_OUTPUT_CAP, TailBuffer, type CommandOutcome, type CommandSpec, type StageRunner } from './stage-runner';

export interface ContainerRunnerOptions {
  /**
   * The tree under test on the host, mounted at /workspace; never a folder that contains `.git`.
   * A function is called once, at the first command (so a gate-cache hit never pays for a copy).
   */
  treeDir: string | (() => Promise<string>);
  image: string;
  /** The Worker's limits; the growth and log caps default to the config schema's. */
  limits: Pick<JobLimits, 'memoryMb' | 'cpus' | 'pidsLimit' | 'tmpfsMb'> & Partial<JobLimits>;
  /** Numeric non-root `uid:gid`; default the Worker's (`workerIdentity`). */
  user?: string;
  /** Mount the tree read-only (the working tree); a Controller-owned copy may be writable. */
  readOnly: boolean;
  /** Labels of the gate containers (the reaper and `docker ps` use them). */
  runId: string;
  ticket: string;
  /** The repository the gate runs for (labelled, so a reaper records only its own). */
  repo?: string;
  /** Host folder the reaper deletes if a gate container is found orphaned (a temp copy). */
  cleanupPath?: string;
  docker?: Docker;
  logger?: Logger;
  outputCap?: number;
  /** Called with each gate container's id once it runs (tests inspect the hardening with it). */
  onContainerStart?: (containerId: string) => void | Promise<void>;
  /**
   * A fresh container per command (the Gate before issue 18: ≈ 0.5 s more per step). Kept for the
   * benchmark's comparison and for a caller that cannot call `close`. Default: one container per Gate.
   */
  perStep?: boolean;
}

/** Extra life of a Gate's container beyond the sum of its steps' caps: engine calls and scrubs between steps. */
const SESSION_SLACK_MS = 30_000;

/** One Gate step's container: the tree under test at /workspace (read-only unless the Controller owns a copy), the Worker's limits. */
export function gateJob(opts: ContainerRunnerOptions, spec: CommandSpec, treeDir: string): ContainerJob {
  return {
    role: 'gate',
    image: opts.image,
    cmd: spec.argv,
    env: { CI: 'true', NO_COLOR: '1', ...(spec.env ?? {}) },
    ...(opts.user ? { user: opts.user } : {}),
    mounts: [{ hostPath: treeDir, containerPath: '/workspace', readOnly: opts.readOnly }],
    limits: { ...DEFAULT_JOB_LIMITS, ...opts.limits },
    labels: { runId: opts.runId, ticket: opts.ticket, ...(opts.repo ? { repo: opts.repo } : {}) },
    timeoutMs: spec.timeoutMs,
    ...(opts.cleanupPath ? { cleanupPath: opts.cleanupPath } : {}),
  };
}

/**
 * The container of a whole Gate: the same hardening as a step's, its main process only a
 * keep-alive (as another user) bounded by `timeoutMs`; the steps run in it with `docker exec`.
 */
export function gateSessionJob(opts: ContainerRunnerOptions, timeoutMs: number, treeDir: string): ContainerJob {
  return { ...gateJob(opts, { argv: ['sleep'], timeoutMs }, treeDir), env: { CI: 'true', NO_COLOR: '1' } };
}

/**
 * The default Gate runner (`gate.runIn: "container"`): the guards and stages run in ONE hardened
 * container (network none, caps dropped, read-only root, limits) over the tree under test,
 * because that code is the Worker's and is not trusted on the host. It is created at the first
 * command (a cache hit starts none), each command is a `docker exec` as the Worker's user, and
 * between two commands every process of that user is killed and the tmpfs folders emptied
 * (`ExecSession.scrub`; a container that cannot be cleared is replaced). A time cap or an abort
 * removes the container; `close` removes it at the end of the Gate (`runGate` calls it).
 */
export class ContainerRunner implements StageRunner {
  readonly kind = 'container' as const;
  private docker: Docker | undefined;
  private imageId: Promise<string> | undefined;
  private tree: Promise<string> | undefined;
  private session: ExecSession | undefined;

  constructor(private readonly opts: ContainerRunnerOptions) {
    this.docker = opts.docker;
  }

  private async engine(signal?: AbortSignal): Promise<Docker> {
    this.docker ??= (await connectDocker({ ...(signal ? { signal } : {}) })).docker;
    return this.docker;
  }

  /** The image id (`sha256:…`): a PASS on another build of the image is not reused. */
  identity(signal?: AbortSignal): Promise<string> {
    this.imageId ??= (async () => {
      const docker = await this.engine(signal);
      try {
        const info = await docker.getImage(this.opts.image).inspect();
        return info.Id;
      } catch (err) {
        throw new FactoryError(
          `gate image ${this.opts.image} is not available (${errorMessage(err).replace(/\s+/g, ' ').slice(0, 120)}); build it ("Factory: Build Worker Image", or scripts/build-worker-image.sh for the base image), set worker.image in .factory/config.json, or use gate.runIn "host" for trusted code`,
          'gate.image',
        );
      }
    })();
    return this.imageId;
  }

  async run(spec: CommandSpec, signal?: AbortSignal): Promise<CommandOutcome> {
    const t0 = Date.now();
    let docker: Docker;
    try {
      docker = await this.engine(signal);
    } catch (err) {
      return { exitCode: null, timedOut: false, aborted: false, startError: errorMessage(err), durationMs: Date.now() - t0, output: '', truncated: false };
    }
    let treeDir: string;
    try {
      const src = this.opts.treeDir;
      this.tree ??= typeof src === 'string' ? Promise.resolve(src) : src();
      treeDir = await this.tree;
    } catch (err) {
      return { exitCode: null, timedOut: false, aborted: false, startError: `cannot prepare the tree: ${errorMessage(err)}`, durationMs: Date.now() - t0, output: '', truncated: false };
    }
    if (this.opts.perStep) return this.runFresh(docker, spec, treeDir, signal);
    return this.runInSession(docker, spec, treeDir, signal);
  }

  /** Remove the Gate's container, if one runs. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  /** The Gate's container, clean for the next command: opened at the first, replaced when it cannot serve this one. */
  private async sessionFor(docker: Docker, spec: CommandSpec, treeDir: string): Promise<ExecSession> {
    let session = this.session;
    if (session && (!session.alive || session.remainingMs() < spec.timeoutMs + 5_000)) await this.close();
    else if (session?.dirty && !(await session.scrub())) await this.close();
    session = this.session;
    if (session) return session;
    const job = gateSessionJob(this.opts, Math.max(spec.sessionTimeoutMs ?? 0, spec.timeoutMs) + SESSION_SLACK_MS, treeDir);
    session = await ExecSession.open(job, { docker, logger: this.opts.logger ?? nullLogger, ...(this.opts.onContainerStart ? { onStart: this.opts.onContainerStart } : {}) });
    this.session = session;
    return session;
  }

  private async runInSession(docker: Docker, spec: CommandSpec, treeDir: string, signal?: AbortSignal): Promise<CommandOutcome> {
    const t0 = Date.now();
    let session: ExecSession;
    try {
      session = await this.sessionFor(docker, spec, treeDir);
    } catch (err) {
      return { exitCode: null, timedOut: false, aborted: signal?.aborted ?? false, startError: `cannot start the gate container: ${errorMessage(err)}`, durationMs: Date.now() - t0, output: '', truncated: false };
    }
    const buf = new TailBuffer(this.opts.outputCap ?? DEFAULT_OUTPUT_CAP);
    const res = await session.exec(
      {
        cmd: spec.argv,
        env: { CI: 'true', NO_COLOR: '1', ...(spec.env ?? {}) },
        timeoutMs: spec.timeoutMs,
        logCapBytes: logCapOf(gateJob(this.opts, spec, treeDir)),
        onOutput: (_s, chunk) => {
          buf.push(chunk);
          spec.onOutput?.(chunk);
        },
      },
      signal,
    );
    if (res.status !== 'exited') await this.close(); // a killed or lost step takes its container with it
    return this.outcome(res, buf, res.logTruncated);
  }

  /** The way before issue 18: one fresh container for this command alone. */
  private async runFresh(docker: Docker, spec: CommandSpec, treeDir: string, signal?: AbortSignal): Promise<CommandOutcome> {
    const buf = new TailBuffer(this.opts.outputCap ?? DEFAULT_OUTPUT_CAP);
    const res = await runJob(
      gateJob(this.opts, spec, treeDir),
      {
        docker,
        ...(signal ? { signal } : {}),
        logger: this.opts.logger ?? nullLogger,
        onOutput: (_s, chunk) => {
          buf.push(chunk);
          spec.onOutput?.(chunk);
        },
        ...(this.opts.onContainerStart ? { onStart: this.opts.onContainerStart } : {}),
      },
    );
    return this.outcome(res, buf, res.logTruncated);
  }

  /** A step's outcome from what the engine reported: the growth cap first, then how it ended. */
  private outcome(res: JobResult | ExecResult, buf: TailBuffer, logTruncated: boolean): CommandOutcome {
    const base = { durationMs: res.durationMs, output: buf.text(), truncated: buf.truncated || logTruncated };
    if (res.overCap) {
      const cap = this.opts.limits.workspaceMb ?? DEFAULT_JOB_LIMITS.workspaceMb;
      return { ...base, exitCode: null, timedOut: false, aborted: false, startError: `the step wrote more than ${cap} MiB into the tree and was stopped` };
    }
    switch (res.status) {
      case 'exited':
        return { ...base, exitCode: res.exitCode, timedOut: false, aborted: false };
      case 'timeout':
        return { ...base, exitCode: null, timedOut: true, aborted: false };
      case 'killed':
        return { ...base, exitCode: null, timedOut: false, aborted: true };
      case 'error':
        return { ...base, exitCode: null, timedOut: false, aborted: false, startError: res.error ?? 'container error' };
    }
  }
}
